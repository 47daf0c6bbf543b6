package agentx

import "testing"

// BenchmarkEncodeResponse measures encoding a Response of 16 varbinds of
// mixed types; ns/op divided by 16 is the cost per varbind.
func BenchmarkEncodeResponse(b *testing.B) {
	vbs := allVarBinds()[:11]
	for len(vbs) < 16 {
		vbs = append(vbs, allVarBinds()[10])
	}
	p := &Packet{PDU: &Response{VarBinds: vbs}}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = p.AppendTo(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*16), "ns/varbind")
}

// BenchmarkDecodeGetNext measures decoding a GetNext of 16 ranges.
func BenchmarkDecodeGetNext(b *testing.B) {
	var rs []SearchRange
	for i := range 16 {
		rs = append(rs, SearchRange{Start: append(append(OID{}, lvs...), 1, uint32(i), 77)})
	}
	enc, err := (&Packet{PDU: &GetNext{Ranges: rs}}).Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*16), "ns/varbind")
}
