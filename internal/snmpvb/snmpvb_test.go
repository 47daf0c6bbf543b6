package snmpvb

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gosnmp/gosnmp"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

func TestFromPDU(t *testing.T) {
	name := agentx.OID{1, 3, 6, 1}
	tests := []struct {
		name string
		pdu  gosnmp.SnmpPDU
		want agentx.VarBind
	}{
		{"integer", gosnmp.SnmpPDU{Type: gosnmp.Integer, Value: -3}, agentx.VarBind{Type: agentx.Integer, Int: -3}},
		{"string", gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte("rr")}, agentx.VarBind{Type: agentx.OctetString, Bytes: []byte("rr")}},
		{"address", gosnmp.SnmpPDU{Type: gosnmp.IPAddress, Value: "10.0.0.1"}, agentx.VarBind{Type: agentx.IPAddress, Bytes: []byte{10, 0, 0, 1}}},
		{"counter32", gosnmp.SnmpPDU{Type: gosnmp.Counter32, Value: uint(7)}, agentx.VarBind{Type: agentx.Counter32, Uint: 7}},
		{"gauge32", gosnmp.SnmpPDU{Type: gosnmp.Gauge32, Value: uint(8)}, agentx.VarBind{Type: agentx.Gauge32, Uint: 8}},
		{"timeticks", gosnmp.SnmpPDU{Type: gosnmp.TimeTicks, Value: uint32(9)}, agentx.VarBind{Type: agentx.TimeTicks, Uint: 9}},
		{"counter64", gosnmp.SnmpPDU{Type: gosnmp.Counter64, Value: uint64(1 << 40)}, agentx.VarBind{Type: agentx.Counter64, Uint: 1 << 40}},
		{"oid", gosnmp.SnmpPDU{Type: gosnmp.ObjectIdentifier, Value: ".1.3.6"}, agentx.VarBind{Type: agentx.ObjectIdentifier, OID: agentx.OID{1, 3, 6}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.pdu.Name, tt.want.Name = name.String(), name
			got, err := FromPDU(tt.pdu)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("FromPDU (-want +got):\n%s", d)
			}
		})
	}
	for _, bad := range []gosnmp.SnmpPDU{
		{Name: ".1.3", Type: gosnmp.Integer, Value: "x"},
		{Name: ".1.3", Type: gosnmp.IPAddress, Value: "fd00::1"},
		{Name: ".1.3", Type: gosnmp.NoSuchObject},
		{Name: "x", Type: gosnmp.Integer, Value: 1},
	} {
		if vb, err := FromPDU(bad); err == nil {
			t.Errorf("FromPDU(%+v) = %+v, want an error", bad, vb)
		}
	}
}
