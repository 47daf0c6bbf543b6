// Package snmpvb converts what an SNMP manager (gosnmp) reads into the
// agent's VarBinds, so that a walk through snmpd compares with a view.
package snmpvb

import (
	"fmt"
	"net"

	"github.com/gosnmp/gosnmp"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// FromPDU converts a value gosnmp returned into a VarBind.
func FromPDU(p gosnmp.SnmpPDU) (agentx.VarBind, error) {
	oid, err := agentx.ParseOID(p.Name)
	if err != nil {
		return agentx.VarBind{}, fmt.Errorf("snmpd returned a bad OID %q", p.Name)
	}
	vb := agentx.VarBind{Name: oid}
	var ok bool
	switch p.Type {
	case gosnmp.Integer:
		vb.Type, vb.Int = agentx.Integer, int32(value[int](p, &ok))
	case gosnmp.OctetString:
		vb.Type, vb.Bytes = agentx.OctetString, value[[]byte](p, &ok)
	case gosnmp.IPAddress:
		s, _ := p.Value.(string)
		ip := net.ParseIP(s).To4()
		vb.Type, vb.Bytes, ok = agentx.IPAddress, []byte(ip), ip != nil
	case gosnmp.Counter32, gosnmp.Gauge32:
		vb.Type, vb.Uint = agentx.Counter32, uint64(value[uint](p, &ok))
		if p.Type == gosnmp.Gauge32 {
			vb.Type = agentx.Gauge32
		}
	case gosnmp.TimeTicks:
		vb.Type, vb.Uint = agentx.TimeTicks, uint64(value[uint32](p, &ok))
	case gosnmp.Counter64:
		vb.Type, vb.Uint = agentx.Counter64, value[uint64](p, &ok)
	case gosnmp.ObjectIdentifier:
		s, _ := p.Value.(string)
		var err error
		vb.Type = agentx.ObjectIdentifier
		vb.OID, err = agentx.ParseOID(s)
		ok = err == nil
	}
	if !ok {
		return agentx.VarBind{}, fmt.Errorf("%s: unexpected %v value %T", p.Name, p.Type, p.Value)
	}
	return vb, nil
}

// value returns p's value as a T and sets ok to whether it is one.
func value[T any](p gosnmp.SnmpPDU, ok *bool) T {
	v, is := p.Value.(T)
	*ok = is
	return v
}
