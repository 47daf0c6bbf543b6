package mib

import (
	"context"
	"syscall"
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
// stretches the interval: the next read waits until ten times the last
// read's duration has passed since it started, and ten times the CPU time
// the process has used since the watch started it (the read, building the
// view and the garbage collection they cause; also any requests served
// meanwhile, which only makes the watch gentler when the agent is busy).
func (s *Source) Watch(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	var mark time.Time        // when the watch last started a refresh
	var markCPU time.Duration // the process's CPU time then
	for {
		var wait time.Duration
		if e := s.cur.Load(); e != nil {
			now := s.cfg.Now()
			due := e.start.Add(max(interval, maxRefreshShare*e.cost))
			if !mark.IsZero() {
				if byCPU := mark.Add(maxRefreshShare * (s.cfg.CPUTime() - markCPU)); byCPU.After(due) {
					due = byCPU
				}
			}
			wait = due.Sub(now)
		}
		if wait > 0 {
			if !s.sleep(ctx, wait) {
				return
			}
			continue // a request may have refreshed meanwhile, and the CPU time grown
		}
		mark, markCPU = s.cfg.Now(), s.cfg.CPUTime()
		select {
		case <-s.startRefresh():
		case <-ctx.Done():
			return
		}
	}
}

// ProcessCPUTime returns the CPU time, user and system, that the process
// has used so far (0 if the kernel does not say).
func ProcessCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
