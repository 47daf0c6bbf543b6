package ipvslive

import (
	"time"

	"github.com/lvs-agentx/lvs-agentx/ipvsproc"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// Proc reads what IPVS shows of one namespace in /proc; *ipvsproc.Files
// is one.
type Proc interface {
	Totals() (ipvsproc.Totals, error)
	Settings() ([]ipvsproc.Setting, error)
	// Conns counts the connection table: O(entries), so it is read on
	// its own schedule.
	Conns() (ipvsproc.ConnCounts, error)
	Close() error
}

// procState is what the reads keep of /proc between them; guarded by the
// Source's read lock.
type procState struct {
	proc      Proc // nil until opened, and after an error
	conns     *ipvsproc.ConnCounts
	connsAt   time.Time     // when conns was read
	connsCost time.Duration // how long that read took
	err       string        // the last error logged, "" after a success
}

// connTTL is how old the connection table's counts may get before a
// refresh reads it again: the connection interval, stretched to ten times
// what its last read took, so that a huge table costs at most a tenth of
// a CPU.
func (s *Source) connTTL() time.Duration {
	return max(s.cfg.ConnInterval, maxRefreshShare*s.ps.connsCost)
}

// readHealth reads the totals and the settings, and the connection table
// when its counts are older than connTTL, at time now. It returns what it
// read and how long the connection table took (not the view's cost: it
// has its own schedule). When a file cannot be read the files are closed,
// to be opened again by the next refresh (IPVS may have been reloaded),
// and the health is empty: its objects have no instances.
func (s *Source) readHealth(now time.Time) (mib.Health, time.Duration) {
	if s.cfg.OpenProc == nil {
		return mib.Health{}, 0
	}
	ps := &s.ps
	if ps.proc == nil {
		p, err := s.cfg.OpenProc()
		if err != nil {
			s.logProc(err)
			return mib.Health{}, 0
		}
		ps.proc = p
	}
	var h mib.Health
	var connsCost time.Duration
	totals, err := ps.proc.Totals()
	if err == nil {
		h.Settings, err = ps.proc.Settings()
	}
	if err == nil && (ps.conns == nil || now.Sub(ps.connsAt) >= s.connTTL()) {
		var c ipvsproc.ConnCounts
		if c, err = ps.proc.Conns(); err == nil {
			connsCost = s.cfg.Now().Sub(now)
			ps.conns, ps.connsAt, ps.connsCost = &c, now, connsCost
			s.cfg.Logger.Debug("connection table read", "entries", c.Entries, "took", connsCost, "next_after", s.connTTL())
		}
	}
	if err != nil {
		ps.proc.Close()
		ps.proc, ps.conns = nil, nil
		s.logProc(err)
		return mib.Health{}, connsCost
	}
	s.logProc(nil)
	h.Totals, h.Conns, h.ConnsReadAt = &totals, ps.conns, ps.connsAt
	return h, connsCost
}

// logProc logs a failure to read /proc once per distinct error, and the
// first success after one.
func (s *Source) logProc(err error) {
	ps := &s.ps
	switch {
	case err == nil && ps.err != "":
		s.cfg.Logger.Info("IPVS /proc files readable again: totals, connection table and settings served")
		ps.err = ""
	case err != nil && err.Error() != ps.err:
		s.cfg.Logger.Warn("IPVS /proc files unreadable: totals, connection table and settings not served", "err", err)
		ps.err = err.Error()
	}
}
