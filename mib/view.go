package mib

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// View is an immutable LVS-MIB view of one snapshot. It keeps one small
// row per service, real server and sync daemon, sorted by index, and
// computes a cell's value when a request asks for it, so memory grows with
// rows, not with cells. It implements agent.View and is safe for concurrent
// use.
type View struct {
	snap     *ipvsstats.Snapshot // empty when IPVS could not be read
	ok       bool                // IPVS was read
	readAt   time.Time           // when the data (or the failed attempt) was read
	now      func() time.Time
	services []serviceRow        // sorted by num
	reals    []realRow           // sorted by (svcNum, num)
	daemons  []*ipvsstats.Daemon // sorted by role
	changes  Changes             // as of this view's read; zero unless SetChanges

	health     Health         // zero unless SetHealth
	settings   []settingRow   // sorted by idx
	connStates []connStateRow // sorted by (proto, idx)
}

// Changes is what the agent has seen change up to one read: lvsChanges and
// lvsLastChange.
type Changes struct {
	Count uint64
	// Last is when the read that found the last change started; zero for
	// none.
	Last time.Time
	// SysUpTimeAt is the master's sysUpTime at a time; lvsLastChange is 0
	// when it is nil.
	SysUpTimeAt func(time.Time) uint32
}

// Numbers gives services and real servers their LVS-MIB row numbers
// (lvsServiceNumber, lvsRealServerNumber), which stay the same across
// reads.
type Numbers interface {
	// Assign numbers the services and real servers of snap. It returns
	// the service numbers in the order of snap.Services and the real
	// server numbers flattened in the same order; 0 leaves a row out.
	Assign(snap *ipvsstats.Snapshot) (services, dests []uint16)
	// Lookup returns the number service k has and, when d is not nil,
	// that of its real server d: the numbers they have, or had when last
	// seen; 0 for none.
	Lookup(k ipvsstats.ServiceKey, d *ipvsstats.DestKey) (service, dest uint16)
}

type serviceRow struct {
	svc                       *ipvsstats.Service
	num                       uint16
	avail                     uint32 // real servers with weight > 0
	active, inactive, persist uint64 // sums over the real servers
}

type realRow struct {
	dest        *ipvsstats.Dest
	svcNum, num uint16
}

// Build numbers the snapshot's services and real servers with nums and
// returns their view. now is the clock for lvsDataAge, measured from
// snap.ReadAt; nil means time.Now. Rows nums leaves unnumbered are left
// out. Build runs in O(n log n).
func Build(snap *ipvsstats.Snapshot, nums Numbers, now func() time.Time) *View {
	v := &View{snap: snap, ok: true, readAt: snap.ReadAt, now: now}
	svcNums, destNums := nums.Assign(snap)
	v.services = make([]serviceRow, 0, len(snap.Services))
	v.reals = make([]realRow, 0, snap.NumDests())
	d := 0
	for i := range snap.Services {
		s := &snap.Services[i]
		row := serviceRow{svc: s, num: svcNums[i]}
		for j := range s.Dests {
			dest := &s.Dests[j]
			row.active += uint64(dest.ActiveConns)
			row.inactive += uint64(dest.InactiveConns)
			row.persist += uint64(dest.PersistConns)
			if dest.Weight > 0 {
				row.avail++
			}
			if row.num != 0 && destNums[d] != 0 {
				v.reals = append(v.reals, realRow{dest: dest, svcNum: row.num, num: destNums[d]})
			}
			d++
		}
		if row.num != 0 {
			v.services = append(v.services, row)
		}
	}
	slices.SortFunc(v.services, func(a, b serviceRow) int { return cmp.Compare(a.num, b.num) })
	slices.SortFunc(v.reals, func(a, b realRow) int {
		return cmp.Or(cmp.Compare(a.svcNum, b.svcNum), cmp.Compare(a.num, b.num))
	})

	for i := range snap.Daemons {
		dm := &snap.Daemons[i]
		if dm.State != ipvsstats.DaemonMaster && dm.State != ipvsstats.DaemonBackup {
			continue // not a role the table can index
		}
		if slices.ContainsFunc(v.daemons, func(o *ipvsstats.Daemon) bool { return o.State == dm.State }) {
			continue // at most one per role; a duplicate would break the order
		}
		v.daemons = append(v.daemons, dm)
	}
	slices.SortFunc(v.daemons, func(a, b *ipvsstats.Daemon) int { return cmp.Compare(a.State, b.State) })
	return v
}

// Unavailable returns the view served when IPVS could not be read at time
// at: lvsIpvsAvailable false, the other scalars zero or empty, no rows.
func Unavailable(at time.Time, now func() time.Time) *View {
	return &View{snap: &ipvsstats.Snapshot{}, readAt: at, now: now}
}

// ReadAt is when the view's data was read, or the read that failed
// started.
func (v *View) ReadAt() time.Time { return v.readAt }

// SetChanges sets the lvsChanges and lvsLastChange v serves. A view is
// shared once published: call it before.
func (v *View) SetChanges(c Changes) { v.changes = c }

// version is lvsVersion: empty, not 0.0.0, when IPVS was not read.
func (v *View) version() string {
	if !v.ok {
		return ""
	}
	return v.snap.Info.Version()
}

// lvsDaemonState values.
const (
	daemonNone            = 0
	daemonMasterAndBackup = 3
)

func (v *View) daemonState() int {
	state := daemonNone
	for _, d := range v.daemons {
		state |= int(d.State) // master(1) | backup(2) = masterAndBackup(3)
	}
	return state
}

func (v *View) mcastInterface() string {
	for _, d := range v.daemons { // sorted by role: master first
		return d.Interface
	}
	return ""
}

// dataAge is lvsDataAge, in hundredths of a second since the read.
func (v *View) dataAge() agentx.VarBind { return v.age(v.readAt) }

// age is the TimeTicks since t.
func (v *View) age(t time.Time) agentx.VarBind {
	now := time.Now
	if v.now != nil {
		now = v.now
	}
	cs := max(now().Sub(t)/(10*time.Millisecond), 0)
	return agentx.VarBind{Type: agentx.TimeTicks, Uint: uint64(min(cs, math.MaxUint32))}
}

// lastChange is lvsLastChange: the sysUpTime at the last change, computed
// when asked so that it follows a restarted master (0 for a change before
// the master started).
func (v *View) lastChange() agentx.VarBind {
	var ticks uint32
	if !v.changes.Last.IsZero() && v.changes.SysUpTimeAt != nil {
		ticks = v.changes.SysUpTimeAt(v.changes.Last)
	}
	return agentx.VarBind{Type: agentx.TimeTicks, Uint: uint64(ticks)}
}

// rows returns how many instances an object of table t has.
func (v *View) rows(t Table) int {
	switch t {
	case ServiceTable:
		return len(v.services)
	case RealTable:
		return len(v.reals)
	case DaemonTable:
		return len(v.daemons)
	case ConnStateTable:
		return len(v.connStates)
	case SettingTable:
		return len(v.settings)
	}
	return 1
}

// index is the instance suffix of row i of table t. It returns an array so
// that comparing indexes allocates nothing.
func (v *View) index(t Table, i int) (idx [2]uint32, n int) {
	switch t {
	case ServiceTable:
		return [2]uint32{uint32(v.services[i].num)}, 1
	case RealTable:
		return [2]uint32{uint32(v.reals[i].svcNum), uint32(v.reals[i].num)}, 2
	case DaemonTable:
		return [2]uint32{uint32(v.daemons[i].State)}, 1
	case ConnStateTable:
		return [2]uint32{v.connStates[i].proto, v.connStates[i].idx}, 2
	case SettingTable:
		return [2]uint32{v.settings[i].idx}, 1
	}
	return [2]uint32{0}, 1
}

// search returns the first row of table t whose index is greater than
// suffix (or equal to it when include is set).
func (v *View) search(t Table, suffix agentx.OID, include bool) int {
	return sort.Search(v.rows(t), func(i int) bool {
		idx, n := v.index(t, i)
		c := agentx.OID(idx[:n]).Compare(suffix)
		return c > 0 || (include && c == 0)
	})
}

// findObject returns the position of the object whose OID is a prefix of
// oid, or -1 and the position of the first object after oid.
func findObject(oid agentx.OID) (match, next int) {
	i := sort.Search(len(objects), func(i int) bool { return objects[i].OID.Compare(oid) > 0 })
	// objects[i-1] <= oid < objects[i]; only objects[i-1] can be a prefix.
	if i > 0 && oid.HasPrefix(objects[i-1].OID) {
		return i - 1, i
	}
	return -1, i
}

// Get returns the instance named oid, or a NoSuchObject / NoSuchInstance
// exception named oid.
func (v *View) Get(oid agentx.OID) agentx.VarBind {
	o, _ := findObject(oid)
	if o < 0 || objects[o].value == nil {
		return agentx.VarBind{Name: oid, Type: agentx.NoSuchObject}
	}
	obj := &objects[o]
	if row, ok := v.row(obj.Table, oid[len(obj.OID):]); ok {
		vb := obj.value(v, row) // NoSuchInstance for a cell the row lacks
		vb.Name = oid
		return vb
	}
	return agentx.VarBind{Name: oid, Type: agentx.NoSuchInstance}
}

// row returns the row of table t whose index is suffix, if there is one.
func (v *View) row(t Table, suffix agentx.OID) (int, bool) {
	row := v.search(t, suffix, true)
	if row >= v.rows(t) {
		return 0, false
	}
	idx, n := v.index(t, row)
	return row, agentx.OID(idx[:n]).Compare(suffix) == 0
}

// Next returns the first instance after from (or at it, with include) and
// before to (no bound when to is empty), walking column by column. Its name
// is appended to dst[:0].
func (v *View) Next(dst, from agentx.OID, include bool, to agentx.OID) (agentx.VarBind, bool) {
	match, next := findObject(from)
	if match >= 0 {
		obj := &objects[match]
		if vb, ok := v.first(dst, obj, from[len(obj.OID):], include); ok {
			return bounded(vb, to)
		}
	}
	for i := next; i < len(objects); i++ {
		obj := &objects[i]
		if len(to) > 0 && obj.OID.Compare(to) >= 0 {
			return agentx.VarBind{}, false
		}
		if vb, ok := v.first(dst, obj, nil, true); ok {
			return bounded(vb, to)
		}
	}
	return agentx.VarBind{}, false
}

func bounded(vb agentx.VarBind, to agentx.OID) (agentx.VarBind, bool) {
	if len(to) > 0 && vb.Name.Compare(to) >= 0 {
		return agentx.VarBind{}, false
	}
	return vb, true
}

// first returns obj's first instance after suffix (or at it, with include),
// its name appended to dst[:0].
func (v *View) first(dst agentx.OID, obj *object, suffix agentx.OID, include bool) (agentx.VarBind, bool) {
	if obj.value == nil { // not served
		return agentx.VarBind{}, false
	}
	for row := v.search(obj.Table, suffix, include); row < v.rows(obj.Table); row++ {
		vb := obj.value(v, row)
		if vb.Type == agentx.NoSuchInstance {
			continue // a cell this row lacks
		}
		idx, n := v.index(obj.Table, row)
		vb.Name = append(append(dst[:0], obj.OID...), idx[:n]...)
		return vb, true
	}
	return agentx.VarBind{}, false
}
