package ipvslive

import (
	"context"
	"time"
)

// DefaultWatchInterval is how often Watch re-reads IPVS: a change is
// notified within seconds, well before a poller (typically every 1 to 5
// minutes) would see it, while a director's table of a few hundred rows,
// read in milliseconds, costs well under 1% of a CPU; larger tables
// stretch the interval to ten times what their read costs (see Watch).
const DefaultWatchInterval = 5 * time.Second

// Watch re-reads IPVS in the background until ctx ends, so that changes
// are counted and notified without waiting for a request: whenever the
// current view is interval old, it starts a refresh, or joins the one a
// request started. A request's refresh restarts the interval, so the two
// never read more often than either would alone. An interval of 0 or less
// watches nothing.
//
// The rule that keeps refreshing a huge table under a tenth of a CPU
// stretches the interval to ten times what a read costs: its duration
// plus the CPU time the garbage collector has spent since the watch
// started it (collecting what reading and building the view allocated,
// on another core and after the read returns). When nothing else ran
// since the watch started the read (no request asked for a view, the read
// found nothing to notify), the whole process's CPU time since then counts
// if it is more: it also holds the runtime's own wake-ups, which weigh
// where system calls are slow (an emulated kernel). Requests and
// notifications are not the refresh's cost, so they never stretch it.
func (s *Source) Watch(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	// When the watch last started a refresh: the collector's and the
	// process's CPU time, and the activity count.
	var markGC, markCPU time.Duration
	var markActivity uint64
	started := false
	for {
		var wait time.Duration
		if e := s.cur.Load(); e != nil {
			cost := e.cost
			if started {
				cost += s.cfg.GCTime() - markGC
				if s.activity.Load() == markActivity {
					cost = max(cost, s.cfg.ProcessCPU()-markCPU)
				}
			}
			wait = e.start.Add(max(interval, maxRefreshShare*cost)).Sub(s.cfg.Now())
		}
		if wait > 0 {
			if !s.sleep(ctx, wait) {
				return
			}
			continue // a request may have refreshed meanwhile, and the collector worked on
		}
		markGC, markCPU, markActivity, started = s.cfg.GCTime(), s.cfg.ProcessCPU(), s.activity.Load(), true
		select {
		case <-s.startRefresh():
		case <-ctx.Done():
			return
		}
	}
}

// sleep waits d on the Source's clock; false when ctx ended first.
func (s *Source) sleep(ctx context.Context, d time.Duration) bool {
	woken := make(chan struct{})
	stop := s.cfg.AfterFunc(d, func() { close(woken) })
	select {
	case <-woken:
		return true
	case <-ctx.Done():
		stop()
		return false
	}
}
