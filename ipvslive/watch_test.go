package ipvslive

import (
	"context"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// fakeCPU is a garbage collector's CPU time the test sets.
type fakeCPU struct{ ns atomic.Int64 }

func (c *fakeCPU) Time() time.Duration { return time.Duration(c.ns.Load()) }
func (c *fakeCPU) Add(d time.Duration) { c.ns.Add(int64(d)) }

// waitTimer waits until a timer is due at at: the watch's sleep, once it
// has computed it.
func waitTimer(t *testing.T, c *fakeClock, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		found := false
		for _, tm := range c.timers {
			found = found || !tm.stopped && tm.at.Equal(at)
		}
		c.mu.Unlock()
		if found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no timer due at %v", at.Sub(fixture.ReadAt))
		}
		time.Sleep(time.Millisecond)
	}
}

func noRead(t *testing.T, r *fakeReader, after string) {
	t.Helper()
	select {
	case <-r.started:
		t.Fatalf("read started %s", after)
	case <-time.After(20 * time.Millisecond):
	}
}

func TestWatch(t *testing.T) {
	r := newFakeReader()
	clock := &fakeClock{t: fixture.ReadAt}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var gc fakeCPU // no collection: the clock alone sets the pace
	s := New(ctx, Config{Reader: r, Indexes: NewIndexes(), CacheTTL: time.Second,
		Logger: slog.New(&logRecorder{}), Now: clock.Now, AfterFunc: clock.AfterFunc, GCTime: gc.Time})
	watchCtx, stopWatch := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Watch(watchCtx, time.Second); close(done) }()

	// The first read at once; it takes half a second, so the next is due
	// ten times that after its start, not one interval.
	at := func(d time.Duration) time.Time { return fixture.ReadAt.Add(d) }
	<-r.started
	clock.Add(500 * time.Millisecond)
	r.results <- readResult{snap: fixture.Snapshot()}
	waitTimer(t, clock, at(5*time.Second))
	for _, step := range []time.Duration{time.Second, 3 * time.Second} { // 4.5 s < 10 x 0.5 s
		clock.Add(step)
		noRead(t, r, "before ten times the read's duration")
	}
	clock.Add(500 * time.Millisecond) // 5 s after the first read started
	<-r.started
	r.results <- readResult{snap: fixture.Snapshot()}

	// Quick reads: one per interval.
	for i := range 3 {
		next := at(time.Duration(6+i) * time.Second)
		waitTimer(t, clock, next)
		clock.Add(900 * time.Millisecond)
		noRead(t, r, "before the interval")
		clock.Add(100 * time.Millisecond)
		<-r.started
		r.results <- readResult{snap: fixture.Snapshot()}
	}

	// A request's refresh restarts the interval: the watch does not read
	// again right after it.
	waitTimer(t, clock, at(9*time.Second))
	clock.Add(700 * time.Millisecond)
	go s.Refresh(ctx)
	<-r.started
	r.results <- readResult{snap: fixture.Snapshot()}
	waitIdle(s)
	for s.cur.Load().start != at(8700*time.Millisecond) {
		time.Sleep(time.Millisecond)
	}
	clock.Add(300 * time.Millisecond)
	waitTimer(t, clock, at(9700*time.Millisecond))
	noRead(t, r, "right after a request's refresh")
	clock.Add(700 * time.Millisecond)
	<-r.started
	r.results <- readResult{snap: fixture.Snapshot()}

	// Cancelling ends the watch, also while it sleeps.
	waitTimer(t, clock, at(10700*time.Millisecond))
	stopWatch()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after its context ended")
	}
	clock.Add(time.Hour)
	noRead(t, r, "after the watch ended")
	if got := r.maxSeen.Load(); got != 1 {
		t.Errorf("%d reads at once, want 1", got)
	}
}

// TestWatchGCTime checks that the garbage collection a read causes,
// including what runs after the read returns, counts in the read's cost
// that spaces the watch's reads ten times as far.
func TestWatchGCTime(t *testing.T) {
	r := newFakeReader()
	clock := &fakeClock{t: fixture.ReadAt}
	var gc fakeCPU
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := New(ctx, Config{Reader: r, Indexes: NewIndexes(), CacheTTL: time.Second,
		Logger: slog.New(&logRecorder{}), Now: clock.Now, AfterFunc: clock.AfterFunc, GCTime: gc.Time})
	go s.Watch(ctx, time.Second)
	at := func(d time.Duration) time.Time { return fixture.ReadAt.Add(d) }

	// A 100 ms read and 150 ms of collection: the next read 2.5 s after
	// it started, not one interval.
	<-r.started
	gc.Add(150 * time.Millisecond)
	clock.Add(100 * time.Millisecond)
	r.results <- readResult{snap: fixture.Snapshot()}
	waitTimer(t, clock, at(2500*time.Millisecond))
	// The collector then works another 250 ms: 5 s in all.
	gc.Add(250 * time.Millisecond)
	clock.Add(2400 * time.Millisecond)
	waitTimer(t, clock, at(5*time.Second))
	noRead(t, r, "before ten times the read's cost")
	clock.Add(2500 * time.Millisecond)
	<-r.started
	r.results <- readResult{snap: fixture.Snapshot()}

	// A cheap read without collection: back to one per interval.
	waitTimer(t, clock, at(6*time.Second))
	clock.Add(time.Second)
	<-r.started
	r.results <- readResult{snap: fixture.Snapshot()}
}

// TestWatchIdleProcessCPU checks that while nothing but the watch runs,
// the process's CPU time since a read started counts as its cost, and that
// once a request came, only the read and the collector count again.
func TestWatchIdleProcessCPU(t *testing.T) {
	r := newFakeReader()
	clock := &fakeClock{t: fixture.ReadAt}
	var gc, proc fakeCPU
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := New(ctx, Config{Reader: r, Indexes: NewIndexes(), CacheTTL: time.Second,
		Logger: slog.New(&logRecorder{}), Now: clock.Now, AfterFunc: clock.AfterFunc, GCTime: gc.Time, ProcessCPU: proc.Time})
	go s.Watch(ctx, time.Second)
	at := func(d time.Duration) time.Time { return fixture.ReadAt.Add(d) }

	// A 50 ms read, 100 ms of collection, 300 ms of process CPU in all:
	// idle, so the next read comes 3 s after the first started.
	<-r.started
	gc.Add(100 * time.Millisecond)
	proc.Add(300 * time.Millisecond)
	clock.Add(50 * time.Millisecond)
	r.results <- readResult{snap: fixture.Snapshot()}
	waitTimer(t, clock, at(3*time.Second))
	clock.Add(2950 * time.Millisecond)
	<-r.started
	r.results <- readResult{snap: fixture.Snapshot()}

	// The same costs, but a request comes: its CPU is not the refresh's,
	// so the read and the collector set the pace (10 x 150 ms).
	waitTimer(t, clock, at(4*time.Second))
	s.CurrentView()
	clock.Add(time.Second)
	<-r.started
	gc.Add(100 * time.Millisecond)
	proc.Add(300 * time.Millisecond)
	clock.Add(50 * time.Millisecond)
	r.results <- readResult{snap: fixture.Snapshot()}
	s.CurrentView()
	waitTimer(t, clock, at(5500*time.Millisecond))
}

func TestProcessCPUTime(t *testing.T) {
	before := processCPUTime()
	deadline := time.Now().Add(10 * time.Second)
	for x := 1; processCPUTime() <= before; x = x*7 + 1 {
		if time.Now().After(deadline) {
			t.Fatalf("processCPUTime stayed at %v over 10 s of busy work", before)
		}
		sink.Add(int64(x))
	}
}

// sink keeps TestProcessCPUTime's work from being optimised away.
var sink atomic.Int64

func TestGCCPUTime(t *testing.T) {
	before := gcCPUTime()
	deadline := time.Now().Add(10 * time.Second)
	for gcCPUTime() <= before {
		if time.Now().After(deadline) {
			t.Fatalf("gcCPUTime stayed at %v over 10 s of forced collections", before)
		}
		garbage = make([]byte, 1<<20)
		runtime.GC()
	}
}

// garbage keeps TestGCCPUTime's allocations from being optimised away.
var garbage []byte

func TestWatchDisabled(t *testing.T) {
	s := New(context.Background(), Config{Reader: newFakeReader(), Indexes: NewIndexes()})
	done := make(chan struct{})
	go func() { s.Watch(context.Background(), 0); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch with interval 0 did not return")
	}
}

// A request that finds the view stale while the watch's read is under way
// waits for that read and gets its view; no second read starts.
func TestRequestJoinsWatchRead(t *testing.T) {
	r := newFakeReader()
	clock := &fakeClock{t: fixture.ReadAt}
	ctx, cancel := context.WithCancel(context.Background())
	s := New(ctx, Config{Reader: r, Indexes: NewIndexes(), CacheTTL: time.Second, RefreshWait: time.Minute,
		Logger: slog.New(&logRecorder{}), Now: clock.Now, AfterFunc: clock.AfterFunc})
	done := make(chan struct{})
	go func() { s.Watch(ctx, time.Second); close(done) }()
	defer func() { cancel(); <-done }()

	<-r.started
	r.results <- readResult{snap: fixture.Snapshot()}
	waitTimer(t, clock, fixture.ReadAt.Add(time.Second))
	clock.Add(time.Second) // the view is stale, and the watch reads
	<-r.started
	got := make(chan *mib.View)
	go func() { got <- s.Current() }()
	noRead(t, r, "for a request while the watch reads")
	fewer := fixture.Snapshot()
	fewer.Services = fewer.Services[:1]
	r.results <- readResult{snap: fewer}
	if n := (<-got).Get(lvs(2, 0)); n.Int != 1 {
		t.Errorf("the request got lvsNumServices %d, want 1 from the watch's read", n.Int)
	}
	if n := r.maxSeen.Load(); n != 1 {
		t.Errorf("%d reads at once, want 1", n)
	}
}

func TestGCCyclesTotal(t *testing.T) {
	before := gcCycles()
	runtime.GC()
	if after := gcCycles(); after <= before {
		t.Errorf("gcCycles went from %d to %d over a collection", before, after)
	}
}
