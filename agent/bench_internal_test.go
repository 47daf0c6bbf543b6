package agent

import (
	"log/slog"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/agent/internal/sliceview"
	"github.com/lvs-agentx/lvs-agentx/internal/agentxtest"
)

// benchAnswer measures the agent's whole per-request CPU path without I/O:
// decode the request, answer it from a 160k-varbind view, encode the reply.
func benchAnswer(b *testing.B, pdu agentx.PDU, varbinds int) {
	base := agentxtest.OID("1.3.6.1.4.1.8225.4711")
	a := &Agent{cfg: Config{Source: StaticView{V: sliceview.Table(base, 10000)}}, log: slog.New(slog.DiscardHandler)}
	s := &session{a: a}
	enc, err := (&agentx.Packet{PDU: pdu}).Encode()
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		h, err := agentx.ParseHeader(enc, 0)
		if err != nil {
			b.Fatal(err)
		}
		p, err := s.dec.Decode(h, enc[agentx.HeaderSize:])
		if err != nil {
			b.Fatal(err)
		}
		res := s.response()
		s.answer(p, res)
		if buf, err = (&agentx.Packet{PacketID: h.PacketID, PDU: res}).AppendTo(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*varbinds), "ns/varbind")
}

func BenchmarkAnswerGetNext1(b *testing.B) {
	start := agentxtest.OID("1.3.6.1.4.1.8225.4711.1.9.5000")
	benchAnswer(b, &agentx.GetNext{Ranges: []agentx.SearchRange{{Start: start}}}, 1)
}

func BenchmarkAnswerGet16(b *testing.B) {
	g := &agentx.Get{}
	for c := 1; c <= 16; c++ {
		g.Ranges = append(g.Ranges, agentx.SearchRange{Start: append(agentxtest.OID("1.3.6.1.4.1.8225.4711.1"), uint32(c), 777)})
	}
	benchAnswer(b, g, 16)
}

func BenchmarkAnswerGetBulk50(b *testing.B) {
	start := agentxtest.OID("1.3.6.1.4.1.8225.4711.1.4.100")
	benchAnswer(b, &agentx.GetBulk{MaxRepetitions: 50, Ranges: []agentx.SearchRange{{Start: start}}}, 50)
}
