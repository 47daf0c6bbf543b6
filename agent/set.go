package agent

import (
	"slices"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// Setter is implemented by a ViewSource some of whose objects can be
// written. The agent calls it in the phases of RFC 2741's set transaction
// (section 7.2.4): TestSet, then the transaction's Commit, Undo after a
// failed commit, and Cleanup at the end whatever happened. A source that
// is no Setter answers every SET notWritable.
type Setter interface {
	// TestSet checks vbs, the varbinds of one SET, and prepares to write
	// them, changing nothing. It returns the transaction, or the index of
	// the first varbind it refuses (0-based) and why: NotWritable,
	// WrongType, WrongValue, NoCreation, InconsistentValue,
	// ResourceUnavailable, ... vbs are the transaction's to keep.
	TestSet(vbs []agentx.VarBind) (SetTxn, int, agentx.ErrorStatus)
}

// SetTxn is one SET between its TestSet and its CleanupSet.
type SetTxn interface {
	// Commit writes every varbind. When one write fails it returns its
	// index and CommitFailed, and the agent asks for Undo.
	Commit() (int, agentx.ErrorStatus)
	// Undo puts back every value Commit wrote; UndoFailed when it cannot.
	Undo() (int, agentx.ErrorStatus)
	// Cleanup ends the transaction and releases what TestSet took.
	Cleanup()
}

// setPhase answers one phase of a set transaction from the master. The
// session keeps the transaction TestSet began until CleanupSet, or until
// the session ends; a TestSet that finds one still open (a master that
// skipped CleanupSet) cleans it up first.
func (s *session) setPhase(src ViewSource, transactionID uint32, pdu agentx.PDU, res *agentx.Response) {
	refuse := func(i int, e agentx.ErrorStatus) {
		res.Error, res.Index = e, uint16(min(i+1, 65535))
	}
	switch q := pdu.(type) {
	case *agentx.TestSet:
		s.endSet()
		setter, ok := src.(Setter)
		if !ok {
			if len(q.VarBinds) > 0 {
				refuse(0, agentx.NotWritable)
			} else {
				res.Error = agentx.NotWritable
			}
			return
		}
		txn, i, e := setter.TestSet(cloneVarBinds(q.VarBinds))
		if e == agentx.NoError && txn == nil {
			e = agentx.GenErr // a Setter that neither refused nor began
		}
		if e != agentx.NoError {
			refuse(i, e)
			return
		}
		s.txn, s.txnID, s.txnFailed = txn, transactionID, false
	case *agentx.CommitSet:
		if s.txn == nil || s.txnID != transactionID {
			res.Error = agentx.CommitFailed
			return
		}
		if i, e := s.txn.Commit(); e != agentx.NoError {
			s.txnFailed = true
			refuse(i, e)
		}
	case *agentx.UndoSet:
		if s.txn == nil || s.txnID != transactionID {
			return // nothing was written
		}
		s.txnFailed = false
		if i, e := s.txn.Undo(); e != agentx.NoError {
			refuse(i, e)
		}
	case *agentx.CleanupSet:
		if s.txnID == transactionID {
			s.endSet()
		}
	}
}

// endSet cleans up the open transaction, if any, undoing first a commit
// that failed half way when the master did not ask for the undo: a SET is
// all or nothing.
func (s *session) endSet() {
	if s.txn == nil {
		return
	}
	if s.txnFailed {
		if _, e := s.txn.Undo(); e != agentx.NoError {
			s.a.log.Warn("agentx: a failed SET could not be undone", "err", e)
		}
	}
	s.txn.Cleanup()
	s.txn, s.txnFailed = nil, false
}

// cloneVarBinds copies vbs out of the decoder's storage, which the next
// request reuses.
func cloneVarBinds(vbs []agentx.VarBind) []agentx.VarBind {
	out := slices.Clone(vbs)
	for i := range out {
		out[i].Name = slices.Clone(out[i].Name)
		out[i].OID = slices.Clone(out[i].OID)
		out[i].Bytes = slices.Clone(out[i].Bytes)
	}
	return out
}
