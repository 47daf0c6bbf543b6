package ipvsstats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// openReplay returns a Reader over r.
func openReplay(t testing.TB, r *replay, opts Options) *Reader {
	t.Helper()
	rd, err := open(opts, r.dial)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	return rd
}

// readFixtures reads the recorded table through Read.
func readFixtures(t testing.TB) *Snapshot {
	t.Helper()
	s, err := openReplay(t, newReplay(t), Options{}).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixtureSnapshot is snapshot.json: the reader's view of the recorded
// table in the guest it was recorded in, which the end-to-end test proved
// equal to ipvsadm's.
func fixtureSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want Snapshot
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	return &want
}

// sameSnapshot compares two snapshots but for when and how fast they were
// read.
func sameSnapshot(t testing.TB, got, want *Snapshot) {
	t.Helper()
	w := *want
	w.ReadAt, w.ReadDuration = got.ReadAt, got.ReadDuration
	if d := cmp.Diff(&w, got, cmp.Comparer(func(a, b ServiceKey) bool { return a == b }),
		cmp.Comparer(func(a, b DestKey) bool { return a == b }),
		cmp.Comparer(func(a, b Daemon) bool { return a == b })); d != "" {
		t.Errorf("snapshot differs (-want +got):\n%s", d)
	}
}

// TestReadDatagrams reads the recorded table however the kernel splits its
// dumps into datagrams: a dump of several datagrams makes Read check the
// real servers against a second dump.
func TestReadDatagrams(t *testing.T) {
	want := fixtureSnapshot(t)
	for _, tt := range []struct {
		name        string
		perDatagram int
		destDumps   int // GET_DEST requests: one per service, plus a check per split dump
	}{
		// The 9 services have 1, 2, 3, 2, 1, 2, 1, 1 and 1 real servers;
		// NLMSG_DONE ends each dump.
		{"whole replies", 0, 9},
		{"one message per datagram", 1, 9 + 4},
		{"two messages per datagram", 2, 9 + 1},
		{"three messages per datagram", 3, 9},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newReplay(t)
			r.perDatagram = tt.perDatagram
			got, err := openReplay(t, r, Options{}).Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			sameSnapshot(t, got, want)
			if n := r.count(cmdGetDest); n != tt.destDumps {
				t.Errorf("%d GET_DEST requests, want %d", n, tt.destDumps)
			}
			if n := r.count(cmdGetService); n != 2 {
				t.Errorf("%d GET_SERVICE requests, want 2 (the dump and its check)", n)
			}
		})
	}
}

// TestReadAgain reads twice over one socket: the second read reuses it
// with new sequence numbers and ignores a late reply to the first.
func TestReadAgain(t *testing.T) {
	r := newReplay(t)
	dials := 0
	rd, err := open(Options{}, func() (endpoint, error) { dials++; return r.dial() })
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	first, err := rd.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stale := fixtureRaw(t, "info.bin")[0]
	readdress(stale, r.requests[0].seq)
	r.script = func(req request, msgs [][]byte) []datagram {
		if req.cmd == cmdGetInfo {
			return append([]datagram{{b: stale}}, r.pack(msgs)...)
		}
		return r.pack(msgs)
	}
	second, err := rd.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, second, first)
	if dials != 1 {
		t.Errorf("%d dials, want 1", dials)
	}
	if a, b := r.requests[0].seq, r.requests[len(r.requests)-1].seq; b <= a {
		t.Errorf("sequence numbers not increasing: %d then %d", a, b)
	}
}

// onNth makes a script that rewrites the reply to the nth request (from 1)
// of command cmd with edit. The messages edit adds need no addressing.
func onNth(cmd uint8, nth int, edit func(msgs [][]byte) [][]byte) func(*replay) {
	return func(r *replay) {
		seen := 0
		r.script = func(req request, msgs [][]byte) []datagram {
			if req.cmd == cmd {
				if seen++; seen == nth || nth == 0 {
					msgs = edit(msgs)
					for _, m := range msgs {
						readdress(m, req.seq)
					}
				}
			}
			return r.pack(msgs)
		}
	}
}

// everyDump rewrites every reply to command cmd with edit.
func everyDump(cmd uint8, edit func(msgs [][]byte) [][]byte) func(*replay) {
	return onNth(cmd, 0, edit)
}

func interrupt(msgs [][]byte) [][]byte {
	setFlags(msgs[0], nlmFDumpIntr)
	return msgs
}

// TestReadTorn tears a dump in the ways a table changing during the read
// does: Read must notice, read again and return the consistent table, or
// give up with ErrInconsistent when every attempt is torn.
func TestReadTorn(t *testing.T) {
	want := fixtureSnapshot(t)
	tests := []struct {
		name     string
		per      int
		setup    func(*replay)
		attempts int // GET_INFO requests: read attempts made
		err      error
	}{
		{"dump interrupted", 0, onNth(cmdGetService, 1, interrupt), 2, nil},
		{"dump interrupted in its last datagram", 2, onNth(cmdGetDaemon, 1, func(m [][]byte) [][]byte {
			setFlags(m[len(m)-1], nlmFDumpIntr)
			return m
		}), 2, nil},
		{"service listed twice", 0, onNth(cmdGetService, 1, func(m [][]byte) [][]byte {
			return append([][]byte{m[3]}, m...)
		}), 2, nil},
		{"service vanished before its real servers", 0, onNth(cmdGetDest, 4, func([][]byte) [][]byte {
			return [][]byte{errorMsg(syscall.ENOENT)}
		}), 2, nil},
		{"service removed before the check", 0, onNth(cmdGetService, 2, func(m [][]byte) [][]byte {
			return append(m[:2:2], m[3:]...)
		}), 2, nil},
		{"service added before the check", 0, onNth(cmdGetService, 2, func(m [][]byte) [][]byte {
			return append([][]byte{m[0]}, m...)
		}), 2, nil},
		{"real server listed twice", 0, onNth(cmdGetDest, 2, func(m [][]byte) [][]byte {
			return append([][]byte{m[0]}, m...)
		}), 2, nil},
		{"real servers changed between datagrams", 1, onNth(cmdGetDest, 3, func(m [][]byte) [][]byte {
			// The third request is the check of the second service's
			// two real servers: one is gone.
			return m[1:]
		}), 2, nil},
		{"torn every time", 0, everyDump(cmdGetService, interrupt), 5, ErrInconsistent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReplay(t)
			r.perDatagram = tt.per
			tt.setup(r)
			got, err := openReplay(t, r, Options{}).Read(context.Background())
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if err == nil {
				sameSnapshot(t, got, want)
			}
			if n := r.count(cmdGetInfo); n != tt.attempts {
				t.Errorf("%d attempts, want %d", n, tt.attempts)
			}
		})
	}
}

// TestReadAttempts: Options.Attempts bounds the re-reads.
func TestReadAttempts(t *testing.T) {
	r := newReplay(t)
	everyDump(cmdGetService, interrupt)(r)
	_, err := openReplay(t, r, Options{Attempts: 2}).Read(context.Background())
	if !errors.Is(err, ErrInconsistent) || r.count(cmdGetInfo) != 2 {
		t.Errorf("error %v after %d attempts, want ErrInconsistent after 2", err, r.count(cmdGetInfo))
	}
}

// TestReadErrors breaks a read in the middle of a dump. Read fails with an
// error that says why, drops the socket (it may hold the rest of the
// reply), and the next Read dials again and succeeds.
func TestReadErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*replay)
		err   error
	}{
		{"permission refused mid-dump", onNth(cmdGetService, 1, func(m [][]byte) [][]byte {
			return append(m[:2:2], errorMsg(syscall.EPERM))
		}), ErrPermission},
		{"kernel error in a real server dump", onNth(cmdGetDest, 1, func(m [][]byte) [][]byte {
			return [][]byte{errorMsg(syscall.ENOMEM)}
		}), syscall.ENOMEM},
		{"undecodable service", onNth(cmdGetService, 1, func(m [][]byte) [][]byte {
			m[1] = rawMsg(replayFamily, nlmFMulti, []byte{cmdNewService, 1, 0, 0, 8, 0, 9, 0, 1, 2})
			return m
		}), errMalformed},
		{"unexpected message type", onNth(cmdGetDaemon, 1, func(m [][]byte) [][]byte {
			return append([][]byte{rawMsg(99, nlmFMulti, nil)}, m...)
		}), errMalformed},
		{"short error message", onNth(cmdGetConfig, 1, func(m [][]byte) [][]byte {
			return [][]byte{rawMsg(nlmsgError, 0, []byte{1})}
		}), errMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReplay(t)
			tt.setup(r)
			dials := 0
			rd, err := open(Options{}, func() (endpoint, error) { dials++; return r.dial() })
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			if _, err := rd.Read(context.Background()); !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if !r.closed {
				t.Error("socket kept after a failed read")
			}
			r.script = nil
			if _, err := rd.Read(context.Background()); err != nil || dials != 2 {
				t.Errorf("next read: %v after %d dials, want success after 2", err, dials)
			}
		})
	}
}

// TestReadDatagramErrors: a receive that fails, or a datagram that cannot
// be split into messages, in the middle of a dump.
func TestReadDatagramErrors(t *testing.T) {
	tests := []struct {
		name string
		dg   datagram
		err  error
	}{
		{"receive fails", datagram{err: syscall.ENOBUFS}, syscall.ENOBUFS},
		{"truncated datagram", datagram{b: []byte{40, 0, 0, 0, 0x1c, 0}}, errMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReplay(t)
			r.perDatagram = 1
			r.script = func(req request, msgs [][]byte) []datagram {
				d := r.pack(msgs)
				if req.cmd == cmdGetService {
					d = append(append(d[:2:2], tt.dg), d[2:]...)
				}
				return d
			}
			_, err := openReplay(t, r, Options{}).Read(context.Background())
			if !errors.Is(err, tt.err) || !r.closed {
				t.Errorf("error %v, socket closed %v; want %v and closed", err, r.closed, tt.err)
			}
		})
	}
}

// TestReadKeepsInStep: a message that fails to decode does not stop the
// read of its dump, so that the reply is read to its end.
func TestReadKeepsInStep(t *testing.T) {
	r := newReplay(t)
	r.perDatagram = 1
	onNth(cmdGetDaemon, 1, func(m [][]byte) [][]byte {
		m[0] = rawMsg(replayFamily, nlmFMulti, []byte{cmdNewDaemon, 1, 0, 0})
		return m
	})(r)
	if _, err := openReplay(t, r, Options{}).Read(context.Background()); !errors.Is(err, errMalformed) {
		t.Fatalf("error %v, want errMalformed", err)
	}
	if last := r.requests[len(r.requests)-1]; last.cmd != cmdGetDaemon || r.unread != 0 {
		t.Errorf("last request: command %d; %d datagrams of its reply unread", last.cmd, r.unread)
	}
}

// TestReadDeadline: a context that ends fails the read with its error.
func TestReadDeadline(t *testing.T) {
	r := newReplay(t)
	rd := openReplay(t, r, Options{})
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := rd.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the context's", err)
	}
	if _, err := rd.Read(context.Background()); err != nil {
		t.Fatalf("read after the deadline: %v", err)
	}
}

// TestReadNotLoaded: a Reader opened before IPVS is loaded fails each Read
// with ErrNotLoaded until it is, then reads.
func TestReadNotLoaded(t *testing.T) {
	r := newReplay(t)
	loaded := false
	rd, err := open(Options{}, func() (endpoint, error) {
		if !loaded {
			return endpoint{}, ErrNotLoaded
		}
		return r.dial()
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Read(context.Background()); !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("error %v, want ErrNotLoaded", err)
	}
	loaded = true
	if _, err := rd.Read(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := rd.Close(); err != nil || !r.closed {
		t.Errorf("Close: %v, socket closed %v", err, r.closed)
	}
	if _, err := rd.Read(context.Background()); err == nil {
		t.Error("Read after Close succeeded")
	}
	if _, err := open(Options{}, func() (endpoint, error) { return endpoint{}, ErrNetNS }); !errors.Is(err, ErrNetNS) {
		t.Errorf("open: %v, want ErrNetNS", err)
	}
}

// TestDupDest finds a real server listed twice in small services (pairwise)
// and large ones (with a map).
func TestDupDest(t *testing.T) {
	dests := func(n int, dup bool) []Dest {
		ds := make([]Dest, n)
		for i := range ds {
			ds[i].Addr = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		}
		if dup {
			ds[n-1].DestKey = ds[0].DestKey
		}
		return ds
	}
	for _, n := range []int{2, 32, 33, 500} {
		for _, dup := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d real servers, duplicate %v", n, dup), func(t *testing.T) {
				ds := dests(n, dup)
				d, got := dupDest(ds)
				if got != dup || (dup && d.DestKey != ds[0].DestKey) {
					t.Errorf("dupDest = %v, %v", d, got)
				}
			})
		}
	}
}

// SetDest sends SET_DEST with the service's identity and every attribute
// of the real server the kernel sets, asks for an acknowledgement, and
// reports the kernel's refusal; a Read afterwards still works.
func TestSetDest(t *testing.T) {
	rp := newReplay(t)
	r := openReplay(t, rp, Options{})
	snap, err := r.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	svc := snap.Services[0]
	for _, s := range snap.Services {
		if len(s.Dests) > 0 {
			svc = s
			break
		}
	}
	d := svc.Dests[0]
	d.Weight, d.UpperThreshold, d.LowerThreshold = 0, 100, 10
	if err := r.SetDest(context.Background(), svc.ServiceKey, d); err != nil {
		t.Fatal(err)
	}
	want := setDest{svc: svc.ServiceKey, dest: Dest{DestKey: d.DestKey, Family: d.Family, FwdMethod: d.FwdMethod,
		Weight: 0, UpperThreshold: 100, LowerThreshold: 10, TunnelType: d.TunnelType, TunnelPort: d.TunnelPort,
		TunnelFlags: d.TunnelFlags}, ack: true}
	if len(rp.sets) != 1 || !reflect.DeepEqual(rp.sets[0], want) {
		t.Fatalf("SET_DEST requests %+v, want %+v", rp.sets, want)
	}

	gone := svc.ServiceKey
	gone.Port++
	err = r.SetDest(context.Background(), gone, d)
	if !errors.Is(err, syscall.ESRCH) || !strings.Contains(err.Error(), "set real server") {
		t.Errorf("SET_DEST of a service that does not exist: %v, want ESRCH", err)
	}
	if _, err := r.Read(context.Background()); err != nil {
		t.Errorf("Read after a refused SET_DEST: %v", err)
	}
	r.Close()
	if err := r.SetDest(context.Background(), svc.ServiceKey, d); err == nil {
		t.Error("SetDest on a closed reader succeeded")
	}
}
