package ipvslive

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
	"github.com/lvs-agentx/lvs-agentx/ipvsevents"
	"github.com/lvs-agentx/lvs-agentx/ipvsproc"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// fakeProc is a namespace's /proc: settings to hand out, a connection
// table whose read advances the clock by connCost, and a failure to give.
type fakeProc struct {
	mu       sync.Mutex
	clock    *fakeClock
	settings []ipvsproc.Setting
	entries  uint64
	connCost time.Duration
	fail     error
	connRead int // connection table reads
	closed   int
	block    chan struct{} // when set, a table read waits until it is closed
	started  atomic.Int32  // table reads begun
}

func (p *fakeProc) Totals() (ipvsproc.Totals, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return *fixture.Totals(), p.fail
}

func (p *fakeProc) Settings() ([]ipvsproc.Setting, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.settings), p.fail
}

func (p *fakeProc) Conns() (ipvsproc.ConnCounts, error) {
	p.started.Add(1)
	if p.block != nil {
		<-p.block
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.connRead++
	p.clock.Add(p.connCost)
	return ipvsproc.ConnCounts{Entries: p.entries}, p.fail
}

func (p *fakeProc) Close() error { p.closed++; return nil }

func (p *fakeProc) set(f func(p *fakeProc)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// healthSource is a Source over the fixture and p, opened after opens
// failures, that records its notifications.
func healthSource(t *testing.T, p *fakeProc, openFailures int) (*Source, *[]sentNotification, *logRecorder) {
	t.Helper()
	var sent []sentNotification
	logs := &logRecorder{}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := New(ctx, Config{Reader: &listReader{clock: p.clock, snaps: []*ipvsstats.Snapshot{fixture.Snapshot()}},
		Indexes: NewIndexes(), Logger: slog.New(logs), Now: p.clock.Now, AfterFunc: p.clock.AfterFunc,
		SysUpTimeAt: fixture.SysUpTimeAt, NotifyKinds: ipvsevents.AllKinds,
		Notify: func(trap agentx.OID, vbs []agentx.VarBind) { sent = append(sent, sentNotification{trap, vbs}) },
		OpenProc: func() (Proc, error) {
			if openFailures > 0 {
				openFailures--
				return nil, ipvsproc.ErrNoIPVS
			}
			return p, nil
		},
		ConnInterval: 5 * time.Second,
	})
	return s, &sent, logs
}

func TestHealthServed(t *testing.T) {
	p := &fakeProc{clock: &fakeClock{t: fixture.ReadAt}, settings: fixture.Settings(), entries: 7}
	s, _, logs := healthSource(t, p, 1)
	if v := s.Refresh(context.Background()); v.Get(lvs(20, 1, 0)).Type != agentx.NoSuchInstance {
		t.Errorf("totals served before /proc could be opened")
	}
	if logs.count("IPVS /proc files unreadable") != 1 {
		t.Errorf("the failure to open /proc was not logged")
	}
	v := s.Refresh(context.Background())
	if got := v.Get(lvs(20, 1, 0)); got.Uint != fixture.Totals().Conns {
		t.Errorf("lvsTotalConns = %+v", got)
	}
	if got := v.Get(lvs(21, 1, 0)); got.Uint != 7 {
		t.Errorf("lvsConnEntries = %+v", got)
	}
	if got := v.Get(lvs(23, 1, 0)); got.Int != 2 {
		t.Errorf("lvsDropEntry = %+v", got)
	}
	if logs.count("IPVS /proc files readable again") != 1 {
		t.Errorf("recovery not logged")
	}
	// A file that fails is closed, reopened by the next read, and served
	// again.
	p.set(func(p *fakeProc) { p.fail = errors.New("read error") })
	p.clock.Add(10 * time.Second)
	if v := s.Refresh(context.Background()); v.Get(lvs(21, 1, 0)).Type != agentx.NoSuchInstance || p.closed != 1 {
		t.Errorf("after a failure: lvsConnEntries %+v, closed %d times", v.Get(lvs(21, 1, 0)), p.closed)
	}
	p.set(func(p *fakeProc) { p.fail = nil; p.entries = 9 })
	if got := s.Refresh(context.Background()).Get(lvs(21, 1, 0)); got.Uint != 9 {
		t.Errorf("after recovery: lvsConnEntries = %+v", got)
	}
}

// The connection table is read once per ConnInterval, and less often when
// its read takes long: at most a tenth of the time. Its cost does not
// stretch the rest's.
func TestHealthConnSchedule(t *testing.T) {
	p := &fakeProc{clock: &fakeClock{t: fixture.ReadAt}, settings: fixture.Settings()}
	s, _, _ := healthSource(t, p, 0)
	read := func() (reads int, age agentx.VarBind) {
		v := s.Refresh(context.Background())
		return p.connRead, v.Get(lvs(21, 4, 0))
	}
	tests := []struct {
		advance, cost time.Duration
		reads         int
		age           uint64 // lvsConnDataAge, hundredths
	}{
		{0, 0, 1, 0},
		{time.Second, 0, 1, 100},
		{4 * time.Second, time.Second, 2, 100}, // 5 s: due; its read takes 1 s
		{5 * time.Second, time.Second, 2, 600}, // now due every 10 s
		{4 * time.Second, time.Second, 3, 100},
	}
	for i, tt := range tests {
		p.clock.Add(tt.advance)
		p.set(func(p *fakeProc) { p.connCost = tt.cost })
		reads, age := read()
		if reads != tt.reads || age.Uint != tt.age {
			t.Errorf("step %d: %d reads, lvsConnDataAge %d; want %d, %d", i, reads, age.Uint, tt.reads, tt.age)
		}
	}
	if e := s.cur.Load(); e.cost != 0 {
		t.Errorf("the view's cost %v includes the connection table's", e.cost)
	}
}

func TestHealthNotifications(t *testing.T) {
	p := &fakeProc{clock: &fakeClock{t: fixture.ReadAt}, settings: fixture.Settings()}
	s, sent, _ := healthSource(t, p, 0)
	s.Refresh(context.Background())
	change := func(name, value string) {
		p.set(func(p *fakeProc) {
			for i := range p.settings {
				if p.settings[i].Name == name {
					p.settings[i] = ipvsproc.ParseSetting(name, []byte(value))
				}
			}
		})
	}
	steps := []struct {
		name, value string
		want        string
	}{
		{"drop_entry", "1", "lvsDefenseOff lvsSettingName.8 lvsSettingValue.8 lvsAmemthresh.0"},
		{"secure_tcp", "3", "lvsDefenseOn lvsSettingName.19 lvsSettingValue.19 lvsAmemthresh.0"},
		{"run_estimation", "0", "lvsRatesStopped lvsRatesEstimated.0"},
		{"run_estimation", "1", "lvsRatesResumed lvsRatesEstimated.0"},
		{"expire_nodest_conn", "1", "lvsSettingChanged lvsSettingName.10 lvsSettingPreviousValue.10 lvsSettingValue.10"},
	}
	for _, st := range steps {
		*sent = nil
		change(st.name, st.value)
		p.clock.Add(2 * time.Second)
		s.Refresh(context.Background())
		if len(*sent) != 1 || (*sent)[0].name() != st.want {
			var got []string
			for _, n := range *sent {
				got = append(got, n.name())
			}
			t.Fatalf("%s=%s: sent %q, want %q", st.name, st.value, got, st.want)
		}
	}
	vbs := (*sent)[0].vbs
	if string(vbs[1].Bytes) != "0" || string(vbs[2].Bytes) != "1" {
		t.Errorf("lvsSettingChanged carries %q -> %q, want 0 -> 1", vbs[1].Bytes, vbs[2].Bytes)
	}
	if got := s.Refresh(context.Background()).Get(lvs(11, 0)); got.Uint != 5 {
		t.Errorf("lvsChanges = %d, want the 5 setting changes", got.Uint)
	}
}

// A table read that takes long holds up no refresh: the counts come in the
// refresh after it ends, and no second read starts meanwhile.
func TestHealthSlowConnTable(t *testing.T) {
	p := &fakeProc{clock: &fakeClock{t: fixture.ReadAt}, settings: fixture.Settings(), entries: 5,
		block: make(chan struct{})}
	s, _, _ := healthSource(t, p, 0)
	v := s.Refresh(context.Background())
	if got := v.Get(lvs(21, 1, 0)); got.Type != agentx.NoSuchInstance {
		t.Errorf("lvsConnEntries before the first table read ended: %+v", got)
	}
	if got := v.Get(lvs(20, 1, 0)); got.Uint != fixture.Totals().Conns {
		t.Errorf("the totals waited for the table: %+v", got)
	}
	p.clock.Add(10 * time.Second)
	s.Refresh(context.Background()) // due again, but one read runs
	if n := p.started.Load(); n != 1 {
		t.Errorf("%d table reads begun while one was running, want 1", n)
	}
	close(p.block)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got := s.Refresh(context.Background()).Get(lvs(21, 1, 0)); got.Uint == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the table's counts never came")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
