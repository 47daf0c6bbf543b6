package agent

import (
	"log/slog"
	"maps"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/agent/internal/sliceview"
)

// fakeKernel is a Setter over four writable integers, base.1.1 to
// base.1.4, each 0 to 100. A commit of 66 fails at that varbind, after
// writing the ones before it, so that Undo has something to put back.
type fakeKernel struct {
	cells  map[uint32]int32
	locked bool // a transaction is open: SETs do not interleave
}

var setBase = agentx.OID{1, 3, 6, 1, 4, 1, 8225, 4711}

// setView is what the fake kernel serves to a Get.
var setView = sliceview.Table(setBase, 1)

func (k *fakeKernel) CurrentView() View { return setView }

type write struct {
	cell uint32
	val  int32
}

type fakeTxn struct {
	k       *fakeKernel
	writes  []write
	written map[uint32]int32 // old values of what Commit wrote
}

func (k *fakeKernel) TestSet(vbs []agentx.VarBind) (SetTxn, int, agentx.ErrorStatus) {
	if k.locked {
		return nil, 0, agentx.ResourceUnavailable
	}
	t := &fakeTxn{k: k, written: map[uint32]int32{}}
	for i, vb := range vbs {
		if len(vb.Name) != len(setBase)+2 || !vb.Name.HasPrefix(setBase) || vb.Name[len(setBase)] != 1 ||
			vb.Name[len(setBase)+1] < 1 || vb.Name[len(setBase)+1] > 4 {
			return nil, i, agentx.NotWritable
		}
		if vb.Type != agentx.Integer {
			return nil, i, agentx.WrongType
		}
		if vb.Int < 0 || vb.Int > 100 {
			return nil, i, agentx.WrongValue
		}
		t.writes = append(t.writes, write{vb.Name[len(setBase)+1], vb.Int})
	}
	k.locked = true
	return t, 0, agentx.NoError
}

func (t *fakeTxn) Commit() (int, agentx.ErrorStatus) {
	for i, w := range t.writes {
		if w.val == 66 {
			return i, agentx.CommitFailed
		}
		if _, ok := t.written[w.cell]; !ok {
			t.written[w.cell] = t.k.cells[w.cell]
		}
		t.k.cells[w.cell] = w.val
	}
	return 0, agentx.NoError
}

func (t *fakeTxn) Undo() (int, agentx.ErrorStatus) {
	maps.Copy(t.k.cells, t.written)
	clear(t.written)
	return 0, agentx.NoError
}

func (t *fakeTxn) Cleanup() { t.k.locked = false }

// setSession is a session serving k in the default context.
func setSession(k *fakeKernel) *session {
	return &session{a: &Agent{cfg: Config{Source: k}, log: slog.New(slog.DiscardHandler)}}
}

// phase runs one PDU of a set transaction as the session's handler does.
func phase(s *session, txID uint32, pdu agentx.PDU) *agentx.Response {
	res := s.response()
	if _, ok := pdu.(*agentx.CleanupSet); ok {
		s.setPhase(nil, txID, pdu, res)
		return res
	}
	s.answer(&agentx.Packet{TransactionID: txID, PDU: pdu}, res)
	return res
}

func setCell(c uint32) agentx.OID { return append(append(agentx.OID{}, setBase...), 1, c) }

func setOf(vals ...any) *agentx.TestSet {
	q := &agentx.TestSet{}
	for i := 0; i < len(vals); i += 2 {
		vb := agentx.VarBind{Name: setCell(vals[i].(uint32))}
		switch v := vals[i+1].(type) {
		case int:
			vb.Type, vb.Int = agentx.Integer, int32(v)
		case string:
			vb.Type, vb.Bytes = agentx.OctetString, []byte(v)
		}
		q.VarBinds = append(q.VarBinds, vb)
	}
	return q
}

func TestSetTransaction(t *testing.T) {
	type step struct {
		pdu       agentx.PDU
		err       agentx.ErrorStatus
		index     uint16
		wantCells map[uint32]int32 // after the step; nil: unchanged from the start
	}
	start := map[uint32]int32{1: 10, 2: 20, 3: 30, 4: 40}
	set12 := map[uint32]int32{1: 11, 2: 22, 3: 30, 4: 40}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a whole SET", []step{
			{setOf(uint32(1), 11, uint32(2), 22), 0, 0, nil},
			{&agentx.CommitSet{}, 0, 0, set12},
			{&agentx.CleanupSet{}, 0, 0, set12},
		}},
		{"one bad value among good ones", []step{
			{setOf(uint32(1), 11, uint32(2), 101, uint32(3), 33), agentx.WrongValue, 2, nil},
			{&agentx.CleanupSet{}, 0, 0, nil},
		}},
		{"a wrong type", []step{{setOf(uint32(3), "x"), agentx.WrongType, 1, nil}}},
		{"an object that is not writable", []step{{setOf(uint32(9), 1), agentx.NotWritable, 1, nil}}},
		{"a commit that fails half way, undone", []step{
			{setOf(uint32(1), 11, uint32(2), 66), 0, 0, nil},
			{&agentx.CommitSet{}, agentx.CommitFailed, 2, map[uint32]int32{1: 11, 2: 20, 3: 30, 4: 40}},
			{&agentx.UndoSet{}, 0, 0, nil},
			{&agentx.CleanupSet{}, 0, 0, nil},
		}},
		{"a commit with no TestSet", []step{{&agentx.CommitSet{}, agentx.CommitFailed, 0, nil}}},
		{"a second TestSet while one is open", []step{
			{setOf(uint32(1), 11), 0, 0, nil},
			// A master that skipped CleanupSet: the open one is cleaned
			// up, never committed.
			{setOf(uint32(2), 22), 0, 0, nil},
			{&agentx.CommitSet{}, 0, 0, map[uint32]int32{1: 10, 2: 22, 3: 30, 4: 40}},
		}},
	}
	for _, tt := range tests {
		k := &fakeKernel{cells: maps.Clone(start)}
		s := setSession(k)
		for i, st := range tt.steps {
			res := phase(s, 7, st.pdu)
			if res.Error != st.err || res.Index != st.index {
				t.Errorf("%s: step %d %s: %d index %d, want %d index %d", tt.name, i, st.pdu.Type(), res.Error, res.Index, st.err, st.index)
			}
			want := st.wantCells
			if want == nil {
				want = start
			}
			if !maps.Equal(k.cells, want) {
				t.Errorf("%s: after step %d %s: %v, want %v", tt.name, i, st.pdu.Type(), k.cells, want)
			}
		}
	}
	// Without a Setter every SET is refused.
	s := &session{a: &Agent{cfg: Config{Source: StaticView{V: sliceview.Table(setBase, 1)}}, log: slog.New(slog.DiscardHandler)}}
	if res := phase(s, 1, setOf(uint32(1), 1)); res.Error != agentx.NotWritable || res.Index != 1 {
		t.Errorf("read-only source: %d index %d, want notWritable index 1", res.Error, res.Index)
	}
}

// FuzzSetTransactions drives random sequences of set phases and GETs,
// with random transaction ids, cells, types and values, through the
// session: nothing panics, a Get is answered between any two phases, and
// the kernel changes only by a whole committed SET (or not at all, once a
// transaction ends).
func FuzzSetTransactions(f *testing.F) {
	f.Add([]byte{0, 1, 11, 0, 2, 22, 1, 3})
	f.Add([]byte{0, 1, 66, 1, 2, 3})
	f.Add([]byte{0, 9, 1, 0, 1, 200, 3, 1, 2, 3})
	f.Fuzz(func(t *testing.T, ops []byte) {
		k := &fakeKernel{cells: map[uint32]int32{1: 10, 2: 20, 3: 30, 4: 40}}
		s := setSession(k)
		defer s.endSet()
		var before, after map[uint32]int32 // of the open transaction: the cells without and with it
		for len(ops) > 0 {
			op, txID := ops[0]%5, uint32(ops[0]/5%2)
			ops = ops[1:]
			switch op {
			case 0: // TestSet of one to three varbinds
				q := &agentx.TestSet{}
				for n := 0; n < 3 && len(ops) >= 2; n++ {
					vb := agentx.VarBind{Name: setCell(uint32(ops[0] % 6)), Type: agentx.Integer, Int: int32(ops[1])}
					if ops[0]&0x80 != 0 {
						vb.Type = agentx.Gauge32
					}
					q.VarBinds = append(q.VarBinds, vb)
					ops = ops[2:]
				}
				res := phase(s, txID, q)
				// A TestSet ends the transaction still open (all of it or
				// nothing), then changes nothing itself.
				if before != nil && !maps.Equal(k.cells, before) && !maps.Equal(k.cells, after) {
					t.Fatalf("cells %v after a transaction, want %v or %v", k.cells, before, after)
				}
				start := maps.Clone(k.cells)
				if res.Error == agentx.NoError {
					before, after = start, maps.Clone(start)
					for _, vb := range q.VarBinds {
						after[vb.Name[len(vb.Name)-1]] = vb.Int
					}
				} else {
					before, after = nil, nil
				}
			case 1:
				phase(s, txID, &agentx.CommitSet{})
			case 2:
				phase(s, txID, &agentx.UndoSet{})
			case 3:
				phase(s, txID, &agentx.CleanupSet{})
			case 4:
				if res := phase(s, txID, &agentx.Get{Ranges: []agentx.SearchRange{{Start: setCell(1)}}}); res.Error != agentx.NoError || len(res.VarBinds) != 1 {
					t.Fatalf("Get between phases: %+v", res)
				}
			}
			if s.txn == nil && before != nil {
				// The transaction ended: all of it or nothing.
				if !maps.Equal(k.cells, before) && !maps.Equal(k.cells, after) {
					t.Fatalf("cells %v after a transaction, want %v or %v", k.cells, before, after)
				}
				before, after = nil, nil
			}
		}
	})
}
