package ipvslive

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// writerKernel is a fake IPVS that is read (Reader) and written
// (DestWriter): one snapshot whose real server weights SetDest changes.
type writerKernel struct {
	mu       sync.Mutex
	services []ipvsstats.Service
	writes   int
	// failWrite, when > 0, fails the write with that number (1-based) with
	// EIO, as a kernel that refuses it, once.
	failWrite int
	// beforeWrite runs before each write, with the lock held: a test's
	// chance to change the table between TestSet and Commit.
	beforeWrite func(k *writerKernel)
}

// newWriterKernel has two TCP services: 10.0.0.1:80 with real servers
// .11, .12, .13 of weights 3, 5, 0, and 10.0.0.2:80 with .21 of weight 2.
func newWriterKernel() *writerKernel {
	dest := func(last byte, w int32) ipvsstats.Dest {
		return ipvsstats.Dest{DestKey: ipvsstats.DestKey{Addr: netip.AddrFrom4([4]byte{10, 0, 1, last}), Port: 8080},
			Family: ipvsstats.FamilyIPv4, FwdMethod: ipvsstats.FwdRoute, Weight: w, UpperThreshold: 100}
	}
	svc := func(last byte, dests ...ipvsstats.Dest) ipvsstats.Service {
		return ipvsstats.Service{ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4, Protocol: ipvsstats.ProtoTCP,
			Addr: netip.AddrFrom4([4]byte{10, 0, 0, last}), Port: 80}, Scheduler: "wrr", Dests: dests}
	}
	return &writerKernel{services: []ipvsstats.Service{
		svc(1, dest(11, 3), dest(12, 5), dest(13, 0)),
		svc(2, dest(21, 2)),
	}}
}

func (k *writerKernel) Read(context.Context) (*ipvsstats.Snapshot, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	snap := &ipvsstats.Snapshot{Info: ipvsstats.Info{VersionCode: 0x010201}, ReadAt: time.Now()}
	for _, s := range k.services {
		s.Dests = slices.Clone(s.Dests)
		snap.Services = append(snap.Services, s)
	}
	return snap, nil
}

func (k *writerKernel) SetDest(_ context.Context, svc ipvsstats.ServiceKey, d ipvsstats.Dest) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.beforeWrite != nil {
		k.beforeWrite(k)
	}
	k.writes++
	if k.writes == k.failWrite {
		k.failWrite = 0
		return fmt.Errorf("set real server: %w", syscall.EIO)
	}
	for i := range k.services {
		if k.services[i].ServiceKey != svc {
			continue
		}
		for j := range k.services[i].Dests {
			if k.services[i].Dests[j].DestKey == d.DestKey {
				k.services[i].Dests[j] = d
				return nil
			}
		}
	}
	return fmt.Errorf("set real server %s: %w", d.Label(), syscall.ENOENT)
}

// weights returns every real server's weight by "service real" name.
func (k *writerKernel) weights() map[string]int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string]int32{}
	for _, s := range k.services {
		for _, d := range s.Dests {
			out[s.Label()+" "+d.Label()] = d.Weight
		}
	}
	return out
}

// remove deletes real server last of service 1 (k.mu held or not yet shared).
func (k *writerKernel) remove(last byte) {
	ds := k.services[0].Dests
	k.services[0].Dests = slices.DeleteFunc(ds, func(d ipvsstats.Dest) bool { return d.Addr.As4()[3] == last })
}

// newWritable serves k writable, its drained weights kept in the state file
// at path ("" for none), logging to logs.
func newWritable(t *testing.T, ctx context.Context, k *writerKernel, path string, logs *logRecorder) *Writable {
	t.Helper()
	store, err := OpenIndexStore(path)
	if path == "" {
		store, err = OpenIndexStoreReadOnly(filepath.Join(t.TempDir(), "none"))
	}
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(logs)
	src := New(ctx, Config{Reader: k, Indexes: store.Indexes(""), Logger: log})
	src.Refresh(ctx)
	return NewWritable(src, WritableConfig{Writer: k, Context: "lb", Logger: log})
}

// runSet runs one SET as a master does: TestSet, CommitSet, UndoSet after a
// failed commit, CleanupSet. It returns the first error and its varbind's
// index (0-based).
func runSet(w agent.Setter, vbs ...agentx.VarBind) (agentx.ErrorStatus, int) {
	txn, i, e := w.TestSet(vbs)
	if e != agentx.NoError {
		return e, i
	}
	defer txn.Cleanup()
	if i, e := txn.Commit(); e != agentx.NoError {
		txn.Undo()
		return e, i
	}
	return agentx.NoError, 0
}

// Instances of the writable columns and others, by row.
func realWeight(s, r uint32) agentx.OID { return lvs(18, 1, 6, s, r) }
func realState(s, r uint32) agentx.OID  { return lvs(18, 1, 33, s, r) }
func serviceState(s uint32) agentx.OID  { return lvs(17, 1, 35, s) }
func setInt(o agentx.OID, v int32) agentx.VarBind {
	return agentx.VarBind{Name: o, Type: agentx.Integer, Int: v}
}

// The rows of newWriterKernel: service 1 is 10.0.0.1:80 with real servers
// 1, 2, 3 (.11, .12, .13); service 2 is 10.0.0.2:80 with 1 (.21).
const (
	s1r1 = "TCP 10.0.0.1:80 10.0.1.11:8080"
	s1r2 = "TCP 10.0.0.1:80 10.0.1.12:8080"
	s1r3 = "TCP 10.0.0.1:80 10.0.1.13:8080"
	s2r1 = "TCP 10.0.0.2:80 10.0.1.21:8080"
)

func TestWritableSets(t *testing.T) {
	start := map[string]int32{s1r1: 3, s1r2: 5, s1r3: 0, s2r1: 2}
	with := func(kv ...any) map[string]int32 {
		m := maps.Clone(start)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = int32(kv[i+1].(int))
		}
		return m
	}
	str := agentx.VarBind{Name: realWeight(1, 1), Type: agentx.OctetString, Bytes: []byte("0")}
	gauge := agentx.VarBind{Name: realWeight(1, 1), Type: agentx.Gauge32, Uint: 0}
	tests := []struct {
		name  string
		sets  [][]agentx.VarBind // run one after the other; the last's result is checked
		err   agentx.ErrorStatus
		index int
		want  map[string]int32
		// lvsChanges grows by each change the SETs made and by each
		// change the reads after them see (a weight going to 0 is also
		// a real server quiesced, ...).
		made, seen uint64
	}{
		{"drain a real server", [][]agentx.VarBind{{setInt(realState(1, 1), 2)}}, 0, 0, with(s1r1, 0), 1, 1},
		{"drain, enable: the weight comes back", [][]agentx.VarBind{{setInt(realState(1, 2), 2)}, {setInt(realState(1, 2), 1)}},
			0, 0, start, 2, 2},
		{"enable with no weight remembered: 1", [][]agentx.VarBind{{setInt(realState(1, 3), 1)}}, 0, 0, with(s1r3, 1), 1, 1},
		{"enable an enabled one: nothing", [][]agentx.VarBind{{setInt(realState(1, 1), 1)}}, 0, 0, start, 0, 0},
		{"drain a drained one: nothing", [][]agentx.VarBind{{setInt(realState(1, 3), 2)}}, 0, 0, start, 0, 0},
		{"a weight", [][]agentx.VarBind{{setInt(realWeight(2, 1), 65535)}}, 0, 0, with(s2r1, 65535), 1, 0},
		{"weight 0 keeps the drained weight", [][]agentx.VarBind{{setInt(realState(1, 2), 2)}, {setInt(realWeight(1, 2), 0)},
			{setInt(realState(1, 2), 1)}}, 0, 0, start, 2, 2},
		// Quiesced twice, and the service down.
		{"drain a service", [][]agentx.VarBind{{setInt(serviceState(1), 2)}}, 0, 0, with(s1r1, 0, s1r2, 0), 2, 3},
		// The real server at weight 0 before the drain (a sorry
		// server) stays there.
		{"drain and enable a service", [][]agentx.VarBind{{setInt(serviceState(1), 2)}, {setInt(serviceState(1), 1)}},
			0, 0, start, 4, 6},
		{"enable a service drained by hand: all to 1", [][]agentx.VarBind{{setInt(realWeight(1, 1), 0), setInt(realWeight(1, 2), 0)},
			{setInt(serviceState(1), 1)}}, 0, 0, with(s1r1, 1, s1r2, 1, s1r3, 1), 5, 7},
		{"several in one SET", [][]agentx.VarBind{{setInt(realWeight(1, 1), 7), setInt(realState(2, 1), 2)}},
			0, 0, with(s1r1, 7, s2r1, 0), 2, 2},
		{"a wrong type", [][]agentx.VarBind{{str}}, agentx.WrongType, 0, start, 0, 0},
		{"a Gauge32 weight", [][]agentx.VarBind{{gauge}}, agentx.WrongType, 0, start, 0, 0},
		{"a weight above ipvsadm's", [][]agentx.VarBind{{setInt(realWeight(1, 1), 65536)}}, agentx.WrongValue, 0, start, 0, 0},
		{"a negative weight", [][]agentx.VarBind{{setInt(realWeight(1, 1), -1)}}, agentx.WrongValue, 0, start, 0, 0},
		{"a state that is none", [][]agentx.VarBind{{setInt(realState(1, 1), 3)}}, agentx.WrongValue, 0, start, 0, 0},
		{"a service state that is none", [][]agentx.VarBind{{setInt(serviceState(1), 0)}}, agentx.WrongValue, 0, start, 0, 0},
		{"a column that is not writable", [][]agentx.VarBind{{setInt(lvs(18, 1, 4, 1, 1), 81)}}, agentx.NotWritable, 0, start, 0, 0},
		{"a scalar", [][]agentx.VarBind{{setInt(lvs(2, 0), 1)}}, agentx.NotWritable, 0, start, 0, 0},
		{"outside the MIB", [][]agentx.VarBind{{setInt(agentx.OID{1, 3, 6, 1, 2, 1, 1, 5, 0}, 1)}}, agentx.NotWritable, 0, start, 0, 0},
		{"a real server that does not exist", [][]agentx.VarBind{{setInt(realWeight(1, 9), 1)}}, agentx.NoCreation, 0, start, 0, 0},
		{"a service that does not exist", [][]agentx.VarBind{{setInt(serviceState(7), 2)}}, agentx.NoCreation, 0, start, 0, 0},
		{"an index too long", [][]agentx.VarBind{{setInt(append(realWeight(1, 1), 1), 1)}}, agentx.NoCreation, 0, start, 0, 0},
		{"one invalid among valid ones", [][]agentx.VarBind{{setInt(realWeight(1, 1), 1), setInt(realWeight(1, 2), 1),
			setInt(realWeight(1, 3), 70000), setInt(realState(2, 1), 2)}}, agentx.WrongValue, 2, start, 0, 0},
		{"a real server twice", [][]agentx.VarBind{{setInt(realWeight(1, 1), 1), setInt(realState(1, 1), 2)}},
			agentx.InconsistentValue, 1, start, 0, 0},
		{"a real server and its service", [][]agentx.VarBind{{setInt(realWeight(1, 2), 1), setInt(serviceState(1), 2)}},
			agentx.InconsistentValue, 1, start, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			k := newWriterKernel()
			w := newWritable(t, ctx, k, "", &logRecorder{})
			var e agentx.ErrorStatus
			var i int
			for n, vbs := range tt.sets {
				if e, i = runSet(w, vbs...); n < len(tt.sets)-1 && e != agentx.NoError {
					t.Fatalf("SET %d: %d at %d", n, e, i)
				}
			}
			if e != tt.err || i != tt.index {
				t.Errorf("SET: error %d at %d, want %d at %d", e, i, tt.err, tt.index)
			}
			if got := k.weights(); !maps.Equal(got, tt.want) {
				t.Errorf("kernel weights %v, want %v", got, tt.want)
			}
			// A GET right after sees the kernel, and lvsChanges counts
			// each change the SETs made.
			v := w.CurrentView()
			for _, s := range k.services {
				sn, _ := w.cfg.Indexes.Lookup(s.ServiceKey, nil)
				for _, d := range s.Dests {
					_, rn := w.cfg.Indexes.Lookup(s.ServiceKey, &d.DestKey)
					if got := v.Get(realWeight(uint32(sn), uint32(rn))); got.Int != d.Weight {
						t.Errorf("GET weight %d.%d = %d, kernel %d", sn, rn, got.Int, d.Weight)
					}
					if got, want := v.Get(realState(uint32(sn), uint32(rn))).Int, map[bool]int32{true: 1, false: 2}[d.Weight > 0]; got != want {
						t.Errorf("GET state %d.%d = %d, want %d", sn, rn, got, want)
					}
				}
			}
			if got := v.Get(lvs(11, 0)).Uint; got != tt.made+tt.seen {
				t.Errorf("lvsChanges = %d, want %d + %d", got, tt.made, tt.seen)
			}
		})
	}
}

// TestWritableServiceState: a service reads drained while every real server
// of it has weight 0, and enabled without real servers.
func TestWritableServiceState(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k := newWriterKernel()
	k.services = append(k.services, ipvsstats.Service{ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4,
		Protocol: ipvsstats.ProtoUDP, Addr: netip.MustParseAddr("10.0.0.3"), Port: 53}})
	w := newWritable(t, ctx, k, "", &logRecorder{})
	state := func(s uint32) int32 { return w.CurrentView().Get(serviceState(s)).Int }
	if state(1) != 1 || state(2) != 1 || state(3) != 1 {
		t.Fatalf("states %d %d %d, want enabled", state(1), state(2), state(3))
	}
	if e, _ := runSet(w, setInt(realState(1, 1), 2), setInt(realState(1, 2), 2)); e != agentx.NoError {
		t.Fatal(e)
	}
	if state(1) != 2 {
		t.Errorf("service whose real servers are all drained: %d, want drained(2)", state(1))
	}
	if e, i := runSet(w, setInt(serviceState(3), 2)); e != agentx.NoError || state(3) != 1 {
		t.Errorf("draining a service without real servers: %d at %d, state %d; want nothing done, enabled", e, i, state(3))
	}
}

// A failed write undoes those before it: the kernel is as before, and the
// drained weights remembered are too.
func TestWritableCommitFailsUndone(t *testing.T) {
	tests := []struct {
		name  string
		setup func(k *writerKernel)
		index int
	}{
		// The second real server of service 1 is deleted after TestSet:
		// the kernel refuses its write (ENOENT).
		{"a real server deleted between TestSet and Commit", func(k *writerKernel) {
			k.beforeWrite = func(k *writerKernel) {
				if k.writes == 0 {
					k.remove(12)
				}
			}
		}, 0},
		{"the kernel refuses the third write", func(k *writerKernel) { k.failWrite = 3 }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			k := newWriterKernel()
			logs := &logRecorder{}
			w := newWritable(t, ctx, k, filepath.Join(t.TempDir(), "state.json"), logs)
			before := k.weights()
			txn, _, e := w.TestSet([]agentx.VarBind{setInt(serviceState(1), 2), setInt(realWeight(2, 1), 9)})
			if e != agentx.NoError {
				t.Fatal(e)
			}
			tt.setup(k)
			i, e := txn.Commit()
			if e != agentx.CommitFailed || i != tt.index {
				t.Fatalf("Commit: %d at %d, want commitFailed at %d", e, i, tt.index)
			}
			if _, e := txn.Undo(); e != agentx.NoError {
				t.Fatalf("Undo: %d", e)
			}
			txn.Cleanup()
			got := k.weights()
			delete(before, s1r2)
			delete(got, s1r2)
			if !maps.Equal(got, before) {
				t.Errorf("after the undo: %v, want %v", got, before)
			}
			for _, s := range k.services {
				for _, d := range s.Dests {
					if dw := w.cfg.Indexes.DrainedWeight(s.ServiceKey, d.DestKey); dw != 0 {
						t.Errorf("%s still remembers %d", d.Label(), dw)
					}
				}
			}
			if logs.count("SET committed") != 0 || logs.count("SET failed") != 1 || logs.count("SET undone") == 0 {
				t.Errorf("log: %v", logs.lines())
			}
			if e, _ := runSet(w, setInt(realState(2, 1), 2)); e != agentx.NoError {
				t.Errorf("the next SET: %d", e)
			}
		})
	}
}

// One SET at a time: a TestSet while another is open is refused until that
// one's Cleanup, and GETs are answered meanwhile.
func TestWritableOneAtATime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k := newWriterKernel()
	w := newWritable(t, ctx, k, "", &logRecorder{})
	txn, _, e := w.TestSet([]agentx.VarBind{setInt(realWeight(1, 1), 4)})
	if e != agentx.NoError {
		t.Fatal(e)
	}
	if _, i, e := w.TestSet([]agentx.VarBind{setInt(realWeight(1, 1), 6)}); e != agentx.ResourceUnavailable || i != 0 {
		t.Errorf("second TestSet: %d at %d, want resourceUnavailable", e, i)
	}
	if got := w.CurrentView().Get(realWeight(1, 1)); got.Int != 3 {
		t.Errorf("GET during the SET: %+v, want the weight before it, 3", got)
	}
	txn.Commit()
	txn.Cleanup()
	txn.Cleanup() // a second Cleanup must not unlock someone else's SET
	if e, _ := runSet(w, setInt(realWeight(1, 1), 6)); e != agentx.NoError || k.weights()[s1r1] != 6 {
		t.Errorf("SET after Cleanup: %d, weight %d", e, k.weights()[s1r1])
	}
}

// Drained weights survive a restart in the state file, which stays
// readable by agents that know none (no field when nothing is drained).
func TestWritableDrainedWeightSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	k := newWriterKernel()
	ctx, cancel := context.WithCancel(context.Background())
	w := newWritable(t, ctx, k, path, &logRecorder{})
	if e, _ := runSet(w, setInt(serviceState(1), 2)); e != agentx.NoError {
		t.Fatal(e)
	}
	cancel()
	data := readFile(t, path)
	if !strings.Contains(data, `"drained_weight":3`) || !strings.Contains(data, `"drained_weight":5`) {
		t.Errorf("state file lacks the drained weights: %s", data)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	w = newWritable(t, ctx, k, path, &logRecorder{})
	if e, _ := runSet(w, setInt(serviceState(1), 1)); e != agentx.NoError {
		t.Fatal(e)
	}
	if got, want := k.weights(), map[string]int32{s1r1: 3, s1r2: 5, s1r3: 0, s2r1: 2}; !maps.Equal(got, want) {
		t.Errorf("after the restart and enabled: %v, want %v", got, want)
	}
	if data := readFile(t, path); strings.Contains(data, "drained_weight") {
		t.Errorf("state file keeps weights no longer drained: %s", data)
	}
}

// The audit log: one line per change, with the context, the service and
// real server names, and the old and new weights.
func TestWritableLogsEachChange(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k := newWriterKernel()
	logs := &logRecorder{}
	w := newWritable(t, ctx, k, "", logs)
	if e, _ := runSet(w, setInt(serviceState(1), 2), setInt(realWeight(2, 1), 4)); e != agentx.NoError {
		t.Fatal(e)
	}
	want := []string{
		`SET committed context=lb service="TCP 10.0.0.1:80" real=10.0.1.11:8080 object=lvsServiceAdminState old_weight=3 new_weight=0`,
		`SET committed context=lb service="TCP 10.0.0.1:80" real=10.0.1.12:8080 object=lvsServiceAdminState old_weight=5 new_weight=0`,
		`SET committed context=lb service="TCP 10.0.0.2:80" real=10.0.1.21:8080 object=lvsRealServerWeight old_weight=2 new_weight=4`,
	}
	var got []string
	for _, l := range logs.lines() {
		if strings.HasPrefix(l, "SET") {
			got = append(got, l)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("log lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// failingReader is an IPVS that cannot be read.
type failingReader struct{}

func (failingReader) Read(context.Context) (*ipvsstats.Snapshot, error) { return nil, syscall.EPERM }

// An unreadable IPVS refuses the SET before anything is checked.
func TestWritableIPVSUnreadable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := New(ctx, Config{Reader: failingReader{}, Indexes: NewIndexes(), Logger: slog.New(slog.DiscardHandler)})
	w := NewWritable(src, WritableConfig{Writer: newWriterKernel()})
	if _, i, e := w.TestSet([]agentx.VarBind{setInt(realWeight(1, 1), 1)}); e != agentx.ResourceUnavailable || i != 0 {
		t.Errorf("TestSet: %d at %d, want resourceUnavailable", e, i)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
