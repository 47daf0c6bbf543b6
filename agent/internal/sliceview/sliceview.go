// Package sliceview is a View over a sorted slice of varbinds, with a
// synthetic table generator, for the agent's tests and benchmarks.
package sliceview

import (
	"fmt"
	"slices"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// View answers Get and Next by binary search over sorted varbinds.
type View struct {
	vbs     []agentx.VarBind
	objects []agentx.OID
}

// New returns a view of vbs, which it sorts. objects are the OIDs of the
// object types the view knows: a Get under one of them that names no
// variable is NoSuchInstance, anything else NoSuchObject.
func New(vbs []agentx.VarBind, objects []agentx.OID) *View {
	slices.SortFunc(vbs, func(a, b agentx.VarBind) int { return a.Name.Compare(b.Name) })
	return &View{vbs: vbs, objects: objects}
}

// VarBinds returns the view's variables in order; callers must not modify
// them.
func (v *View) VarBinds() []agentx.VarBind { return v.vbs }

func (v *View) search(oid agentx.OID) (int, bool) {
	return slices.BinarySearchFunc(v.vbs, oid, func(vb agentx.VarBind, o agentx.OID) int { return vb.Name.Compare(o) })
}

// Get implements agent.View.
func (v *View) Get(oid agentx.OID) agentx.VarBind {
	if i, ok := v.search(oid); ok {
		return v.vbs[i]
	}
	for _, o := range v.objects {
		if oid.HasPrefix(o) && len(oid) > len(o) {
			return agentx.VarBind{Name: oid, Type: agentx.NoSuchInstance}
		}
	}
	return agentx.VarBind{Name: oid, Type: agentx.NoSuchObject}
}

// Next implements agent.View. Like a view that builds its names, it copies
// the name into dst's storage.
func (v *View) Next(dst, from agentx.OID, include bool, to agentx.OID) (agentx.VarBind, bool) {
	i, found := v.search(from)
	if found && !include {
		i++
	}
	if i >= len(v.vbs) || (len(to) > 0 && v.vbs[i].Name.Compare(to) >= 0) {
		return agentx.VarBind{}, false
	}
	vb := v.vbs[i]
	vb.Name = append(dst[:0], vb.Name...)
	return vb, true
}

// Columns is the number of columns Table generates.
const Columns = 16

// Table returns a view of a synthetic table under base: entry base.1,
// columns base.1.c for c in 1..16, rows 1..rows, each column of a
// different type so that every value type crosses the wire.
func Table(base agentx.OID, rows int) *View {
	vbs := make([]agentx.VarBind, 0, rows*Columns)
	var objects []agentx.OID
	for c := 1; c <= Columns; c++ {
		col := append(append(agentx.OID{}, base...), 1, uint32(c))
		objects = append(objects, col)
		for r := 1; r <= rows; r++ {
			name := append(append(agentx.OID{}, col...), uint32(r))
			vbs = append(vbs, Cell(name, c, r))
		}
	}
	return New(vbs, objects)
}

// Cell is the value of column c, row r of Table.
func Cell(name agentx.OID, c, r int) agentx.VarBind {
	vb := agentx.VarBind{Name: name}
	u := uint64(r)
	switch c {
	case 1:
		vb.Type, vb.Int = agentx.Integer, int32(r)
	case 2:
		vb.Type, vb.Bytes = agentx.OctetString, []byte(fmt.Sprintf("row-%d", r))
	case 3:
		vb.Type, vb.Bytes = agentx.IPAddress, []byte{10, byte(r >> 16), byte(r >> 8), byte(r)}
	case 4:
		vb.Type, vb.Uint = agentx.Counter32, u*1000+4
	case 5:
		vb.Type, vb.Uint = agentx.Gauge32, u%100
	case 6:
		vb.Type, vb.Uint = agentx.TimeTicks, u*100
	case 7:
		vb.Type, vb.OID = agentx.ObjectIdentifier, agentx.OID{1, 3, 6, 1, 4, 1, 8225, uint32(r)}
	case 8:
		vb.Type, vb.Int = agentx.Integer, -int32(r)
	default:
		// Counter64 columns dominate the LVS-MIB; values beyond 32 bits.
		vb.Type, vb.Uint = agentx.Counter64, u<<33+uint64(c)
	}
	return vb
}
