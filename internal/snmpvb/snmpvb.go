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
	bad := func() (agentx.VarBind, error) {
		return agentx.VarBind{}, fmt.Errorf("%s: unexpected %v value %T", p.Name, p.Type, p.Value)
	}
	switch p.Type {
	case gosnmp.Integer:
		v, ok := p.Value.(int)
		if !ok {
			return bad()
		}
		vb.Type, vb.Int = agentx.Integer, int32(v)
	case gosnmp.OctetString:
		v, ok := p.Value.([]byte)
		if !ok {
			return bad()
		}
		vb.Type, vb.Bytes = agentx.OctetString, v
	case gosnmp.IPAddress:
		s, _ := p.Value.(string)
		ip := net.ParseIP(s).To4()
		if ip == nil {
			return bad()
		}
		vb.Type, vb.Bytes = agentx.IPAddress, []byte(ip)
	case gosnmp.Counter32, gosnmp.Gauge32:
		v, ok := p.Value.(uint)
		if !ok {
			return bad()
		}
		vb.Type, vb.Uint = agentx.Counter32, uint64(v)
		if p.Type == gosnmp.Gauge32 {
			vb.Type = agentx.Gauge32
		}
	case gosnmp.TimeTicks:
		v, ok := p.Value.(uint32)
		if !ok {
			return bad()
		}
		vb.Type, vb.Uint = agentx.TimeTicks, uint64(v)
	case gosnmp.Counter64:
		v, ok := p.Value.(uint64)
		if !ok {
			return bad()
		}
		vb.Type, vb.Uint = agentx.Counter64, v
	case gosnmp.ObjectIdentifier:
		s, _ := p.Value.(string)
		o, err := agentx.ParseOID(s)
		if err != nil {
			return bad()
		}
		vb.Type, vb.OID = agentx.ObjectIdentifier, o
	default:
		return bad()
	}
	return vb, nil
}
