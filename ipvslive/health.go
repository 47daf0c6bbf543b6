package ipvslive

import (
	"sync"
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

// procState is what the reads keep of /proc between them: the files,
// guarded by the Source's read lock, and the connection table's counts,
// which a read of their own makes in the background.
type procState struct {
	proc Proc   // nil until opened, and after an error
	err  string // the last error logged, "" after a success

	mu      sync.Mutex
	conns   *connCounts   // the last counts read; nil before
	connErr error         // the last table read's error, until a refresh takes it
	running chan struct{} // closed when the running table read ends; nil when none runs
}

// connCounts are the connection table's counts, when their read started
// and how long it took.
type connCounts struct {
	counts ipvsproc.ConnCounts
	at     time.Time
	cost   time.Duration
}

// connWait bounds how long a refresh waits for the connection table's
// read it starts: a small table's counts are in the view it publishes, a
// large one's in a later one, and a read that takes minutes (the kernel
// walks its hash table from the start for every page of text) never holds
// up the rest.
const connWait = 100 * time.Millisecond

// connTTL is how old the connection table's counts may get before a
// refresh reads it again: the connection interval, stretched to ten times
// what its last read took, so that a huge table costs at most a tenth of
// a CPU.
func (s *Source) connTTL(last *connCounts) time.Duration {
	return max(s.cfg.ConnInterval, maxRefreshShare*last.cost)
}

// readHealth reads the totals and the settings, and starts a read of the
// connection table when its counts are older than connTTL, at time now.
// It returns what it read, with the newest counts, and how long a table
// read it waited for took (not the view's cost: it has its own schedule).
// When a file cannot be read the files are closed, to be opened again by
// the next refresh (IPVS may have been reloaded), and the health is empty:
// its objects have no instances.
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
	totals, err := ps.proc.Totals()
	if err == nil {
		h.Settings, err = ps.proc.Settings()
	}
	var conns *connCounts
	var connsCost time.Duration
	if err == nil {
		conns, connsCost, err = s.connCounts(now)
	}
	if err != nil {
		ps.proc.Close()
		ps.proc = nil
		ps.mu.Lock()
		ps.conns = nil
		ps.mu.Unlock()
		s.logProc(err)
		return mib.Health{}, connsCost
	}
	s.logProc(nil)
	h.Totals = &totals
	if conns != nil {
		h.Conns, h.ConnsReadAt = &conns.counts, conns.at
	}
	return h, connsCost
}

// connCounts returns the newest connection table counts, starting a read
// of the table when they are due and waiting connWait for it, with how
// long that read took if it ended meanwhile, or the error of the last
// read.
func (s *Source) connCounts(now time.Time) (*connCounts, time.Duration, error) {
	ps := &s.ps
	ps.mu.Lock()
	last, running, err := ps.conns, ps.running, ps.connErr
	ps.connErr = nil
	if err == nil && running == nil && (last == nil || now.Sub(last.at) >= s.connTTL(last)) {
		running = make(chan struct{})
		ps.running = running
		go s.readConns(ps.proc, running)
	}
	ps.mu.Unlock()
	if err != nil || running == nil {
		return last, 0, err
	}
	t := time.NewTimer(connWait)
	defer t.Stop()
	select {
	case <-running:
	case <-t.C:
		return last, 0, nil
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	cur, err := ps.conns, ps.connErr
	ps.connErr = nil
	if err != nil || cur == last {
		return last, 0, err
	}
	return cur, cur.cost, nil
}

// readConns reads the connection table from p and keeps its counts, then
// closes done.
func (s *Source) readConns(p Proc, done chan struct{}) {
	start := s.cfg.Now()
	c, err := p.Conns()
	cost := s.cfg.Now().Sub(start)
	ps := &s.ps
	ps.mu.Lock()
	if err != nil {
		ps.connErr = err
	} else {
		ps.conns = &connCounts{counts: c, at: start, cost: cost}
		s.cfg.Logger.Debug("connection table read", "entries", c.Entries, "seconds", cost.Seconds(),
			"next_after", s.connTTL(ps.conns))
	}
	ps.running = nil
	ps.mu.Unlock()
	close(done)
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
