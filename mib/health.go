package mib

import (
	"cmp"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvsproc"
)

// Health is what IPVS shows of a namespace beyond its tables, read from
// /proc: the totals, the connection table's counts and the settings.
// Each part is nil when it was not read.
type Health struct {
	Totals   *ipvsproc.Totals
	Settings []ipvsproc.Setting // sorted by name
	Conns    *ipvsproc.ConnCounts
	// ConnsReadAt is when Conns was read: the connection table is read
	// on its own schedule, less often than the rest when it is large.
	ConnsReadAt time.Time
}

// settingNames numbers the IPVS sysctls: a setting's lvsSettingIndex is
// its position here plus one, so that a name keeps its row on every
// kernel and in every version of the agent. Append only; never reorder.
var settingNames = []string{
	"am_droprate", "amemthresh", "backup_only", "cache_bypass", "conn_reuse_mode", "conntrack",
	"debug_level", "drop_entry", "drop_packet", "expire_nodest_conn", "expire_quiescent_template",
	"ignore_tunneled", "lblc_expiration", "lblcr_expiration", "nat_icmp_send", "pmtu_disc",
	"run_estimation", "schedule_icmp", "secure_tcp", "sloppy_sctp", "sloppy_tcp", "snat_reroute",
	"sync_persist_mode", "sync_ports", "sync_qlen_max", "sync_refresh_period", "sync_retries",
	"sync_sock_size", "sync_threshold", "sync_version", "est_cpulist", "est_nice",
}

// stateNames numbers the connection states `ipvsadm -Lnc` prints (TCP's,
// the persistence templates' ASSURED, UDP's, SCTP's, and the kernel's
// names for a state it cannot name), the same way. Append only.
var stateNames = []string{
	"NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
	"LAST_ACK", "LISTEN", "SYNACK", "ASSURED", "UDP", "INIT1", "INIT", "C-SENT", "C-REPLIED",
	"C-WAIT", "COOKIE", "C-ECHOED", "S-SENT", "S-RECEIVED", "S-ACK-SENT", "REJECTED", "CLOSED",
	"ERR!", "?",
}

// hashedIndexBase is where the indexes of names a list does not know
// start: a newer kernel's setting or state gets an index from a hash of
// its name, the same wherever it is read; when a later version learns the
// name, it must keep that number (list it with it) rather than append it.
const hashedIndexBase = 1_000_000

// nameIndex is the stable index of name in known.
func nameIndex(known []string, name string) uint32 {
	if i := slices.Index(known, name); i >= 0 {
		return uint32(i + 1)
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return hashedIndexBase + h.Sum32()%(math.MaxInt32-hashedIndexBase)
}

type settingRow struct {
	set *ipvsproc.Setting
	idx uint32
}

type connStateRow struct {
	st         *ipvsproc.StateCount
	proto, idx uint32
}

// SetHealth sets the health v serves. A view is shared once published:
// call it before.
func (v *View) SetHealth(h Health) {
	v.health = h
	v.settings = v.settings[:0]
	for i := range h.Settings {
		v.settings = append(v.settings, settingRow{&h.Settings[i], nameIndex(settingNames, h.Settings[i].Name)})
	}
	slices.SortFunc(v.settings, func(a, b settingRow) int { return cmp.Compare(a.idx, b.idx) })
	v.settings = slices.CompactFunc(v.settings, func(a, b settingRow) bool { return a.idx == b.idx })
	v.connStates = v.connStates[:0]
	if h.Conns != nil {
		for i := range h.Conns.States {
			st := &h.Conns.States[i]
			v.connStates = append(v.connStates, connStateRow{st, protoNumber(st.Proto), nameIndex(stateNames, st.State)})
		}
	}
	slices.SortFunc(v.connStates, func(a, b connStateRow) int {
		return cmp.Or(cmp.Compare(a.proto, b.proto), cmp.Compare(a.idx, b.idx))
	})
	v.connStates = slices.CompactFunc(v.connStates, func(a, b connStateRow) bool { return a.proto == b.proto && a.idx == b.idx })
}

// protoNumber is the IP protocol number of a protocol as the connection
// table names it: IP, ICMP, TCP, UDP, ICMPv6, SCTP, or IP_n for others.
func protoNumber(name string) uint32 {
	switch name {
	case "IP":
		return 0
	case "ICMP":
		return 1
	case "TCP":
		return 6
	case "UDP":
		return 17
	case "ICMPv6":
		return 58
	case "SCTP":
		return 132
	}
	if n, err := strconv.ParseUint(strings.TrimPrefix(name, "IP_"), 10, 8); err == nil {
		return uint32(n)
	}
	return 255 // reserved: a name the kernel does not write
}

// noInstance is the value of a scalar the view has no instance of.
var noInstance = agentx.VarBind{Type: agentx.NoSuchInstance}

// setting returns the setting named name, or nil.
func (v *View) setting(name string) *ipvsproc.Setting {
	for i := range v.health.Settings {
		if v.health.Settings[i].Name == name {
			return &v.health.Settings[i]
		}
	}
	return nil
}

// intSetting is a setting's integer value as an Integer32, or no instance
// where the kernel has no such setting.
func (v *View) intSetting(name string) agentx.VarBind {
	s := v.setting(name)
	if s == nil {
		return noInstance
	}
	return settingInteger(s)
}

// ratesEstimated is lvsRatesEstimated: run_estimation, or true on kernels
// before 5.16, which always estimate.
func (v *View) ratesEstimated() agentx.VarBind {
	if v.health.Settings == nil {
		return noInstance
	}
	s := v.setting("run_estimation")
	return truth(s == nil || !s.IsInteger || s.Integer != 0)
}

// totals applies f to the totals, or is no instance when they were not
// read.
func (v *View) totals(f func(t *ipvsproc.Totals) agentx.VarBind) agentx.VarBind {
	if v.health.Totals == nil {
		return noInstance
	}
	return f(v.health.Totals)
}

// conns applies f to the connection table's counts, or is no instance when
// it was not read.
func (v *View) conns(f func(c *ipvsproc.ConnCounts) agentx.VarBind) agentx.VarBind {
	if v.health.Conns == nil {
		return noInstance
	}
	return f(v.health.Conns)
}

// connDataAge is lvsConnDataAge, in hundredths of a second since the
// connection table was read.
func (v *View) connDataAge() agentx.VarBind {
	if v.health.Conns == nil {
		return noInstance
	}
	return v.age(v.health.ConnsReadAt)
}

// settingInteger is lvsSettingInteger: the value, or no instance when it
// is not one number that fits an Integer32.
func settingInteger(s *ipvsproc.Setting) agentx.VarBind {
	if !s.IsInteger || s.Integer < math.MinInt32 || s.Integer > math.MaxInt32 {
		return noInstance
	}
	return integer(s.Integer)
}

// healthObjects are the objects of Health, in OID order: lvsTotals(20),
// lvsConn(21), lvsSettingTable(22), lvsDefense(23), lvsRatesEstimated(24).
func healthObjects() []object {
	var objs []object
	scalar := func(oid agentx.OID, name string, k Class, f func(v *View) agentx.VarBind) {
		objs = append(objs, object{Object{Name: name, OID: oid, Table: Scalars, Class: k},
			func(v *View, _ int) agentx.VarBind { return f(v) }})
	}
	total := func(n uint32, name string, k Class, f func(t *ipvsproc.Totals) agentx.VarBind) {
		scalar(child(child(Root, totalsArc), n), name, k, func(v *View) agentx.VarBind { return v.totals(f) })
	}
	total(1, "lvsTotalConns", ClassCounter, func(t *ipvsproc.Totals) agentx.VarBind { return counter64(t.Conns) })
	total(2, "lvsTotalInPkts", ClassCounter, func(t *ipvsproc.Totals) agentx.VarBind { return counter64(t.InPkts) })
	total(3, "lvsTotalOutPkts", ClassCounter, func(t *ipvsproc.Totals) agentx.VarBind { return counter64(t.OutPkts) })
	total(4, "lvsTotalInBytes", ClassCounter, func(t *ipvsproc.Totals) agentx.VarBind { return counter64(t.InBytes) })
	total(5, "lvsTotalOutBytes", ClassCounter, func(t *ipvsproc.Totals) agentx.VarBind { return counter64(t.OutBytes) })
	total(6, "lvsTotalRateCps", ClassGauge, func(t *ipvsproc.Totals) agentx.VarBind { return gauge32(t.CPS) })
	total(7, "lvsTotalRateInPPS", ClassGauge, func(t *ipvsproc.Totals) agentx.VarBind { return gauge32(t.InPPS) })
	total(8, "lvsTotalRateOutPPS", ClassGauge, func(t *ipvsproc.Totals) agentx.VarBind { return gauge32(t.OutPPS) })
	total(9, "lvsTotalRateInBPS", ClassGauge, func(t *ipvsproc.Totals) agentx.VarBind { return gauge32(t.InBPS) })
	total(10, "lvsTotalRateOutBPS", ClassGauge, func(t *ipvsproc.Totals) agentx.VarBind { return gauge32(t.OutBPS) })
	total(11, "lvsTotalRateInBPSHC", ClassGauge, func(t *ipvsproc.Totals) agentx.VarBind { return counter64(t.InBPS) })
	total(12, "lvsTotalRateOutBPSHC", ClassGauge, func(t *ipvsproc.Totals) agentx.VarBind { return counter64(t.OutBPS) })

	conn := func(n uint32, name string, f func(c *ipvsproc.ConnCounts) agentx.VarBind) {
		scalar(child(child(Root, connArc), n), name, ClassGauge, func(v *View) agentx.VarBind { return v.conns(f) })
	}
	conn(1, "lvsConnEntries", func(c *ipvsproc.ConnCounts) agentx.VarBind { return gauge32(c.Entries) })
	conn(2, "lvsConnTemplates", func(c *ipvsproc.ConnCounts) agentx.VarBind { return gauge32(c.Templates) })
	conn(3, "lvsConnFromSync", func(c *ipvsproc.ConnCounts) agentx.VarBind { return gauge32(c.FromSync) })
	scalar(child(child(Root, connArc), 4), "lvsConnDataAge", ClassAgent, (*View).connDataAge)
	stateColumn := func(c uint32, name string, k Class, f func(r *connStateRow) agentx.VarBind) {
		oid := child(child(child(child(Root, connArc), 5), 1), c)
		objs = append(objs, object{Object{Name: name, OID: oid, Table: ConnStateTable, Class: k},
			func(v *View, row int) agentx.VarBind { return f(&v.connStates[row]) }})
	}
	stateColumn(1, "lvsConnStateProto", ClassSetting, func(r *connStateRow) agentx.VarBind { return integer(int64(r.proto)) })
	// Column 2, lvsConnStateIndex, is the not-accessible index.
	stateColumn(3, "lvsConnStateName", ClassSetting, func(r *connStateRow) agentx.VarBind { return str(r.st.State) })
	stateColumn(4, "lvsConnStateCount", ClassGauge, func(r *connStateRow) agentx.VarBind { return gauge32(r.st.Count) })

	settingColumn := func(c uint32, name string, f func(s *ipvsproc.Setting) agentx.VarBind) {
		objs = append(objs, object{Object{Name: name, OID: column(settingTableArc, c), Table: SettingTable, Class: ClassSetting},
			func(v *View, row int) agentx.VarBind { return f(v.settings[row].set) }})
	}
	// Column 1, lvsSettingIndex, is the not-accessible index.
	settingColumn(2, "lvsSettingName", func(s *ipvsproc.Setting) agentx.VarBind { return str(s.Name) })
	settingColumn(3, "lvsSettingValue", func(s *ipvsproc.Setting) agentx.VarBind { return str(s.Value) })
	settingColumn(4, "lvsSettingInteger", settingInteger)
	objs = append(objs, object{Object: Object{Name: "lvsSettingPreviousValue", OID: column(settingTableArc, 5),
		Table: SettingTable, Class: ClassSetting, NotifyOnly: true}})

	// The defenses move by themselves: the kernel turns them on and off.
	defense := func(n uint32, name string, k Class, setting string) {
		scalar(child(child(Root, defenseArc), n), name, k, func(v *View) agentx.VarBind { return v.intSetting(setting) })
	}
	defense(1, "lvsDropEntry", ClassGauge, "drop_entry")
	defense(2, "lvsDropPacket", ClassGauge, "drop_packet")
	defense(3, "lvsSecureTcp", ClassGauge, "secure_tcp")
	defense(4, "lvsAmemthresh", ClassSetting, "amemthresh")
	scalar(child(Root, estimatedArc), "lvsRatesEstimated", ClassGauge, (*View).ratesEstimated)
	return objs
}
