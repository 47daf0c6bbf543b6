package mib

import (
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// Columns a SET may write.
const (
	realWeightCol        = 6  // lvsRealServerWeight
	realAdminStateCol    = 33 // lvsRealServerAdminState
	serviceAdminStateCol = 35 // lvsServiceAdminState
)

// AdminState is a value of lvsRealServerAdminState and
// lvsServiceAdminState.
type AdminState int32

// The administrative states.
const (
	// AdminEnabled: the real server has a weight above 0 (for a service:
	// at least one of its real servers has).
	AdminEnabled AdminState = 1
	// AdminDrained: weight 0, so IPVS schedules no new connection to it
	// while established ones run to their end (for a service: every real
	// server of it, and it has at least one).
	AdminDrained AdminState = 2
)

func (s AdminState) String() string {
	switch s {
	case AdminEnabled:
		return "enabled"
	case AdminDrained:
		return "drained"
	}
	return "invalid"
}

// MaxWeight is the highest weight a SET may write: the range ipvsadm
// accepts (-w 0..65535). The kernel takes any int from 0, and reads show
// whatever it holds, but a weight no other tool can write is more likely
// a typo than a wish.
const MaxWeight = 65535

// destAdminState is lvsRealServerAdminState of a real server of weight w.
func destAdminState(w int32) AdminState {
	if w > 0 {
		return AdminEnabled
	}
	return AdminDrained
}

// serviceAdminState is lvsServiceAdminState: drained when the service has
// real servers and none has a weight above 0.
func serviceAdminState(r *serviceRow) AdminState {
	if len(r.svc.Dests) > 0 && r.avail == 0 {
		return AdminDrained
	}
	return AdminEnabled
}

// SetColumn is the writable column a SET varbind names.
type SetColumn uint8

// The writable columns.
const (
	SetRealWeight        SetColumn = iota + 1 // lvsRealServerWeight
	SetRealAdminState                         // lvsRealServerAdminState
	SetServiceAdminState                      // lvsServiceAdminState
)

func (c SetColumn) String() string {
	switch c {
	case SetRealWeight:
		return "lvsRealServerWeight"
	case SetRealAdminState:
		return "lvsRealServerAdminState"
	case SetServiceAdminState:
		return "lvsServiceAdminState"
	}
	return "invalid"
}

// Write is one varbind of a SET, checked against a view: the column, the
// row as that view read it, and the value.
type Write struct {
	Column  SetColumn
	Service *ipvsstats.Service // the row's service
	Dest    *ipvsstats.Dest    // the row's real server; nil for SetServiceAdminState
	Value   int32              // a weight, or an AdminState
}

// ParseSet checks one SET varbind against v in the order RFC 3416
// (section 4.2.5) gives: NotWritable for anything but an instance of a
// writable column, WrongType for a value that is not an INTEGER,
// WrongValue for one outside the column's range (weights 0..MaxWeight,
// states enabled or drained), NoCreation for a row v does not have (rows
// are IPVS's to create).
func (v *View) ParseSet(vb agentx.VarBind) (Write, agentx.ErrorStatus) {
	o, _ := findObject(vb.Name)
	if o < 0 || !objects[o].Writable {
		return Write{}, agentx.NotWritable
	}
	obj := &objects[o]
	col := SetRealWeight
	switch obj.OID[len(obj.OID)-1] {
	case realAdminStateCol:
		col = SetRealAdminState
	case serviceAdminStateCol:
		col = SetServiceAdminState
	}
	if vb.Type != agentx.Integer {
		return Write{}, agentx.WrongType
	}
	w := Write{Column: col, Value: vb.Int}
	if col == SetRealWeight && (vb.Int < 0 || vb.Int > MaxWeight) ||
		col != SetRealWeight && AdminState(vb.Int) != AdminEnabled && AdminState(vb.Int) != AdminDrained {
		return Write{}, agentx.WrongValue
	}
	row, ok := v.row(obj.Table, vb.Name[len(obj.OID):])
	if !ok {
		return Write{}, agentx.NoCreation
	}
	if obj.Table == ServiceTable {
		w.Service = v.services[row].svc
		return w, agentx.NoError
	}
	r := &v.reals[row]
	w.Dest = r.dest
	// A real server's row exists only with its service's.
	svc, _ := v.row(ServiceTable, agentx.OID{uint32(r.svcNum)})
	w.Service = v.services[svc].svc
	return w, agentx.NoError
}

// Available reports whether v was read from IPVS (lvsIpvsAvailable).
func (v *View) Available() bool { return v.ok }
