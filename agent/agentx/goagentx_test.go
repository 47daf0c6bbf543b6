package agentx

import (
	"reflect"
	"testing"
	"time"

	"github.com/posteo/go-agentx/pdu"
	"github.com/posteo/go-agentx/value"
)

// TestGoAgentXEncodings decodes what go-agentx encodes correctly (Open,
// Register, Response with common types) as an independent check of the
// little-endian layout.
func TestGoAgentXEncodings(t *testing.T) {
	id := pdu.ObjectIdentifier{}
	id.SetIdentifier(value.OID(lvs))
	var vars pdu.Variables
	vars.Add(value.OID(lvs), pdu.VariableTypeInteger, int32(-5))
	vars.Add(value.MustParseOID("1.3.6.1.4.1.8225.4711.2"), pdu.VariableTypeOctetString, "abcde")
	vars.Add(value.MustParseOID("1.3.6.1.4.1.8225.4711.3"), pdu.VariableTypeCounter32, uint32(99))
	vars.Add(value.MustParseOID("1.3.6.1.4.1.8225.4711.4"), pdu.VariableTypeGauge32, uint32(100))
	vars.Add(value.MustParseOID("1.3.6.1.4.1.8225.4711.5"), pdu.VariableTypeCounter64, uint64(1<<40+3))
	vars.Add(value.MustParseOID("1.3.6.1.4.1.8225.4711.6"), pdu.VariableTypeObjectIdentifier, "1.3.6.1.2.1")
	vars.Add(value.MustParseOID("1.3.6.1.4.1.8225.4711.7"), pdu.VariableTypeNoSuchInstance, nil)
	tests := []struct {
		name string
		in   pdu.Packet
		want PDU
	}{
		{"open", &pdu.Open{Timeout: pdu.Timeout{Duration: 5 * time.Second}, ID: id, Description: pdu.OctetString{Text: "lvs"}},
			&Open{Timeout: 5, ID: lvs, Description: []byte("lvs")}},
		{"register", &pdu.Register{Timeout: pdu.Timeout{Duration: 0, Priority: 127}, Subtree: id},
			&Register{Priority: 127, Subtree: lvs}},
		{"response", &pdu.Response{Error: pdu.ErrorNone, Index: 0, Variables: vars},
			&Response{VarBinds: []VarBind{
				{Name: lvs, Type: Integer, Int: -5},
				{Name: append(append(OID{}, lvs...), 2), Type: OctetString, Bytes: []byte("abcde")},
				{Name: append(append(OID{}, lvs...), 3), Type: Counter32, Uint: 99},
				{Name: append(append(OID{}, lvs...), 4), Type: Gauge32, Uint: 100},
				{Name: append(append(OID{}, lvs...), 5), Type: Counter64, Uint: 1<<40 + 3},
				{Name: append(append(OID{}, lvs...), 6), Type: ObjectIdentifier, OID: mustParseOID("1.3.6.1.2.1")},
				{Name: append(append(OID{}, lvs...), 7), Type: NoSuchInstance},
			}}},
	}
	for _, tt := range tests {
		hp := &pdu.HeaderPacket{Header: &pdu.Header{SessionID: 3, PacketID: 4}, Packet: tt.in}
		b, err := hp.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: go-agentx: %v", tt.name, err)
		}
		p, err := Decode(b, 0)
		if err != nil {
			t.Fatalf("%s: decode: %v", tt.name, err)
		}
		if p.SessionID != 3 || p.PacketID != 4 {
			t.Errorf("%s: header %+v", tt.name, p)
		}
		if !reflect.DeepEqual(normalize(p.PDU), normalize(tt.want)) {
			t.Errorf("%s: got %+v, want %+v", tt.name, p.PDU, tt.want)
		}
		// go-agentx never compresses the internet prefix, so compare the
		// decoded forms rather than bytes.
		ours, err := (&Packet{SessionID: 3, PacketID: 4, PDU: tt.want}).Encode()
		if err != nil {
			t.Fatal(err)
		}
		q, err := Decode(ours, 0)
		if err != nil || !reflect.DeepEqual(normalize(q.PDU), normalize(p.PDU)) {
			t.Errorf("%s: our encoding decodes to %+v (%v)", tt.name, q, err)
		}
	}
}
