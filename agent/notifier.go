package agent

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// sender sends one notification through the master; *Agent is one, the
// tests have another.
type sender interface {
	sendNotify(ctx context.Context, contextName string, trap agentx.OID, vbs []agentx.VarBind) error
}

// SummaryFunc makes the notification that reports n notifications left
// out.
type SummaryFunc func(n uint32) (trap agentx.OID, vbs []agentx.VarBind)

// Defaults for the zero values of NotifierConfig.
const (
	// DefaultNotifyMax lets a handful of real servers fail at once and be
	// reported one by one, while a storm of thousands of changes per
	// second (kube-proxy resyncing) costs a receiver 20 traps per window.
	DefaultNotifyMax    = 20
	DefaultNotifyWindow = 5 * time.Second
)

// NotifierConfig configures a Notifier.
type NotifierConfig struct {
	// Max is how many notifications one Window may carry; 0 means
	// DefaultNotifyMax.
	Max int
	// Window is the interval Max applies to; 0 means DefaultNotifyWindow.
	Window time.Duration
	// Context is the SNMP context the notifications are sent in; "" is
	// the default context.
	Context string
	// Logger receives one line when a storm starts and one when it ends,
	// and one when delivery fails and one when it works again; nil
	// discards.
	Logger *slog.Logger
}

// Notifier sends notifications in the background, in order, at most Max
// per Window. Under a storm of changes it sends the first Max of a window
// and, when the window ends, one summary with the count of the rest, so
// that a manager is never flooded and still learns how much it missed.
// Notifications the master does not take (no session) are counted the same
// way. Enqueue never blocks: it may be called with locks held.
type Notifier struct {
	cfg  NotifierConfig
	log  *slog.Logger
	wake chan struct{}

	mu            sync.Mutex
	queue         []queued
	admitted      int    // notifications admitted in this window
	leftOut       uint32 // notifications not sent since the last summary sent
	summaryQueued bool
	overflowed    bool   // this window left notifications out
	storm         bool   // a window left notifications out, and none since has gone without
	stormLeftOut  uint64 // left out by the bound during the storm, for its log line
	failing       bool   // the last send failed
}

type queued struct {
	summary bool // the summary, counted when it is sent
	trap    agentx.OID
	vbs     []agentx.VarBind
}

// NewNotifier returns a Notifier; nothing is sent before Run.
func NewNotifier(cfg NotifierConfig) *Notifier {
	if cfg.Max <= 0 {
		cfg.Max = DefaultNotifyMax
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultNotifyWindow
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{cfg: cfg, log: log, wake: make(chan struct{}, 1)}
}

// Enqueue queues a notification, or counts it as left out when this
// window has carried Max already.
func (n *Notifier) Enqueue(trap agentx.OID, vbs []agentx.VarBind) {
	n.mu.Lock()
	if n.admitted < n.cfg.Max && len(n.queue) < n.cfg.Max {
		n.queue = append(n.queue, queued{trap: trap, vbs: vbs})
		n.admitted++
	} else {
		n.leftOut++
		n.stormLeftOut++
		n.overflowed = true
		if !n.storm {
			n.storm = true
			n.log.Warn("notification storm: sending at most max per interval, then one summary with the count of the rest",
				"max", n.cfg.Max, "interval", n.cfg.Window.String())
		}
	}
	n.mu.Unlock()
	n.signal()
}

func (n *Notifier) signal() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Run sends the queued notifications through a's session with the master,
// and a summary made by summary after each window that left some out,
// until ctx ends.
func (n *Notifier) Run(ctx context.Context, a *Agent, summary SummaryFunc) {
	n.run(ctx, a, summary)
}

func (n *Notifier) run(ctx context.Context, to sender, summary SummaryFunc) {
	t := time.NewTicker(n.cfg.Window)
	defer t.Stop()
	for {
		n.drain(ctx, to, summary)
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		case <-t.C:
			n.endWindow()
		}
	}
}

// endWindow starts a new window, queueing the summary of what was left out.
func (n *Notifier) endWindow() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.admitted = 0
	if n.leftOut > 0 && !n.summaryQueued {
		n.queue = append(n.queue, queued{summary: true})
		n.summaryQueued = true
	}
	if n.storm && !n.overflowed {
		n.log.Info("notification storm over", "left_out", n.stormLeftOut)
		n.storm, n.stormLeftOut = false, 0
	}
	n.overflowed = false
}

// drain sends what is queued, in order.
func (n *Notifier) drain(ctx context.Context, to sender, summary SummaryFunc) {
	for ctx.Err() == nil {
		n.mu.Lock()
		if len(n.queue) == 0 {
			n.mu.Unlock()
			return
		}
		q := n.queue[0]
		n.queue = n.queue[1:]
		var count uint32
		if q.summary {
			count, n.leftOut, n.summaryQueued = n.leftOut, 0, false
		}
		n.mu.Unlock()

		if q.summary {
			q.trap, q.vbs = summary(count)
		}
		err := to.sendNotify(ctx, n.cfg.Context, q.trap, q.vbs)
		if ctx.Err() != nil {
			return // shutting down: not a delivery problem
		}
		n.mu.Lock()
		switch {
		case err != nil:
			// Not delivered: the next summary counts it, or carries over
			// this summary's count.
			if q.summary {
				n.leftOut += count
			} else {
				n.leftOut++
			}
			if !n.failing {
				n.log.Warn("notification not delivered to the master; counting it in the next summary", "err", err)
			}
			n.failing = true
		case n.failing:
			n.log.Info("notifications delivered again")
			n.failing = false
		}
		n.mu.Unlock()
	}
}
