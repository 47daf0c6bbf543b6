package ipvslive

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/agentxtest"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// setMaster drives one agent serving a Writable through a fake master.
type setMaster struct {
	t  *testing.T
	c  *agentxtest.Conn
	id uint32
}

// phase sends pdu in transaction tx and returns the response; nil for a
// CleanupSet, which is not answered: a Get after it waits until it is
// handled.
func (m *setMaster) phase(tx uint32, pdu agentx.PDU) *agentx.Response {
	m.id++
	p := &agentx.Packet{SessionID: m.c.SessionID, TransactionID: tx, PacketID: m.id, PDU: pdu}
	m.c.Send(p)
	if _, ok := pdu.(*agentx.CleanupSet); ok {
		m.phase(tx, agentxtest.Get(lvs(2, 0)))
		return nil
	}
	return m.c.Response(p)
}

// startSetAgent runs an agent serving w in the default context, connected
// to a fake master, until the test ends.
func startSetAgent(t *testing.T, w *Writable) *setMaster {
	ctx, cancel := context.WithCancel(context.Background())
	f := agentxtest.NewMaster(t)
	a, err := agent.New(agent.Config{Address: f.Addr, Subtree: mib.Root, Source: w, PingInterval: -1,
		Timeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return &setMaster{t: t, c: f.Accept(t, 1, mib.Root, agent.DefaultPriority, 0)}
}

// fuzzVarBind makes a SET varbind of two bytes: which column (a writable
// one or lvsRealServerPort), row, type and value.
func fuzzVarBind(a, b byte) agentx.VarBind {
	s, r := uint32(a>>2&3)+1, uint32(a>>4&3)+1 // service 4 and real 4 do not exist
	vb := agentx.VarBind{Type: agentx.Integer}
	switch a & 3 {
	case 0:
		vb.Name = realWeight(s, r)
		switch {
		case b < 200:
			vb.Int = int32(b % 10)
		case b == 255:
			vb.Int = -1
		default:
			vb.Int = mib.MaxWeight - 5 + int32(b-200) // past the range from 201
		}
	case 1:
		vb.Name, vb.Int = realState(s, r), int32(b%4)
	case 2:
		vb.Name, vb.Int = serviceState(s), int32(b%4)
	case 3:
		vb.Name, vb.Int = lvs(18, 1, 4, s, r), int32(b)
	}
	if a&0x80 != 0 {
		vb.Type, vb.Bytes = agentx.OctetString, []byte{b}
	}
	return vb
}

// kernelModel is what the fuzz test expects of the fake kernel.
type kernelModel struct {
	stable  map[string]int32 // the kernel outside a failed commit
	before  map[string]int32 // at the open transaction's TestSet
	open    bool
	tx      uint32
	partial bool // a commit failed part way: the kernel may differ until undone
}

// matches reports whether the kernel's weights are the model's, ignoring
// real servers deleted behind the agent's back.
func matches(kernel, model map[string]int32) bool {
	for k, w := range kernel {
		if mw, ok := model[k]; !ok || mw != w {
			return false
		}
	}
	return true
}

// committedAsAsked checks that the kernel holds what every varbind of a
// committed SET asked for.
func committedAsAsked(t *testing.T, w *Writable, k *writerKernel, vbs []agentx.VarBind) {
	rows := map[[2]uint32]string{}
	services := map[uint32][]string{}
	for _, s := range k.services {
		sn, _ := w.cfg.Indexes.Lookup(s.ServiceKey, nil)
		services[uint32(sn)] = nil
		for _, d := range s.Dests {
			_, rn := w.cfg.Indexes.Lookup(s.ServiceKey, &d.DestKey)
			key := s.Label() + " " + d.Label()
			rows[[2]uint32{uint32(sn), uint32(rn)}] = key
			services[uint32(sn)] = append(services[uint32(sn)], key)
		}
	}
	kernel := k.weights()
	for _, vb := range vbs {
		col, idx := vb.Name[len(mib.Root)+2], vb.Name[len(mib.Root)+3:]
		switch {
		case col == 35:
			positive := 0
			for _, key := range services[idx[0]] {
				if kernel[key] > 0 {
					positive++
				}
			}
			if (vb.Int == 2 && positive > 0) || (vb.Int == 1 && positive == 0 && len(services[idx[0]]) > 0) {
				t.Fatalf("service %d after a committed %v: kernel %v", idx[0], vb.Int, kernel)
			}
		case rows[[2]uint32{idx[0], idx[1]}] == "":
			// Deleted after TestSet; the commit succeeded before the
			// deletion reached its write.
		case col == 6 && kernel[rows[[2]uint32{idx[0], idx[1]}]] != vb.Int,
			col == 33 && (kernel[rows[[2]uint32{idx[0], idx[1]}]] > 0) != (vb.Int == 1):
			t.Fatalf("%v = %d committed, kernel %v", vb.Name, vb.Int, kernel)
		}
	}
}

// FuzzMaintenanceTransactions drives random set phases, transaction ids,
// varbinds (writable or not, rows that exist or not, wrong types and
// values), kernel write failures and real servers deleted behind the
// agent's back through an agent serving a Writable, with a fake master:
// nothing panics, every request is answered, and the kernel changes only
// by whole committed SETs (a failed commit is undone at its UndoSet or its
// end), each of which leaves what it asked for.
func FuzzMaintenanceTransactions(f *testing.F) {
	// Ops: 0 TestSet (count-1, then a pair of bytes per varbind, see
	// fuzzVarBind), 1 CommitSet, 2 UndoSet, 3 CleanupSet, 4 Get, 5 a
	// kernel fault (one byte); the op byte's 6s digit is the transaction.
	f.Add([]byte{0, 0, 2, 2, 1, 3, 0, 0, 2, 1, 1, 3})       // drain service 1, enable it
	f.Add([]byte{5, 2, 0, 0, 2, 2, 1, 2, 3})                // its second write fails: UndoSet
	f.Add([]byte{5, 2, 0, 0, 2, 2, 1, 3})                   // the same, undone at CleanupSet
	f.Add([]byte{5, 2, 0, 0, 2, 2, 1, 0, 0, 1, 1, 1, 3})    // ... undone at the next TestSet
	f.Add([]byte{5, 3, 0, 0, 2, 2, 1, 2, 3})                // a real server deleted during the commit
	f.Add([]byte{0, 0, 2, 2, 1, 2, 3})                      // a committed SET undone
	f.Add([]byte{0, 1, 0, 7, 5, 2, 1, 3})                   // a weight and a drain in one SET
	f.Add([]byte{0, 2, 0x81, 2, 0, 1, 0x12, 3, 1, 3})       // a wrong type among others
	f.Add([]byte{0, 1, 0x14, 7, 2, 2, 7, 1, 4, 9, 1, 4, 3}) // other transaction ids
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		k := newWriterKernel()
		logs := &logRecorder{}
		w := newWritable(t, ctx, k, "", logs)
		m := startSetAgent(t, w)
		md := kernelModel{stable: k.weights()}
		var vbs []agentx.VarBind
		for len(ops) > 0 {
			op, tx := ops[0]%6, uint32(ops[0]/6%2)
			ops = ops[1:]
			switch op {
			case 0: // TestSet of one to three varbinds
				q := &agentx.TestSet{}
				n := 1
				if len(ops) > 0 {
					n, ops = int(ops[0]%3)+1, ops[1:]
				}
				for ; n > 0 && len(ops) >= 2; n-- {
					q.VarBinds = append(q.VarBinds, fuzzVarBind(ops[0], ops[1]))
					ops = ops[2:]
				}
				res := m.phase(tx, q)
				// The open transaction ended first (a failed commit
				// undone); the TestSet itself changes nothing.
				md.partial = false
				md.open = res.Error == agentx.NoError
				md.tx, md.before, vbs = tx, md.stable, q.VarBinds
			case 1:
				res := m.phase(tx, &agentx.CommitSet{})
				switch {
				case !md.open || tx != md.tx:
				case res.Error == agentx.NoError:
					if !md.partial {
						committedAsAsked(t, w, k, vbs)
						md.stable = k.weights()
					}
				default:
					md.partial = true
				}
			case 2:
				m.phase(tx, &agentx.UndoSet{})
				if md.open && tx == md.tx {
					md.stable, md.partial = md.before, false
				}
			case 3:
				m.phase(tx, &agentx.CleanupSet{})
				if md.open && tx == md.tx {
					md.open, md.partial = false, false
				}
			case 4:
				if res := m.phase(tx, agentxtest.Get(realWeight(1, 1), serviceState(1))); res.Error != agentx.NoError || len(res.VarBinds) != 2 {
					t.Fatalf("Get: %+v", res)
				}
			case 5: // the kernel fails a write soon, or loses a real server
				if len(ops) == 0 {
					break
				}
				b := ops[0]
				ops = ops[1:]
				k.mu.Lock()
				if b&1 == 0 {
					k.failWrite = k.writes + 1 + int(b>>1%3)
				} else {
					last := []byte{11, 12, 13}[b>>1%3]
					k.beforeWrite = func(k *writerKernel) { k.remove(last); k.beforeWrite = nil }
				}
				k.mu.Unlock()
			}
			if logs.count("SET could not be undone") > 0 {
				return // the kernel failed an undo write too, and the agent said so
			}
			if !md.partial && !matches(k.weights(), md.stable) {
				t.Fatalf("after op %d: kernel %v, want %v", op, k.weights(), md.stable)
			}
		}
	})
}
