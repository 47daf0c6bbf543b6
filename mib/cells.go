package mib

import (
	"slices"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// Column is a served object type resolved once, for reading many of its
// instances with View.Cell: how an exporter reads a view row by row
// instead of OID by OID.
type Column struct{ i int }

// ColumnOf returns the served object type named name (a scalar or a
// table column), or false.
func ColumnOf(name string) (Column, bool) {
	i := slices.IndexFunc(objects, func(o object) bool { return o.Name == name && o.Served() })
	return Column{i}, i >= 0
}

// Object describes c.
func (c Column) Object() Object { return objects[c.i].Object }

// Rows returns how many instances each served object of table t has in v:
// its rows, or 1 for the scalars.
func (v *View) Rows(t Table) int { return v.rows(t) }

// Cell returns the instance of c in row row (0 for a scalar), the value
// Get returns for it: a NoSuchInstance exception where the view has none
// (the health of a namespace that was not read, a setting's integer that
// is not one). row must be below v.Rows of c's table.
func (v *View) Cell(c Column, row int) agentx.VarBind {
	return objects[c.i].value(v, row)
}

// Index returns the index of row row of table t: lvsSyncDaemonRole for a
// sync daemon, which no column carries.
func (v *View) Index(t Table, row int) agentx.OID {
	idx, n := v.index(t, row)
	return agentx.OID(idx[:n])
}
