package ipvslive

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// DestWriter writes a real server's attributes; the ipvsstats Reader is
// one (SET_DEST, what `ipvsadm -e` does).
type DestWriter interface {
	SetDest(ctx context.Context, svc ipvsstats.ServiceKey, d ipvsstats.Dest) error
}

// writeTimeout bounds one kernel write: a SET must be answered within
// snmpd's agentXTimeout and its retries.
const writeTimeout = 5 * time.Second

// WritableConfig configures a Writable.
type WritableConfig struct {
	// Writer writes the kernel's weights. Required.
	Writer DestWriter
	// Context names the SNMP context in the audit log ("" for the
	// default context).
	Context string
	// Logger receives one line per change committed or undone
	// (slog.Default() when nil).
	Logger *slog.Logger
}

// Writable is a Source whose real server weights a SET may change
// (maintenance by SET): an agent.Setter. A SET is all or nothing: TestSet
// reads IPVS afresh and checks every varbind before anything changes,
// Commit writes them, Undo puts back what a failed Commit wrote. One SET
// at a time: a TestSet that finds another transaction open is refused
// with resourceUnavailable, and requests are answered all the while.
type Writable struct {
	*Source
	opt  WritableConfig
	busy sync.Mutex // held from a TestSet that succeeds to its Cleanup
}

var _ agent.Setter = (*Writable)(nil)

// NewWritable returns s, writable through cfg.Writer.
func NewWritable(s *Source, cfg WritableConfig) *Writable {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Writable{Source: s, opt: cfg}
}

// change is what a SET does to one real server.
type change struct {
	vb       int // the varbind asking for it
	column   mib.SetColumn
	svc      *ipvsstats.Service
	dest     ipvsstats.Dest // as read by TestSet
	weight   int32          // the weight to write
	drained  int32          // the drained weight remembered before
	remember int32          // the drained weight to remember after
}

// writes reports whether c changes the kernel.
func (c *change) writes() bool { return c.weight != c.dest.Weight }

// txnState is where a setTxn is.
type txnState uint8

const (
	txnPlanned   txnState = iota // TestSet succeeded
	txnCommitted                 // Commit wrote everything
	txnFailed                    // Commit failed part way; Undo to come
	txnUndone                    // Undo ran: a transaction undone is over
)

// setTxn is one SET from its TestSet to its Cleanup.
type setTxn struct {
	w        *Writable
	changes  []change
	state    txnState
	failedAt int  // the varbind whose write failed
	written  int  // changes[:written] are in the kernel
	saved    bool // the remembered weights of changes are in the store
	ended    bool
}

// TestSet checks every varbind of a SET against a fresh read of IPVS and
// plans its changes, changing nothing (see mib.View.ParseSet for the
// errors). Two varbinds that would change the same real server, directly
// or through its service, are inconsistentValue. IPVS being unreadable is
// resourceUnavailable.
func (w *Writable) TestSet(vbs []agentx.VarBind) (agent.SetTxn, int, agentx.ErrorStatus) {
	if !w.busy.TryLock() {
		return nil, 0, agentx.ResourceUnavailable
	}
	t, i, e := w.plan(vbs)
	if e != agentx.NoError {
		w.busy.Unlock()
		return nil, i, e
	}
	return t, 0, agentx.NoError
}

// plan is TestSet with the lock held.
func (w *Writable) plan(vbs []agentx.VarBind) (*setTxn, int, agentx.ErrorStatus) {
	// A fresh read: the weights remembered and put back on undo must be
	// the kernel's, not those of a view a second old.
	v := w.Refresh(w.ctx)
	if !v.Available() {
		return nil, 0, agentx.ResourceUnavailable
	}
	t := &setTxn{w: w}
	type realID struct {
		svc  ipvsstats.ServiceKey
		dest ipvsstats.DestKey
	}
	seen := map[realID]bool{}
	for i, vb := range vbs {
		wr, e := v.ParseSet(vb)
		if e != agentx.NoError {
			return nil, i, e
		}
		dests := wr.Service.Dests
		if wr.Dest != nil {
			dests = []ipvsstats.Dest{*wr.Dest}
		}
		onlyRemembered := wr.Column == mib.SetServiceAdminState && w.remembersAny(wr.Service)
		for _, d := range dests {
			id := realID{wr.Service.ServiceKey, d.DestKey}
			if seen[id] {
				return nil, i, agentx.InconsistentValue
			}
			seen[id] = true
			c, ok := w.changeOf(i, wr, d)
			if ok && onlyRemembered && c.drained == 0 && c.weight > 0 && d.Weight <= 0 {
				// A real server of weight 0 this agent did not drain (a
				// sorry server) stays as it is.
				continue
			}
			if ok {
				t.changes = append(t.changes, c)
			}
		}
	}
	return t, 0, agentx.NoError
}

// remembersAny reports whether a real server of svc of weight 0 has a
// drained weight remembered: enabling the service then restores those
// only.
func (w *Writable) remembersAny(svc *ipvsstats.Service) bool {
	for _, d := range svc.Dests {
		if d.Weight <= 0 && w.cfg.Indexes.DrainedWeight(svc.ServiceKey, d.DestKey) > 0 {
			return true
		}
	}
	return false
}

// changeOf is what varbind i, wr, does to the real server d of its
// service; false when nothing.
func (w *Writable) changeOf(i int, wr mib.Write, d ipvsstats.Dest) (change, bool) {
	drained := w.cfg.Indexes.DrainedWeight(wr.Service.ServiceKey, d.DestKey)
	c := change{vb: i, column: wr.Column, svc: wr.Service, dest: d, weight: d.Weight, drained: drained, remember: drained}
	switch {
	case wr.Column == mib.SetRealWeight:
		c.weight = wr.Value
		if c.weight > 0 {
			c.remember = 0 // no longer drained
		}
	case mib.AdminState(wr.Value) == mib.AdminDrained:
		c.weight = 0
		if d.Weight > 0 {
			c.remember = d.Weight
		}
	case d.Weight <= 0: // enabled, and drained now
		c.weight, c.remember = max(drained, 1), 0
	}
	return c, c.writes() || c.remember != c.drained
}

// Commit remembers the weights of the real servers it drains (saving the
// state file first, so a drained weight is never lost to a crash), then
// writes each change to the kernel. On the first failure it returns that
// varbind's index and CommitFailed, and Undo puts back what was written.
// After the writes it reads IPVS again, so that the next request sees
// them and the notifications come as for any change. A Commit asked again
// answers as the first did, writing nothing.
func (t *setTxn) Commit() (int, agentx.ErrorStatus) {
	switch {
	case t.state == txnCommitted: // asked again: done already
		return 0, agentx.NoError
	case t.state != txnPlanned || t.ended:
		return t.failedAt, agentx.CommitFailed
	}
	t.state = txnFailed // until every write is done
	if len(t.changes) == 0 {
		t.state = txnCommitted
		return 0, agentx.NoError
	}
	w := t.w
	idx := w.cfg.Indexes
	t.saved = true
	for _, c := range t.changes {
		idx.SetDrainedWeight(c.svc.ServiceKey, c.dest.DestKey, c.remember)
	}
	if err := idx.Save(); err != nil {
		w.opt.Logger.Warn("SET refused: the state file, which keeps drained weights, cannot be written",
			"context", w.opt.Context, "err", err)
		t.failedAt = t.changes[0].vb
		return t.failedAt, agentx.CommitFailed
	}
	if !t.write() {
		return t.failedAt, agentx.CommitFailed
	}
	n := 0
	for _, c := range t.changes {
		if c.writes() {
			n++
			w.opt.Logger.Info("SET committed", "context", w.opt.Context, "service", c.svc.Label(),
				"real", c.dest.Label(), "object", c.column.String(), "old_weight", c.dest.Weight, "new_weight", c.weight)
		}
	}
	t.state = txnCommitted
	w.committed(n)
	return 0, agentx.NoError
}

// write writes the changes to the kernel, holding the Source's read lock
// so that no read sees a SET half written; false when one fails.
func (t *setTxn) write() bool {
	w := t.w
	ctx, cancel := context.WithTimeout(w.ctx, writeTimeout)
	defer cancel()
	w.read.Lock()
	defer w.read.Unlock()
	for _, c := range t.changes {
		if c.writes() {
			d := c.dest
			d.Weight = c.weight
			if err := w.opt.Writer.SetDest(ctx, c.svc.ServiceKey, d); err != nil {
				w.opt.Logger.Warn("SET failed; undoing what it wrote", "context", w.opt.Context,
					"service", c.svc.Label(), "real", c.dest.Label(), "err", err)
				t.failedAt = c.vb
				return false
			}
		}
		t.written++
	}
	return true
}

// Undo writes back the weights Commit wrote, latest first, and the
// drained weights remembered before. The transaction is then over: a
// Commit after it fails.
func (t *setTxn) Undo() (int, agentx.ErrorStatus) {
	if t.ended || t.state == txnUndone {
		return 0, agentx.NoError
	}
	t.state = txnUndone
	w := t.w
	ctx, cancel := context.WithTimeout(w.ctx, writeTimeout)
	defer cancel()
	failed, at := false, 0
	w.read.Lock() // no read sees an undo half done
	for i := t.written - 1; i >= 0; i-- {
		c := t.changes[i]
		if !c.writes() {
			continue
		}
		err := w.opt.Writer.SetDest(ctx, c.svc.ServiceKey, c.dest)
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH) {
			w.opt.Logger.Info("SET undo: the real server is gone, nothing to put back", "context", w.opt.Context,
				"service", c.svc.Label(), "real", c.dest.Label())
			continue
		}
		if err != nil {
			w.opt.Logger.Error("SET could not be undone: set this weight by hand", "context", w.opt.Context,
				"service", c.svc.Label(), "real", c.dest.Label(), "weight", c.dest.Weight, "err", err)
			failed, at = true, c.vb
			continue
		}
		w.opt.Logger.Info("SET undone", "context", w.opt.Context, "service", c.svc.Label(),
			"real", c.dest.Label(), "object", c.column.String(), "old_weight", c.weight, "new_weight", c.dest.Weight)
	}
	w.read.Unlock()
	t.written = 0
	if t.saved {
		idx := w.cfg.Indexes
		for _, c := range slices.Backward(t.changes) {
			idx.SetDrainedWeight(c.svc.ServiceKey, c.dest.DestKey, c.drained)
		}
		w.Source.logSave(idx.Save())
		t.saved = false
	}
	w.Refresh(w.ctx)
	if failed {
		return at, agentx.UndoFailed
	}
	return 0, agentx.NoError
}

// Cleanup ends the transaction and lets the next SET in.
func (t *setTxn) Cleanup() {
	if t.ended {
		return
	}
	t.ended = true
	t.w.busy.Unlock()
}

// committed counts n changes a SET made in lvsChanges and reads IPVS
// again, so that the next request sees them.
func (w *Writable) committed(n int) {
	if n > 0 {
		w.read.Lock()
		w.changes.Count += uint64(n)
		w.changes.Last = w.cfg.Now()
		w.activity.Add(1)
		w.read.Unlock()
	}
	w.Refresh(w.ctx)
}
