package mib

import (
	"context"
	"time"
)

// DefaultWatchInterval is how often Watch re-reads IPVS: a change is
// notified within seconds, well before a poller (typically every 1 to 5
// minutes) would see it, while a director's table of a few hundred rows,
// read in milliseconds, costs well under 1% of a CPU; larger tables
// stretch the interval to ten times their read time.
const DefaultWatchInterval = 5 * time.Second

// Watch re-reads IPVS in the background until ctx ends, so that changes
// are counted and notified without waiting for a request: whenever the
// current view is interval old, or ten times as old as its read took if
// that is longer (the rule that keeps refreshing a huge table under a
// tenth of a CPU), it starts a refresh, or joins the one a request
// started. A request's refresh restarts the interval, so the two never
// read more often than either would alone. An interval of 0 or less
// watches nothing.
func (s *Source) Watch(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	for {
		var wait time.Duration
		if e := s.cur.Load(); e != nil {
			wait = e.start.Add(max(interval, maxRefreshShare*e.cost)).Sub(s.cfg.Now())
		}
		if wait > 0 {
			if !s.sleep(ctx, wait) {
				return
			}
			continue // a request may have refreshed meanwhile
		}
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
