package agent

import (
	"log/slog"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/agent/internal/sliceview"
	"github.com/lvs-agentx/lvs-agentx/internal/agentxtest"
)

// TestAnswersReuseNameStorage answers requests one after the other in one
// session, as the reader does, and checks every varbind of each response
// against the view, including a GetBulk whose names outgrow the storage the
// session keeps, and that a warm session answers a walk allocating nothing.
func TestAnswersReuseNameStorage(t *testing.T) {
	base := agentxtest.OID("1.3.6.1.4.1.8225.4711")
	v := sliceview.Table(base, 300)
	s := &session{a: &Agent{cfg: Config{Source: StaticView{V: v}}, log: slog.New(slog.DiscardHandler)}}
	all := v.VarBinds()
	pos := func(name agentx.OID) int {
		for i, vb := range all {
			if vb.Name.Compare(name) == 0 {
				return i
			}
		}
		t.Fatalf("%v is not in the view", name)
		return -1
	}
	col := func(c uint32) agentx.OID { return append(append(agentx.OID{}, base...), 1, c) }
	tests := []struct {
		name string
		pdu  agentx.PDU
		want []int // positions in all; -1: endOfMibView
	}{
		{"GetNext of three ranges", &agentx.GetNext{Ranges: []agentx.SearchRange{
			{Start: col(1)}, {Start: append(col(2), 7)}, {Start: append(col(16), 300)}}},
			[]int{0, 300 + 7, -1}},
		{"GetBulk past what the session keeps", &agentx.GetBulk{MaxRepetitions: 1000,
			Ranges: []agentx.SearchRange{{Start: col(3)}}}, seq(600, 1600)},
		{"GetBulk of two columns", &agentx.GetBulk{NonRepeaters: 1, MaxRepetitions: 3,
			Ranges: []agentx.SearchRange{{Start: base}, {Start: append(col(5), 1)}, {Start: append(col(16), 299)}}},
			[]int{0, 1201, 4799, 1202, -1, 1203, -1}},
		{"GetNext after the bulk", &agentx.GetNext{Ranges: []agentx.SearchRange{{Start: append(col(4), 10)}}},
			[]int{900 + 10}},
	}
	for _, tt := range tests {
		res := s.response()
		s.answer(&agentx.Packet{PDU: tt.pdu}, res)
		if len(res.VarBinds) != len(tt.want) {
			t.Fatalf("%s: %d varbinds, want %d", tt.name, len(res.VarBinds), len(tt.want))
		}
		for i, w := range tt.want {
			got := res.VarBinds[i]
			if w < 0 {
				if got.Type != agentx.EndOfMIBView {
					t.Errorf("%s: varbind %d is %v (position %d), want endOfMibView", tt.name, i, got.Name, pos(got.Name))
				}
				continue
			}
			if got.Type == agentx.EndOfMIBView || pos(got.Name) != w {
				t.Errorf("%s: varbind %d is %v %v, want %v", tt.name, i, got.Type, got.Name, all[w].Name)
			}
		}
	}
	walk := &agentx.GetNext{Ranges: []agentx.SearchRange{{Start: col(2)}}}
	if n := testing.AllocsPerRun(1000, func() {
		res := s.response()
		s.answer(&agentx.Packet{PDU: walk}, res)
		walk.Ranges[0].Start = append(walk.Ranges[0].Start[:0], res.VarBinds[0].Name...)
	}); n != 0 {
		t.Errorf("a GetNext allocated %v times, want 0", n)
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}
