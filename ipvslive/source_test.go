package ipvslive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

var _ agent.ViewSource = (*Source)(nil)

// fakeReader hands out one result per read, when the test sends it.
type fakeReader struct {
	results  chan readResult
	started  chan struct{} // receives once per started read
	inFlight atomic.Int32
	maxSeen  atomic.Int32
}

type readResult struct {
	snap *ipvsstats.Snapshot
	err  error
}

func newFakeReader() *fakeReader {
	return &fakeReader{results: make(chan readResult), started: make(chan struct{}, 100)}
}

func (r *fakeReader) Read(ctx context.Context) (*ipvsstats.Snapshot, error) {
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for {
		m := r.maxSeen.Load()
		if n <= m || r.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	r.started <- struct{}{}
	select {
	case res := <-r.results:
		return res.snap, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fakeClock is a settable clock whose timers fire when Add passes them.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &fakeTimer{at: c.t.Add(d), f: f}
	c.timers = append(c.timers, tm)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	var due []func()
	for _, tm := range c.timers {
		if !tm.stopped && !c.t.Before(tm.at) {
			tm.stopped = true
			due = append(due, tm.f)
		}
	}
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

// logRecorder collects log messages, and each with its attributes.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
	full []string // message key=value ..., strings with spaces quoted
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	line := r.Message
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.String()
		if strings.ContainsAny(v, " =\"") {
			v = strconv.Quote(v)
		}
		line += " " + a.Key + "=" + v
		return true
	})
	l.full = append(l.full, line)
	return nil
}

// lines returns each message with its attributes.
func (l *logRecorder) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.full)
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }
func (l *logRecorder) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

func newTestSource(t *testing.T, r Reader, clock *fakeClock, logs *logRecorder) *Source {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return New(ctx, Config{Reader: r, Indexes: NewIndexes(), CacheTTL: time.Second,
		FirstWait: time.Minute, RefreshWait: -1, Logger: slog.New(logs), Now: clock.Now, AfterFunc: clock.AfterFunc})
}

// waitIdle waits until no background refresh runs.
func waitIdle(s *Source) {
	for s.pending.Load() != nil {
		time.Sleep(time.Millisecond)
	}
}

func TestSourceSingleRefresh(t *testing.T) {
	r := newFakeReader()
	clock := &fakeClock{t: fixture.ReadAt}
	logs := &logRecorder{}
	s := newTestSource(t, r, clock, logs)

	// The first request waits for the first read.
	first := make(chan agent.View)
	go func() { first <- s.CurrentView() }()
	<-r.started
	r.results <- readResult{snap: fixture.Snapshot()}
	v1 := (<-first).(*mib.View)
	if !available(v1) || numServices(v1) != 6 {
		t.Fatalf("first view: available %v, %d services", available(v1), numServices(v1))
	}
	waitIdle(s)

	// Fresh: no read.
	if s.Current() != v1 {
		t.Error("a fresh view was replaced")
	}
	// Stale: many requests start one read and get the old view meanwhile.
	clock.Add(time.Second)
	for range 50 {
		if s.Current() != v1 {
			t.Fatal("a request did not get the current view while a refresh runs")
		}
	}
	<-r.started
	for range 50 {
		s.Current()
	}
	snap := fixture.Snapshot()
	snap.Services = snap.Services[:1]
	r.results <- readResult{snap: snap}
	waitIdle(s)
	if got := r.maxSeen.Load(); got != 1 {
		t.Errorf("%d reads ran at once, want 1", got)
	}
	if len(r.started) != 0 {
		t.Errorf("%d extra reads started", len(r.started))
	}
	if v2 := s.Current(); v2 == v1 || numServices(v2) != 1 {
		t.Errorf("refreshed view not published")
	}
}

func TestSourceFailureAndRecovery(t *testing.T) {
	r := newFakeReader()
	clock := &fakeClock{t: fixture.ReadAt}
	logs := &logRecorder{}
	s := newTestSource(t, r, clock, logs)

	read := func(res readResult) *mib.View { return refreshWith(s, r, clock, res) }
	v := read(readResult{snap: fixture.Snapshot()})
	num := firstService(mib.Build(fixture.Snapshot(), s.cfg.Indexes, fixture.Clock))
	fail := errors.New("netlink: no such family")
	for range 3 {
		v = read(readResult{err: fail})
		if available(v) || numServices(v) != 0 || s.Current() != v {
			t.Fatalf("failed read: available %v, %d services", available(v), numServices(v))
		}
	}
	if got := v.Get(lvs(9, 0)); got.Int != 2 {
		t.Errorf("lvsIpvsAvailable = %d, want false(2)", got.Int)
	}
	v = read(readResult{snap: fixture.Snapshot()})
	if !available(v) || firstService(v) != num {
		t.Errorf("after recovery: available %v, first number %d want %d", available(v), firstService(v), num)
	}
	v = read(readResult{snap: fixture.Snapshot()})
	if logs.count("IPVS unreadable") != 1 || logs.count("IPVS readable") != 2 {
		t.Errorf("logged %q, want one line per change", logs.msgs)
	}
}

func TestSourceFirstWaitBounded(t *testing.T) {
	r := newFakeReader()
	clock := &fakeClock{t: fixture.ReadAt}
	ctx, cancel := context.WithCancel(context.Background())
	s := New(ctx, Config{Reader: r, Indexes: NewIndexes(), FirstWait: time.Millisecond,
		Logger: slog.New(&logRecorder{}), Now: clock.Now, AfterFunc: clock.AfterFunc})
	v := s.Current()
	if available(v) {
		t.Error("view available before any read finished")
	}
	<-r.started
	cancel() // ends the blocked read
	waitIdle(s)
}

// A table that takes long to read is kept for ten times its read time, not
// re-read every cache TTL.
func TestSourceSlowReadStretchesTTL(t *testing.T) {
	r := newFakeReader()
	clock := &fakeClock{t: fixture.ReadAt}
	s := newTestSource(t, r, clock, &logRecorder{})

	first := make(chan agent.View)
	go func() { first <- s.CurrentView() }()
	<-r.started
	clock.Add(500 * time.Millisecond) // the read takes half a second
	r.results <- readResult{snap: fixture.Snapshot()}
	v1 := (<-first).(*mib.View)
	waitIdle(s)

	for _, step := range []time.Duration{time.Second, 3 * time.Second} { // 4 s < 10 x 0.5 s
		clock.Add(step)
		if s.Current() != v1 || s.pending.Load() != nil { // pending is set before view returns
			t.Fatalf("refreshed %s after a 0.5 s read; want to keep the view 5 s", step)
		}
	}
	clock.Add(time.Second) // 5 s
	s.Current()
	<-r.started
	r.results <- readResult{snap: fixture.Snapshot()}
	waitIdle(s)
}

// staleSource returns a Source with RefreshWait wait whose first read, of
// the fixture, took firstCost, and whose view has gone stale since.
func staleSource(t *testing.T, wait, firstCost time.Duration) (*Source, *fakeReader) {
	r := newFakeReader()
	clock := &fakeClock{t: fixture.ReadAt}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := New(ctx, Config{Reader: r, Indexes: NewIndexes(), CacheTTL: time.Second,
		RefreshWait: wait, Logger: slog.New(&logRecorder{}), Now: clock.Now, AfterFunc: clock.AfterFunc})
	go s.Refresh(ctx)
	<-r.started
	clock.Add(firstCost)
	r.results <- readResult{snap: fixture.Snapshot()}
	for s.cur.Load() == nil {
		time.Sleep(time.Millisecond)
	}
	clock.Add(15*time.Second + 10*firstCost) // idle, longer than the TTL
	return s, r
}

// A request that finds the view stale waits for the refresh it starts, up
// to RefreshWait: after an idle gap the first answer is the kernel's value
// of now. When the read takes longer, the request gets the older view;
// when the last read took longer than the wait, it gets it at once.
func TestSourceStaleRequestWaitsForRefresh(t *testing.T) {
	for _, tc := range []struct {
		name      string
		wait      time.Duration
		firstCost time.Duration // how long the first read takes
		finishes  bool          // the read ends before the wait does
		want      int           // services in the answered view
	}{
		{"read within the wait", time.Minute, 0, true, 1},
		{"read slower than the wait", 20 * time.Millisecond, 0, false, 6},
		{"never waiting", -1, 0, false, 6},
		{"last read slower than the wait", time.Hour, 2 * time.Hour, false, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, r := staleSource(t, tc.wait, tc.firstCost)
			got := make(chan *mib.View)
			go func() { got <- s.Current() }()
			<-r.started
			snap := fixture.Snapshot()
			snap.Services = snap.Services[:1]
			if tc.finishes {
				r.results <- readResult{snap: snap}
			}
			var v *mib.View
			select {
			case v = <-got:
			case <-time.After(10 * time.Second): // the waits that end sooner are a minute at most
				t.Fatalf("no answer after 10 s with a wait of %s", tc.wait)
			}
			if !tc.finishes {
				r.results <- readResult{snap: snap}
			}
			if numServices(v) != tc.want {
				t.Errorf("answered from a view with %d services, want %d", numServices(v), tc.want)
			}
			waitIdle(s)
			if v := s.Current(); numServices(v) != 1 {
				t.Errorf("after the refresh: %d services, want 1", numServices(v))
			}
		})
	}
}

// CurrentDeferred starts the re-read a request would not wait for only
// when its caller is done with the view; one it would wait for, it waits
// for as Current does.
func TestSourceCurrentDeferred(t *testing.T) {
	for _, tc := range []struct {
		name      string
		firstCost time.Duration
		deferred  bool
	}{
		{"last read slower than the wait", 2 * time.Minute, true},
		{"last read within the wait", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, r := staleSource(t, time.Minute, tc.firstCost)
			snap := fixture.Snapshot()
			snap.Services = snap.Services[:1]
			if !tc.deferred {
				go func() { <-r.started; r.results <- readResult{snap: snap} }()
				if v, _ := s.CurrentDeferred(); numServices(v) != 1 {
					t.Errorf("answered from a view with %d services, want the re-read's 1", numServices(v))
				}
				waitIdle(s)
				return
			}
			v, refresh := s.CurrentDeferred()
			if numServices(v) != 6 || s.pending.Load() != nil {
				t.Fatalf("got %d services, a re-read started: %v; want the last view, no read yet", numServices(v), s.pending.Load() != nil)
			}
			refresh()
			<-r.started
			r.results <- readResult{snap: snap}
			waitIdle(s)
			if v := s.Current(); numServices(v) != 1 {
				t.Errorf("after refresh: %d services, want 1", numServices(v))
			}
		})
	}
}

// A table that changes under every read attempt (heavy churn) is not an
// unreadable IPVS: the previous view stays, available, and no change is
// counted.
func TestSourceChurnKeepsPreviousView(t *testing.T) {
	r := newFakeReader()
	clock := &fakeClock{t: fixture.ReadAt}
	s := newTestSource(t, r, clock, &logRecorder{})
	read := func(res readResult) *mib.View { return refreshWith(s, r, clock, res) }
	v1 := read(readResult{snap: fixture.Snapshot()})
	v2 := read(readResult{err: fmt.Errorf("read: %w", ipvsstats.ErrInconsistent)})
	if v2 != v1 || s.Current() != v1 || !available(v2) {
		t.Errorf("after a torn read: got a new view (available %v), want the previous one", available(v2))
	}
	if s.changes.Count != 0 {
		t.Errorf("%d changes counted for a torn read, want 0", s.changes.Count)
	}
}

// refreshWith runs one Refresh of s, a second later on clock, whose read r
// answers with res.
func refreshWith(s *Source, r *fakeReader, clock *fakeClock, res readResult) *mib.View {
	clock.Add(time.Second)
	done := make(chan *mib.View)
	go func() { done <- s.Refresh(context.Background()) }()
	<-r.started
	r.results <- res
	return <-done
}

// TestSourceReleasesMemoryAfterCollectingReads checks that ReleaseMemory
// runs after a read during which the collector ran, once the read's view is
// the one served, and not after a read during which it did not.
func TestSourceReleasesMemoryAfterCollectingReads(t *testing.T) {
	r := newFakeReader()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var s *Source
	var cycles atomic.Uint64
	var served []*mib.View
	clock := &fakeClock{t: fixture.ReadAt}
	s = New(ctx, Config{Reader: r, Indexes: NewIndexes(), CacheTTL: time.Second,
		FirstWait: time.Minute, RefreshWait: -1, Logger: slog.New(&logRecorder{}), Now: clock.Now,
		AfterFunc: clock.AfterFunc, GCCycles: cycles.Load,
		ReleaseMemory: func() { served = append(served, s.cur.Load().view) }})
	for i, tt := range []struct {
		collects bool
		err      error
	}{{true, nil}, {false, nil}, {true, ipvsstats.ErrNotLoaded}, {false, nil}, {true, nil}} {
		before := len(served)
		go func() {
			<-r.started
			if tt.collects {
				cycles.Add(1)
			}
			r.results <- readResult{snap: fixture.Snapshot(), err: tt.err}
		}()
		v := s.Refresh(ctx)
		switch {
		case !tt.collects && len(served) != before:
			t.Errorf("read %d: ReleaseMemory ran after a read without a collection", i+1)
		case tt.collects && (len(served) != before+1 || served[before] != v):
			t.Errorf("read %d: ReleaseMemory ran %d times, not once with the read's view served", i+1, len(served)-before)
		}
	}
}

// lvs returns the OID below the LVS-MIB's root.
func lvs(arcs ...uint32) agentx.OID { return append(append(agentx.OID{}, mib.Root...), arcs...) }

// available is lvsIpvsAvailable.0 of v.
func available(v *mib.View) bool { return v.Get(lvs(9, 0)).Int == 1 }

// numServices is lvsNumServices.0 of v.
func numServices(v *mib.View) int { return int(v.Get(lvs(2, 0)).Int) }

// firstService is the lowest lvsServiceNumber v serves.
func firstService(v *mib.View) int32 {
	vb, _ := v.Next(nil, lvs(17, 1, 1), false, nil)
	return vb.Int
}
