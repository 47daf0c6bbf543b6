package agent

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

var (
	testTrap    = agentx.OID{1, 3, 6, 1, 4, 1, 8225, 4711, 0, 1}
	summaryTrap = agentx.OID{1, 3, 6, 1, 4, 1, 8225, 4711, 0, 99}
)

// sent is one notification a fakeSender took: its trap and the number in
// its first varbind (the test's sequence number, or a summary's count).
type sent struct {
	trap agentx.OID
	n    uint64
}

// fakeSender records notifications and fails while failing is set.
type fakeSender struct {
	mu       sync.Mutex
	failing  bool
	sent     chan sent
	attempts chan struct{} // one per Notify call
}

func newFakeSender() *fakeSender {
	return &fakeSender{sent: make(chan sent, 10000), attempts: make(chan struct{}, 10000)}
}

func (f *fakeSender) sendNotify(_ context.Context, _ string, trap agentx.OID, vbs []agentx.VarBind) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts <- struct{}{}
	if f.failing {
		return errors.New("agentx: not connected to the master")
	}
	f.sent <- sent{trap: trap, n: vbs[0].Uint}
	return nil
}

func (f *fakeSender) setFailing(b bool) {
	f.mu.Lock()
	f.failing = b
	f.mu.Unlock()
}

// next waits for the next notification sent.
func (f *fakeSender) next(t *testing.T) sent {
	t.Helper()
	select {
	case s := <-f.sent:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no notification sent")
	}
	return sent{}
}

// tried waits for n more calls of Notify.
func (f *fakeSender) tried(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-f.attempts:
		case <-time.After(5 * time.Second):
			t.Fatal("Notify not called")
		}
	}
}

// none checks that nothing more is sent for a while.
func (f *fakeSender) none(t *testing.T) {
	t.Helper()
	select {
	case s := <-f.sent:
		t.Fatalf("unexpected notification %v %d", s.trap, s.n)
	case <-time.After(50 * time.Millisecond):
	}
}

func numbered(i int) []agentx.VarBind {
	return []agentx.VarBind{{Name: agentx.OID{1, 3, 6, 1, 4, 1, 8225, 4711, 11, 0}, Type: agentx.Counter32, Uint: uint64(i)}}
}

func summaryOf(n uint32) (agentx.OID, []agentx.VarBind) {
	return summaryTrap, []agentx.VarBind{{Name: agentx.OID{1, 3, 6, 1, 4, 1, 8225, 4711, 13, 0}, Type: agentx.Gauge32, Uint: uint64(n)}}
}

// startNotifier runs n until the test ends.
func startNotifier(t *testing.T, n *Notifier, to sender) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.run(ctx, to, summaryOf); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// endWindowNow ends the window as Run's ticker does, for tests whose
// window is too long to end by itself.
func (n *Notifier) endWindowNow() {
	n.endWindow()
	n.signal()
}

func TestNotifierBoundsAWindowAndSummarizes(t *testing.T) {
	logs := &logLines{}
	n := NewNotifier(NotifierConfig{Max: 20, Window: time.Hour, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	for i := range 2000 { // before Run: Enqueue never blocks
		n.Enqueue(testTrap, numbered(i))
	}
	f := newFakeSender()
	startNotifier(t, n, f)
	for i := range 20 {
		if s := f.next(t); s.trap.Compare(testTrap) != 0 || s.n != uint64(i) {
			t.Fatalf("notification %d: %v %d, want the %dth in order", i, s.trap, s.n, i)
		}
	}
	f.none(t)
	n.endWindowNow()
	if s := f.next(t); s.trap.Compare(summaryTrap) != 0 || s.n != 1980 {
		t.Fatalf("after the window: %v %d, want the summary of 1980", s.trap, s.n)
	}
	f.none(t)

	// The next window carries notifications again; the storm is over
	// once a window ends without leaving any out.
	for i := range 3 {
		n.Enqueue(testTrap, numbered(i))
	}
	for range 3 {
		if s := f.next(t); s.trap.Compare(testTrap) != 0 {
			t.Fatalf("next window: %v", s.trap)
		}
	}
	n.endWindowNow()
	f.none(t)
	if got := logs.count("notification storm:"); got != 1 {
		t.Errorf("%d storm warnings, want 1:\n%s", got, logs)
	}
	if got := logs.count(`"notification storm over" left_out=1980`); got != 1 {
		t.Errorf("storm end logged %d times, want once with the count:\n%s", got, logs)
	}
}

func TestNotifierCountsUndelivered(t *testing.T) {
	logs := &logLines{}
	n := NewNotifier(NotifierConfig{Max: 20, Window: time.Hour, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	f := newFakeSender()
	f.setFailing(true)
	startNotifier(t, n, f)
	for i := range 3 {
		n.Enqueue(testTrap, numbered(i))
	}
	f.tried(t, 3)
	n.endWindowNow()
	f.tried(t, 1) // the summary of 3 fails too
	f.setFailing(false)
	n.Enqueue(testTrap, numbered(7))
	if s := f.next(t); s.trap.Compare(testTrap) != 0 || s.n != 7 {
		t.Fatalf("after the master is back: %v %d", s.trap, s.n)
	}
	n.endWindowNow()
	if s := f.next(t); s.trap.Compare(summaryTrap) != 0 || s.n != 3 {
		t.Fatalf("summary %v %d, want 3 undelivered", s.trap, s.n)
	}
	n.endWindowNow()
	f.none(t)
	if logs.count("notification not delivered") != 1 || logs.count("notifications delivered again") != 1 {
		t.Errorf("want one line when delivery fails and one when it works again:\n%s", logs)
	}
	if logs.count("storm") != 0 {
		t.Errorf("undelivered notifications are no storm:\n%s", logs)
	}
}

func TestNotifierWindowsByTime(t *testing.T) {
	n := NewNotifier(NotifierConfig{Max: 2, Window: 20 * time.Millisecond})
	for i := range 5 { // before Run, whose ticker ends the first window
		n.Enqueue(testTrap, numbered(i))
	}
	f := newFakeSender()
	startNotifier(t, n, f)
	got := []sent{f.next(t), f.next(t), f.next(t)}
	if got[0].n != 0 || got[1].n != 1 || got[2].trap.Compare(summaryTrap) != 0 || got[2].n != 3 {
		t.Fatalf("got %v, want 0, 1 and a summary of 3", got)
	}
}

// logLines collects a text handler's output.
type logLines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logLines) count(s string) int { return strings.Count(l.String(), s) }
