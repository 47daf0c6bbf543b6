package ipvslive

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvsevents"
	"github.com/lvs-agentx/lvs-agentx/ipvsproc"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// Reader reads one IPVS snapshot; the ipvsstats reader satisfies it.
type Reader interface {
	Read(ctx context.Context) (*ipvsstats.Snapshot, error)
}

// DefaultCacheTTL is the cache TTL of a Config that sets none.
const DefaultCacheTTL = time.Second

// Defaults of the other Config durations.
const (
	defaultReadTimeout = 30 * time.Second
	defaultFirstWait   = 5 * time.Second
)

// DefaultRefreshWait is the RefreshWait of a Config that sets none: a
// quarter of snmpd's default agentXTimeout (1 s), so a request that waits
// this long for a re-read still leaves snmpd ample time for the rest.
const DefaultRefreshWait = 250 * time.Millisecond

// Config configures a Source. Reader and Indexes are required.
type Config struct {
	Reader  Reader
	Indexes *Indexes
	// CacheTTL is how old a view may get before a request starts a
	// refresh (DefaultCacheTTL when zero). It is stretched to ten times
	// the last refresh's duration when that is longer, so that refreshing
	// a huge table takes at most a tenth of a CPU.
	CacheTTL time.Duration
	// ReadTimeout bounds one read (30 s when zero).
	ReadTimeout time.Duration
	// FirstWait bounds how long the first request waits for the first
	// read (5 s when zero).
	FirstWait time.Duration
	// RefreshWait bounds how long a request that finds the view older
	// than its TTL waits for the re-read it starts (or finds running);
	// when the read takes longer, the request is answered from the older
	// view, whose lvsDataAge says how old it is; when the last read took
	// longer, it does not wait. DefaultRefreshWait when zero; negative:
	// never wait.
	RefreshWait time.Duration
	Logger      *slog.Logger     // slog.Default() when nil
	Now         func() time.Time // time.Now when nil
	// AfterFunc runs f once d has passed on the clock Now reads and
	// returns a function that cancels it (time.AfterFunc when nil). A
	// view's expiry is a timer so that requests never read the clock:
	// each clock read is a system call under some virtualisation, and a
	// walk makes one request per varbind.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// Notify, when set, receives the LVS-MIB notification of each change
	// a read finds whose kind is in NotifyKinds, in the order found. It
	// is called while the read holds the source's lock, so it must not
	// block (agent.Notifier's Enqueue does not).
	Notify      func(trap agentx.OID, vbs []agentx.VarBind)
	NotifyKinds ipvsevents.Kinds
	// SysUpTimeAt is the master's sysUpTime at a time, for lvsLastChange
	// (agent.Uptime's At); nil counts from New.
	SysUpTimeAt func(time.Time) uint32
	// GCTime is the CPU time the garbage collector has used so far
	// (gcCPUTime when nil). Watch adds what it grows by to a read's cost,
	// so the collection a read causes, on another core and after the read
	// returns, counts against the tenth of a CPU too.
	GCTime func() time.Duration
	// ProcessCPU is the CPU time the process has used so far
	// (processCPUTime when nil). Watch counts what it grows by while
	// nothing but the watch runs (see Watch).
	ProcessCPU func() time.Duration
	// ReleaseMemory, when set, runs once a read's view is published if the
	// garbage collector ran during the read (the agent passes
	// debug.FreeOSMemory). That collection found two reads' data live and
	// sized the heap for half as much again; collecting once the previous
	// read is garbage, and handing the freed pages back, keeps the RSS near
	// one read's data. A read small enough to need no collection is left
	// alone: forcing one there would page in the collector for nothing.
	ReleaseMemory func()
	// GCCycles is the number of collections so far (gcCycles when nil),
	// for ReleaseMemory.
	GCCycles func() uint64
	// OpenProc, when set, opens the namespace's IPVS files in /proc,
	// whose totals, connection table and settings each successful read
	// adds to its view. It is called again after a failure: IPVS may be
	// loaded, or reloaded, later.
	OpenProc func() (Proc, error)
	// ConnInterval is how old the connection table's counts may get
	// before a read reads the table again (CacheTTL when zero); it is
	// stretched to ten times what reading the table took.
	ConnInterval time.Duration
}

// Source is the live state of one IPVS instance, served as the LVS-MIB: an
// agent.ViewSource. It hands out the current view and, when that view is
// older than the cache TTL, starts one background refresh and waits for it
// at most RefreshWait: a poller that comes after an idle gap gets the
// kernel's values of now, not those of its previous poll, and a huge table
// that takes long to read never makes a request time out.
type Source struct {
	ctx     context.Context
	cfg     Config
	cur     atomic.Pointer[entry]
	pending atomic.Pointer[chan struct{}] // the running background refresh, closed when it publishes
	read    sync.Mutex                    // one read at a time, background or Refresh
	done    chan struct{}                 // closed when the first view is published
	// activity counts views asked for and reads that found changes: Watch
	// tells from it whether anything but its own reads ran.
	activity atomic.Uint64
	// What the reads have cost, for ReadStats.
	reads, failures atomic.Uint64
	lastCost        atomic.Int64 // time.Duration

	// Guarded by read: what the reads have seen change.
	tracker   ipvsevents.Tracker
	lastAvail *mib.View   // the view of the tracker's last successful read
	changes   mib.Changes // lvsChanges and lvsLastChange so far
	ps        procState   // the /proc files and the connection table's last counts

	mu        sync.Mutex // serialises logging state changes
	logged    bool       // a state has been logged at least once
	available bool       // last logged state
	saveErr   string     // last logged Save error, "" after a success
}

// entry is a published view and whether it has outlived its TTL.
type entry struct {
	view      *mib.View
	start     time.Time     // when its read started, on the Source's clock
	cost      time.Duration // how long reading and building it took
	stale     atomic.Bool
	stopTimer func() bool // stops the timer that sets stale
}

var _ agent.ViewSource = (*Source)(nil)

// New returns a Source that reads with cfg.Reader until ctx ends. It does
// not read until Refresh or the first CurrentView.
func New(ctx context.Context, cfg Config) *Source {
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = defaultReadTimeout
	}
	if cfg.FirstWait <= 0 {
		cfg.FirstWait = defaultFirstWait
	}
	if cfg.RefreshWait == 0 {
		cfg.RefreshWait = DefaultRefreshWait
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AfterFunc == nil {
		cfg.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if cfg.SysUpTimeAt == nil {
		cfg.SysUpTimeAt = agent.NewUptime().At
	}
	if cfg.GCCycles == nil {
		cfg.GCCycles = gcCycles
	}
	if cfg.GCTime == nil {
		cfg.GCTime = gcCPUTime
	}
	if cfg.ProcessCPU == nil {
		cfg.ProcessCPU = processCPUTime
	}
	if cfg.ConnInterval <= 0 {
		cfg.ConnInterval = cfg.CacheTTL
	}
	s := &Source{ctx: ctx, cfg: cfg, done: make(chan struct{})}
	s.changes.SysUpTimeAt = cfg.SysUpTimeAt
	return s
}

// CurrentView returns the current view, refreshing it first if it is
// stale. The first call waits at most FirstWait, and returns an
// unavailable view if no read has finished by then; later calls wait at
// most RefreshWait, and return the stale view if the refresh has not
// finished by then.
func (s *Source) CurrentView() agent.View {
	return s.Current()
}

// ReadStats is what a Source's reads of IPVS have done so far.
type ReadStats struct {
	Reads    uint64 // reads of IPVS: the requests', the watch's and Refresh's
	Failures uint64 // reads that failed, or found the table changing under every attempt
	// LastDuration is how long the last read and the build of its view
	// took (without the connection table's background read).
	LastDuration time.Duration
}

// ReadStats returns what the reads have done so far.
func (s *Source) ReadStats() ReadStats {
	return ReadStats{Reads: s.reads.Load(), Failures: s.failures.Load(), LastDuration: time.Duration(s.lastCost.Load())}
}

// CurrentDeferred is Current for a caller that reads the whole view at
// once (a scrape of the metrics endpoint). Where Current would start a
// re-read and not wait for it (the last read outlasted RefreshWait), it
// returns the view at once and leaves the re-read to refresh, which the
// caller calls when done with the view: on a busy CPU the caller then does
// not share it with a read whose result it would not use. Otherwise it is
// Current, and refresh does nothing.
func (s *Source) CurrentDeferred() (v *mib.View, refresh func()) {
	if e := s.cur.Load(); e != nil && e.stale.Load() && !s.waitsFor(e) {
		s.activity.Add(1)
		return e.view, func() { s.startRefresh() }
	}
	return s.Current(), func() {}
}

// waitsFor reports whether a request that finds e stale waits for the
// re-read: not when told never to, nor when e's read outlasted the wait (a
// table that took that long will again, and waiting would only delay an
// answer it cannot change).
func (s *Source) waitsFor(e *entry) bool {
	return s.cfg.RefreshWait >= 0 && e.cost <= s.cfg.RefreshWait
}

// Current is CurrentView with the concrete type.
func (s *Source) Current() *mib.View {
	s.activity.Add(1)
	e := s.cur.Load()
	if e == nil {
		s.startRefresh()
		t := time.NewTimer(s.cfg.FirstWait)
		defer t.Stop()
		select {
		case <-s.done:
			return s.cur.Load().view
		case <-t.C:
		case <-s.ctx.Done():
		}
		return mib.Unavailable(s.cfg.Now(), s.cfg.Now)
	}
	if !e.stale.Load() {
		return e.view
	}
	refreshed := s.startRefresh()
	if !s.waitsFor(e) {
		return e.view
	}
	t := time.NewTimer(s.cfg.RefreshWait)
	defer t.Stop()
	select {
	case <-refreshed:
		return s.cur.Load().view
	case <-t.C:
	case <-s.ctx.Done():
	}
	return e.view
}

// maxRefreshShare bounds the time spent refreshing: a view is kept at least
// this many times as long as it took to make, whatever the cache TTL says.
const maxRefreshShare = 10

// ttl is how long a view that took cost to read and build is served
// before a request refreshes it: the cache TTL, stretched for tables so
// large that re-reading them every TTL would keep a CPU busy with netlink
// instead of answering requests.
func (s *Source) ttl(cost time.Duration) time.Duration {
	return max(s.cfg.CacheTTL, maxRefreshShare*cost)
}

// closed is returned for a refresh that finished before it could be
// waited for.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// startRefresh runs Refresh in the background unless one is running, and
// returns a channel closed once that refresh has published its view.
func (s *Source) startRefresh() <-chan struct{} {
	ch := make(chan struct{})
	if !s.pending.CompareAndSwap(nil, &ch) {
		if p := s.pending.Load(); p != nil {
			return *p
		}
		return closed // it has just published
	}
	go func() {
		s.Refresh(s.ctx)
		s.pending.Store(nil)
		close(ch)
	}()
	return ch
}

// Refresh reads IPVS now, compares the read with the one before (counting
// and notifying what changed), publishes the new view and returns it. When
// the read fails it publishes an unavailable view (keeping the indexes, so
// returning services get their numbers back), except when the table only
// changed too fast to read consistently: then the previous view stays.
// Background refreshes and Watch call it; `dump` may call it directly.
func (s *Source) Refresh(ctx context.Context) *mib.View {
	s.read.Lock()
	defer s.read.Unlock()
	readCtx, cancel := context.WithTimeout(ctx, s.cfg.ReadTimeout)
	defer cancel()
	start := s.cfg.Now()
	var cycles uint64
	if s.cfg.ReleaseMemory != nil {
		cycles = s.cfg.GCCycles()
	}
	snap, err := s.cfg.Reader.Read(readCtx)
	s.reads.Add(1)
	if err != nil {
		s.failures.Add(1)
	}
	if errors.Is(err, ipvsstats.ErrInconsistent) {
		// The table changed under every attempt (heavy churn): IPVS is
		// there and readable, so keep serving the last read, still stale,
		// rather than reporting IPVS unavailable; the next request or
		// watch tick reads again.
		if e := s.cur.Load(); e != nil {
			s.cfg.Logger.Debug("IPVS changed during every read attempt; serving the previous read", "err", err)
			return e.view
		}
	}
	var v *mib.View
	var h mib.Health
	var connsCost time.Duration
	if err != nil {
		snap, v = nil, mib.Unavailable(start, s.cfg.Now)
	} else {
		v = mib.Build(snap, s.cfg.Indexes, s.cfg.Now)
		h, connsCost = s.readHealth(start)
		v.SetHealth(h)
	}
	if ctx.Err() == nil { // a read cut short by shutdown says nothing about IPVS
		s.compare(snap, h.Settings, v)
	}
	v.SetChanges(s.changes)
	s.logState(err)
	s.logSave(s.cfg.Indexes.Save())
	e := &entry{view: v, start: start, cost: s.cfg.Now().Sub(start) - connsCost}
	s.lastCost.Store(int64(e.cost))
	e.stopTimer = s.cfg.AfterFunc(s.ttl(e.cost), func() { e.stale.Store(true) })
	if old := s.cur.Swap(e); old != nil {
		old.stopTimer()
	} else {
		close(s.done)
	}
	if s.cfg.ReleaseMemory != nil && s.cfg.GCCycles() != cycles {
		s.cfg.ReleaseMemory()
	}
	return v
}

// compare counts and notifies the changes from the previous read to snap
// (nil for a failed read) and to settings (nil when not read), whose view
// is v, and makes v the previous successful read if it is one.
func (s *Source) compare(snap *ipvsstats.Snapshot, settings []ipvsproc.Setting, v *mib.View) {
	events := append(s.tracker.Compare(snap), s.tracker.CompareSettings(settings)...)
	if len(events) > 0 {
		s.changes.Count += uint64(len(events))
		s.changes.Last = v.ReadAt()
		s.activity.Add(1)
	}
	for _, ev := range events {
		s.logEvent(ev)
		if s.cfg.Notify == nil || !s.cfg.NotifyKinds.Has(ev.Kind) {
			continue
		}
		if trap, vbs, ok := mib.Notification(ev, s.lastAvail, v, s.cfg.Indexes); ok {
			s.cfg.Notify(trap, vbs)
		}
	}
	if snap != nil {
		s.lastAvail = v
	}
}

// logEvent logs a change at debug level, for following the notifications.
func (s *Source) logEvent(ev ipvsevents.Event) {
	if !s.cfg.Logger.Enabled(s.ctx, slog.LevelDebug) {
		return
	}
	attrs := []any{"kind", ev.Kind.String()}
	if ev.Service != nil {
		attrs = append(attrs, "service", ev.Service.Label())
	}
	if ev.Dest != nil {
		attrs = append(attrs, "real", ev.Dest.Label())
	}
	if ev.Daemon != nil {
		attrs = append(attrs, "daemon", ev.Daemon.State.String(), "interface", ev.Daemon.Interface)
	}
	if ev.Setting != nil {
		attrs = append(attrs, "setting", ev.Setting.Name, "old", ev.Old.Value, "new", ev.Setting.Value)
	}
	s.cfg.Logger.Debug("IPVS change", attrs...)
}

// StormNotification returns lvsNotificationStorm reporting n notifications
// left out, with the current lvsChanges and lvsLastChange; it is the
// summary of an agent.Notifier.
func (s *Source) StormNotification(n uint32) (agentx.OID, []agentx.VarBind) {
	v := mib.Unavailable(s.cfg.Now(), s.cfg.Now)
	if e := s.cur.Load(); e != nil {
		v = e.view
	}
	return mib.Storm(v, n)
}

// logState logs the first state and every change between available and
// unavailable, not every failed read.
func (s *Source) logState(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	available := err == nil
	if s.logged && available == s.available {
		return
	}
	s.logged, s.available = true, available
	if available {
		s.cfg.Logger.Info("IPVS readable, serving its state")
	} else {
		s.cfg.Logger.Warn("IPVS unreadable, serving empty tables with lvsIpvsAvailable false", "err", err)
	}
}

// logSave logs a failure to write the state file once per distinct error.
func (s *Source) logSave(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil && s.saveErr != "":
		s.cfg.Logger.Info("index state file written again")
		s.saveErr = ""
	case err != nil && err.Error() != s.saveErr:
		s.cfg.Logger.Warn("index state not saved; numbers may change at the next restart", "err", err)
		s.saveErr = err.Error()
	}
}
