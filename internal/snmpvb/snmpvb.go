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
		var v int
		v, ok = p.Value.(int)
		vb.Type, vb.Int = agentx.Integer, int32(v)
	case gosnmp.OctetString:
		vb.Type = agentx.OctetString
		vb.Bytes, ok = p.Value.([]byte)
	case gosnmp.IPAddress:
		s, _ := p.Value.(string)
		ip := net.ParseIP(s).To4()
		vb.Type, vb.Bytes, ok = agentx.IPAddress, []byte(ip), ip != nil
	case gosnmp.Counter32, gosnmp.Gauge32:
		var v uint
		v, ok = p.Value.(uint)
		vb.Type, vb.Uint = agentx.Counter32, uint64(v)
		if p.Type == gosnmp.Gauge32 {
			vb.Type = agentx.Gauge32
		}
	case gosnmp.TimeTicks:
		var v uint32
		v, ok = p.Value.(uint32)
		vb.Type, vb.Uint = agentx.TimeTicks, uint64(v)
	case gosnmp.Counter64:
		vb.Type = agentx.Counter64
		vb.Uint, ok = p.Value.(uint64)
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
