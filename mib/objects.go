package mib

import (
	"math"
	"net/netip"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// Root is the OID of the LVS-MIB module identity, lvs
// (enterprises.8225.4711). Every object the view serves is below it.
var Root = agentx.OID{1, 3, 6, 1, 4, 1, 8225, 4711}

// Table is the part of the LVS-MIB an object's instances are in.
type Table uint8

// The scalars, the tables and the notifications.
const (
	Scalars        Table = iota // one instance, .0
	ServiceTable                // lvsServiceTable(17), INDEX lvsServiceNumber
	RealTable                   // lvsRealTable(18), INDEX (service, server)
	DaemonTable                 // lvsSyncDaemonTable(19), INDEX role
	Notifications               // lvsNotifications(0): no instances
	ConnStateTable              // lvsConnStateTable(lvsConn 5), INDEX (proto, state)
	SettingTable                // lvsSettingTable(22), INDEX lvsSettingIndex
)

// Class says how an object's values relate to IPVS, so that a program
// comparing two reads of them knows which differences are expected.
type Class uint8

// Classes of objects.
const (
	// ClassSetting: configuration, identity or a count of configured objects,
	// the same in any read of an unchanged table.
	ClassSetting Class = iota
	// ClassName: the column that names a row (lvsServiceName,
	// lvsRealServerName), the same however the rows are numbered.
	ClassName
	// ClassIndex: a row number, which depends on the numbering.
	ClassIndex
	// ClassCounter: a total since the service or real server was added; a
	// later read never has less.
	ClassCounter
	// ClassGauge: moves by itself: rates, connection counts.
	ClassGauge
	// ClassAgent: the agent's own account, not a value of IPVS: how old its
	// data is, what it has seen change since it started, how many
	// notifications it left out. Another reader of IPVS has nothing to
	// compare it with.
	ClassAgent
	// ClassNotification: a NOTIFICATION-TYPE, which the agent sends and
	// which has no value.
	ClassNotification
)

// Object is one object type or notification of the LVS-MIB: a scalar, a
// table column, or a notification.
type Object struct {
	Name  string     // descriptor in LVS-MIB.txt
	OID   agentx.OID // scalar: lvs.N; column: lvs.T.1.C; notification: lvs.0.N
	Table Table
	Class Class
	// NotifyOnly: declared accessible-for-notify, so only notifications
	// carry it (lvsNotificationsLeftOut).
	NotifyOnly bool
	// Writable: declared read-write; an agent started with writing on
	// accepts a SET of it (see ParseSet).
	Writable bool
}

// Served reports whether requests find instances of o: false for the
// notifications and for what only notifications carry.
func (o Object) Served() bool { return o.Class != ClassNotification && !o.NotifyOnly }

// object is an Object with its value: value computes the instance's value
// for row (ignored for scalars) on demand, so a view never holds one
// VarBind per cell. It is nil for what the view does not serve.
type object struct {
	Object
	value func(v *View, row int) agentx.VarBind
}

// Sub-identifiers of the tables below lvs.
const (
	serviceTableArc = 17
	realTableArc    = 18
	daemonTableArc  = 19
	totalsArc       = 20
	connArc         = 21
	settingTableArc = 22
	defenseArc      = 23
	estimatedArc    = 24
)

// objects lists every object type and notification in OID order; the MIB
// file test checks it against LVS-MIB.txt. It is built once and never
// modified.
var objects = buildObjects()

// Objects returns every object type and notification of the LVS-MIB, in
// OID order; the view serves those whose Served is true.
func Objects() []Object {
	out := make([]Object, len(objects))
	for i := range objects {
		out[i] = objects[i].Object
	}
	return out
}

func buildObjects() []object {
	var objs []object
	for _, nt := range sortedNotificationTypes() { // lvs.0.N come first
		objs = append(objs, object{Object: Object{Name: nt.name, OID: child(notificationsOID, nt.arc),
			Table: Notifications, Class: ClassNotification}})
	}
	scalar := func(n uint32, name string, k Class, f func(v *View) agentx.VarBind) {
		objs = append(objs, object{Object{Name: name, OID: child(Root, n), Table: Scalars, Class: k},
			func(v *View, _ int) agentx.VarBind { return f(v) }})
	}
	scalar(1, "lvsVersion", ClassSetting, func(v *View) agentx.VarBind { return str(v.version()) })
	scalar(2, "lvsNumServices", ClassSetting, func(v *View) agentx.VarBind { return integer(int64(len(v.snap.Services))) })
	scalar(3, "lvsHashTableSize", ClassSetting, func(v *View) agentx.VarBind { return integer(int64(v.snap.Info.ConnTableSize)) })
	scalar(4, "lvsTcpTimeOut", ClassSetting, func(v *View) agentx.VarBind { return integer(int64(v.snap.Timeouts.TCP)) })
	scalar(5, "lvsTcpFinTimeOut", ClassSetting, func(v *View) agentx.VarBind { return integer(int64(v.snap.Timeouts.TCPFin)) })
	scalar(6, "lvsUdpTimeOut", ClassSetting, func(v *View) agentx.VarBind { return integer(int64(v.snap.Timeouts.UDP)) })
	scalar(7, "lvsDaemonState", ClassSetting, func(v *View) agentx.VarBind { return integer(int64(v.daemonState())) })
	scalar(8, "lvsMcastInt", ClassSetting, func(v *View) agentx.VarBind { return str(v.mcastInterface()) })
	scalar(9, "lvsIpvsAvailable", ClassSetting, func(v *View) agentx.VarBind { return truth(v.ok) })
	scalar(10, "lvsDataAge", ClassAgent, func(v *View) agentx.VarBind { return v.dataAge() })
	scalar(11, "lvsChanges", ClassAgent, func(v *View) agentx.VarBind { return counter32(v.changes.Count) })
	scalar(12, "lvsLastChange", ClassAgent, func(v *View) agentx.VarBind { return v.lastChange() })
	objs = append(objs, object{Object: Object{Name: "lvsNotificationsLeftOut", OID: child(Root, 13),
		Table: Scalars, Class: ClassAgent, NotifyOnly: true}})

	serviceColumn := func(c uint32, name string, k Class, f func(r *serviceRow) agentx.VarBind) {
		objs = append(objs, object{Object{Name: name, OID: column(serviceTableArc, c), Table: ServiceTable, Class: k},
			func(v *View, row int) agentx.VarBind { return f(&v.services[row]) }})
	}
	serviceColumn(1, "lvsServiceNumber", ClassIndex, func(r *serviceRow) agentx.VarBind { return integer(int64(r.num)) })
	serviceColumn(2, "lvsServiceSchedType", ClassSetting, func(r *serviceRow) agentx.VarBind { return str(r.svc.Scheduler) })
	serviceColumn(3, "lvsServiceProto", ClassSetting, func(r *serviceRow) agentx.VarBind { return integer(serviceProto(r.svc)) })
	serviceColumn(4, "lvsServiceAddr", ClassSetting, func(r *serviceRow) agentx.VarBind { return ipv4Only(r.svc.Family, r.svc.Addr) })
	serviceColumn(5, "lvsServicePort", ClassSetting, func(r *serviceRow) agentx.VarBind { return integer(servicePort(r.svc)) })
	serviceColumn(6, "lvsServiceFWMark", ClassSetting, func(r *serviceRow) agentx.VarBind { return integer(int64(int32(r.svc.FWMark))) })
	serviceColumn(7, "lvsServicePersistTimeout", ClassSetting, func(r *serviceRow) agentx.VarBind { return integer(int64(r.svc.Timeout)) })
	serviceColumn(8, "lvsServicePersistNetmask", ClassSetting, func(r *serviceRow) agentx.VarBind { return persistNetmask(r.svc) })
	serviceColumn(9, "lvsServiceNumDests", ClassSetting, func(r *serviceRow) agentx.VarBind { return integer(int64(len(r.svc.Dests))) })
	serviceColumn(10, "lvsServiceStatsConns", ClassCounter, func(r *serviceRow) agentx.VarBind { return counter32(r.svc.Stats.Conns) })
	serviceColumn(11, "lvsServiceStatsInPkts", ClassCounter, func(r *serviceRow) agentx.VarBind { return counter32(r.svc.Stats.InPkts) })
	serviceColumn(12, "lvsServiceStatsOutPkts", ClassCounter, func(r *serviceRow) agentx.VarBind { return counter32(r.svc.Stats.OutPkts) })
	serviceColumn(13, "lvsServiceStatsInBytes", ClassCounter, func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.InBytes) })
	serviceColumn(14, "lvsServiceStatsOutBytes", ClassCounter, func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.OutBytes) })
	serviceColumn(15, "lvsServiceRateCps", ClassGauge, func(r *serviceRow) agentx.VarBind { return gauge32(r.svc.Stats.CPS) })
	serviceColumn(16, "lvsServiceRateInPPS", ClassGauge, func(r *serviceRow) agentx.VarBind { return gauge32(r.svc.Stats.InPPS) })
	serviceColumn(17, "lvsServiceRateOutPPS", ClassGauge, func(r *serviceRow) agentx.VarBind { return gauge32(r.svc.Stats.OutPPS) })
	serviceColumn(18, "lvsServiceRateInBPS", ClassGauge, func(r *serviceRow) agentx.VarBind { return gauge32(r.svc.Stats.InBPS) })
	serviceColumn(19, "lvsServiceRateOutBPS", ClassGauge, func(r *serviceRow) agentx.VarBind { return gauge32(r.svc.Stats.OutBPS) })
	serviceColumn(20, "lvsServiceAddrType", ClassSetting, func(r *serviceRow) agentx.VarBind { return inetAddrType(r.svc.Family) })
	serviceColumn(21, "lvsServiceInetAddr", ClassSetting, func(r *serviceRow) agentx.VarBind { return inetAddr(r.svc.Family, r.svc.Addr) })
	serviceColumn(22, "lvsServicePersistPrefixLen", ClassSetting, func(r *serviceRow) agentx.VarBind { return gauge32(persistPrefixLen(r.svc)) })
	serviceColumn(23, "lvsServiceFlags", ClassSetting, func(r *serviceRow) agentx.VarBind { return serviceFlagBits(r.svc.Flags) })
	serviceColumn(24, "lvsServicePEName", ClassSetting, func(r *serviceRow) agentx.VarBind { return str(r.svc.PEName) })
	serviceColumn(25, "lvsServiceStatsConnsHC", ClassCounter, func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.Conns) })
	serviceColumn(26, "lvsServiceStatsInPktsHC", ClassCounter, func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.InPkts) })
	serviceColumn(27, "lvsServiceStatsOutPktsHC", ClassCounter, func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.OutPkts) })
	serviceColumn(28, "lvsServiceActiveConns", ClassGauge, func(r *serviceRow) agentx.VarBind { return gauge32(r.active) })
	serviceColumn(29, "lvsServiceInactiveConns", ClassGauge, func(r *serviceRow) agentx.VarBind { return gauge32(r.inactive) })
	serviceColumn(30, "lvsServicePersistConns", ClassGauge, func(r *serviceRow) agentx.VarBind { return gauge32(r.persist) })
	serviceColumn(31, "lvsServiceNumAvailDests", ClassSetting, func(r *serviceRow) agentx.VarBind { return gauge32(uint64(r.avail)) })
	serviceColumn(32, "lvsServiceRateInBPSHC", ClassGauge, func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.InBPS) })
	serviceColumn(33, "lvsServiceRateOutBPSHC", ClassGauge, func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.OutBPS) })
	serviceColumn(34, "lvsServiceName", ClassName, func(r *serviceRow) agentx.VarBind { return str(r.svc.Label()) })
	serviceColumn(serviceAdminStateCol, "lvsServiceAdminState", ClassSetting, func(r *serviceRow) agentx.VarBind {
		return integer(int64(serviceAdminState(r)))
	})
	objs[len(objs)-1].Writable = true

	realColumn := func(c uint32, name string, k Class, f func(r *realRow) agentx.VarBind) {
		objs = append(objs, object{Object{Name: name, OID: column(realTableArc, c), Table: RealTable, Class: k},
			func(v *View, row int) agentx.VarBind { return f(&v.reals[row]) }})
	}
	realColumn(1, "lvsRealServiceNumber", ClassIndex, func(r *realRow) agentx.VarBind { return integer(int64(r.svcNum)) })
	realColumn(2, "lvsRealServerNumber", ClassIndex, func(r *realRow) agentx.VarBind { return integer(int64(r.num)) })
	realColumn(3, "lvsRealServerAddr", ClassSetting, func(r *realRow) agentx.VarBind { return ipv4Only(r.dest.Family, r.dest.Addr) })
	realColumn(4, "lvsRealServerPort", ClassSetting, func(r *realRow) agentx.VarBind { return integer(int64(r.dest.Port)) })
	realColumn(5, "lvsRealServerFlags", ClassSetting, func(r *realRow) agentx.VarBind { return integer(int64(r.dest.FwdMethod)) })
	realColumn(realWeightCol, "lvsRealServerWeight", ClassSetting, func(r *realRow) agentx.VarBind { return integer(int64(r.dest.Weight)) })
	objs[len(objs)-1].Writable = true
	realColumn(7, "lvsRealStatsConns", ClassCounter, func(r *realRow) agentx.VarBind { return counter32(r.dest.Stats.Conns) })
	realColumn(8, "lvsRealStatsInPkts", ClassCounter, func(r *realRow) agentx.VarBind { return counter32(r.dest.Stats.InPkts) })
	realColumn(9, "lvsRealStatsOutPkts", ClassCounter, func(r *realRow) agentx.VarBind { return counter32(r.dest.Stats.OutPkts) })
	realColumn(10, "lvsRealStatsInBytes", ClassCounter, func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.InBytes) })
	realColumn(11, "lvsRealStatsOutBytes", ClassCounter, func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.OutBytes) })
	realColumn(12, "lvsRealRateCps", ClassGauge, func(r *realRow) agentx.VarBind { return gauge32(r.dest.Stats.CPS) })
	realColumn(13, "lvsRealRateInPPS", ClassGauge, func(r *realRow) agentx.VarBind { return gauge32(r.dest.Stats.InPPS) })
	realColumn(14, "lvsRealRateOutPPS", ClassGauge, func(r *realRow) agentx.VarBind { return gauge32(r.dest.Stats.OutPPS) })
	realColumn(15, "lvsRealRateInBPS", ClassGauge, func(r *realRow) agentx.VarBind { return gauge32(r.dest.Stats.InBPS) })
	realColumn(16, "lvsRealRateOutBPS", ClassGauge, func(r *realRow) agentx.VarBind { return gauge32(r.dest.Stats.OutBPS) })
	realColumn(17, "lvsRealServerAddrType", ClassSetting, func(r *realRow) agentx.VarBind { return inetAddrType(r.dest.Family) })
	realColumn(18, "lvsRealServerInetAddr", ClassSetting, func(r *realRow) agentx.VarBind { return inetAddr(r.dest.Family, r.dest.Addr) })
	realColumn(19, "lvsRealActiveConns", ClassGauge, func(r *realRow) agentx.VarBind { return gauge32(uint64(r.dest.ActiveConns)) })
	realColumn(20, "lvsRealInactiveConns", ClassGauge, func(r *realRow) agentx.VarBind { return gauge32(uint64(r.dest.InactiveConns)) })
	realColumn(21, "lvsRealPersistConns", ClassGauge, func(r *realRow) agentx.VarBind { return gauge32(uint64(r.dest.PersistConns)) })
	realColumn(22, "lvsRealUpperThreshold", ClassSetting, func(r *realRow) agentx.VarBind { return gauge32(uint64(r.dest.UpperThreshold)) })
	realColumn(23, "lvsRealLowerThreshold", ClassSetting, func(r *realRow) agentx.VarBind { return gauge32(uint64(r.dest.LowerThreshold)) })
	realColumn(24, "lvsRealStatsConnsHC", ClassCounter, func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.Conns) })
	realColumn(25, "lvsRealStatsInPktsHC", ClassCounter, func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.InPkts) })
	realColumn(26, "lvsRealStatsOutPktsHC", ClassCounter, func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.OutPkts) })
	realColumn(27, "lvsRealRateInBPSHC", ClassGauge, func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.InBPS) })
	realColumn(28, "lvsRealRateOutBPSHC", ClassGauge, func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.OutBPS) })
	realColumn(29, "lvsRealTunnelType", ClassSetting, func(r *realRow) agentx.VarBind { return integer(tunnelType(r.dest)) })
	realColumn(30, "lvsRealTunnelPort", ClassSetting, func(r *realRow) agentx.VarBind { return gauge32(uint64(tunnelPort(r.dest))) })
	realColumn(31, "lvsRealServerName", ClassName, func(r *realRow) agentx.VarBind { return str(r.dest.Label()) })
	realColumn(32, "lvsRealServerTunnelFlags", ClassSetting, func(r *realRow) agentx.VarBind { return tunnelFlagBits(r.dest) })
	realColumn(realAdminStateCol, "lvsRealServerAdminState", ClassSetting, func(r *realRow) agentx.VarBind {
		return integer(int64(destAdminState(r.dest.Weight)))
	})
	objs[len(objs)-1].Writable = true

	daemon := func(c uint32, name string, k Class, f func(d *ipvsstats.Daemon) agentx.VarBind) {
		objs = append(objs, object{Object{Name: name, OID: column(daemonTableArc, c), Table: DaemonTable, Class: k},
			func(v *View, row int) agentx.VarBind { return f(v.daemons[row]) }})
	}
	// Column 1, lvsSyncDaemonRole, is the not-accessible index.
	daemon(2, "lvsSyncDaemonInterface", ClassSetting, func(d *ipvsstats.Daemon) agentx.VarBind { return str(d.Interface) })
	daemon(3, "lvsSyncDaemonSyncId", ClassSetting, func(d *ipvsstats.Daemon) agentx.VarBind { return gauge32(uint64(d.SyncID)) })
	daemon(4, "lvsSyncDaemonMaxLen", ClassSetting, func(d *ipvsstats.Daemon) agentx.VarBind { return gauge32(uint64(d.MaxLen)) })
	daemon(5, "lvsSyncDaemonGroupAddrType", ClassSetting, func(d *ipvsstats.Daemon) agentx.VarBind { return inetAddrType(addrFamily(d.Group)) })
	daemon(6, "lvsSyncDaemonGroupAddr", ClassSetting, func(d *ipvsstats.Daemon) agentx.VarBind { return inetAddr(addrFamily(d.Group), d.Group) })
	daemon(7, "lvsSyncDaemonPort", ClassSetting, func(d *ipvsstats.Daemon) agentx.VarBind { return gauge32(uint64(d.Port)) })
	daemon(8, "lvsSyncDaemonTtl", ClassSetting, func(d *ipvsstats.Daemon) agentx.VarBind { return gauge32(uint64(d.TTL)) })
	return append(objs, healthObjects()...)
}

func child(o agentx.OID, n uint32) agentx.OID {
	c := make(agentx.OID, len(o), len(o)+1)
	copy(c, o)
	return append(c, n)
}

// column returns lvs.tableArc.1.col (the Entry is always arc 1).
func column(tableArc, col uint32) agentx.OID {
	return child(child(child(Root, tableArc), 1), col)
}

// Value constructors. Each returns a VarBind without a name.

func integer(i int64) agentx.VarBind {
	return agentx.VarBind{Type: agentx.Integer, Int: int32(max(math.MinInt32, min(i, math.MaxInt32)))}
}

func str(s string) agentx.VarBind {
	return agentx.VarBind{Type: agentx.OctetString, Bytes: []byte(s)}
}

func octets(b []byte) agentx.VarBind {
	return agentx.VarBind{Type: agentx.OctetString, Bytes: b}
}

// counter32 keeps the low 32 bits of a 64-bit kernel counter: a Counter32
// wraps, which managers handle.
func counter32(u uint64) agentx.VarBind {
	return agentx.VarBind{Type: agentx.Counter32, Uint: u & math.MaxUint32}
}

// gauge32 latches at 2^32-1 as RFC 2578 section 7.1.7 requires.
func gauge32(u uint64) agentx.VarBind {
	return agentx.VarBind{Type: agentx.Gauge32, Uint: min(u, math.MaxUint32)}
}

func counter64(u uint64) agentx.VarBind {
	return agentx.VarBind{Type: agentx.Counter64, Uint: u}
}

func ipAddress(a [4]byte) agentx.VarBind {
	return agentx.VarBind{Type: agentx.IPAddress, Bytes: a[:]}
}

// truth encodes a TruthValue: true(1), false(2).
func truth(b bool) agentx.VarBind {
	if b {
		return integer(1)
	}
	return integer(2)
}

// Protocol values of lvsServiceProto for fwmark services.
const protoFWMark = -1

func serviceProto(s *ipvsstats.Service) int64 {
	if s.FWMark != 0 {
		return protoFWMark
	}
	return int64(s.Protocol)
}

func servicePort(s *ipvsstats.Service) int64 {
	if s.FWMark != 0 {
		return -1
	}
	return int64(s.Port)
}

// ipv4Only is the classic 4-byte IpAddress column: the address for IPv4,
// 0.0.0.0 for IPv6 and for fwmark services (no address).
func ipv4Only(family ipvsstats.Family, a netip.Addr) agentx.VarBind {
	if family != ipvsstats.FamilyIPv4 || !a.Unmap().Is4() {
		return ipAddress([4]byte{})
	}
	return ipAddress(a.Unmap().As4())
}

// persistNetmask is the IPv4 persistence mask as an IpAddress; 0.0.0.0
// for IPv6, whose Netmask is a prefix length.
func persistNetmask(s *ipvsstats.Service) agentx.VarBind {
	m, _ := s.NetmaskIPv4()
	if !m.IsValid() {
		return ipAddress([4]byte{})
	}
	return ipAddress(m.As4())
}

// persistPrefixLen is the persistence granularity as a prefix length: the
// IPv6 value itself, or the number of leading one bits of the IPv4 mask.
func persistPrefixLen(s *ipvsstats.Service) uint64 {
	if s.Family != ipvsstats.FamilyIPv4 {
		return uint64(s.Netmask)
	}
	n := 0
	for m := s.Netmask; m&0x80000000 != 0; m <<= 1 {
		n++
	}
	return uint64(n)
}

// InetAddressType values (RFC 4001).
const (
	inetUnknown = 0
	inetIPv4    = 1
	inetIPv6    = 2
)

func inetAddrType(family ipvsstats.Family) agentx.VarBind {
	switch family {
	case ipvsstats.FamilyIPv4:
		return integer(inetIPv4)
	case ipvsstats.FamilyIPv6:
		return integer(inetIPv6)
	}
	return integer(inetUnknown)
}

// inetAddr is an RFC 4001 InetAddress: 4 or 16 bytes by family, empty when
// there is no address (fwmark services, a sync daemon without a group).
func inetAddr(family ipvsstats.Family, a netip.Addr) agentx.VarBind {
	switch {
	case !a.IsValid():
		return octets([]byte{})
	case family == ipvsstats.FamilyIPv4 && a.Unmap().Is4():
		b := a.Unmap().As4()
		return octets(b[:])
	case family == ipvsstats.FamilyIPv6:
		b := a.As16()
		return octets(b[:])
	}
	return octets([]byte{})
}

// addrFamily is the family of an address that comes without one (the sync
// daemon's multicast group); 0 for the zero Addr.
func addrFamily(a netip.Addr) ipvsstats.Family {
	switch {
	case !a.IsValid():
		return 0
	case a.Unmap().Is4():
		return ipvsstats.FamilyIPv4
	}
	return ipvsstats.FamilyIPv6
}

// serviceFlagBits encodes IP_VS_SVC_F_* bits 0..5 as BITS: kernel bit n
// (value 1<<n) is named bit n, and BITS bit n is the n-th most significant
// bit of the first octet.
func serviceFlagBits(f ipvsstats.Flags) agentx.VarBind {
	var b byte
	for n := range 6 {
		if f&(1<<n) != 0 {
			b |= 0x80 >> n
		}
	}
	return octets([]byte{b})
}

// tunnelFlagBits encodes a tunnel real server's IP_VS_TUNNEL_ENCAP_FLAG_*
// bits as BITS, bit n for kernel bit n as serviceFlagBits does: csum(0),
// remcsum(1); no bits for nocsum and for other forwarding methods.
func tunnelFlagBits(d *ipvsstats.Dest) agentx.VarBind {
	var b byte
	if d.FwdMethod == ipvsstats.FwdTunnel {
		for n := range 2 {
			if d.TunnelFlags&(1<<n) != 0 {
				b |= 0x80 >> n
			}
		}
	}
	return octets([]byte{b})
}

// lvsRealTunnelType values: none(0) for real servers that are not tunnel
// forwarded, else the kernel's type plus one.
func tunnelType(d *ipvsstats.Dest) int64 {
	if d.FwdMethod != ipvsstats.FwdTunnel {
		return 0
	}
	return int64(d.TunnelType) + 1
}

func tunnelPort(d *ipvsstats.Dest) uint16 {
	if d.FwdMethod != ipvsstats.FwdTunnel {
		return 0
	}
	return d.TunnelPort
}

// Describe returns the object type oid is an instance of (or names), such
// as lvsServiceStatsConns, and the instance part after the object's OID
// (the row index, or 0 for a scalar); or the notification oid names, such
// as lvsServiceAdded, with an empty instance.
func Describe(oid agentx.OID) (obj Object, instance agentx.OID, ok bool) {
	if i, _ := findObject(oid); i >= 0 {
		return objects[i].Object, oid[len(objects[i].OID):], true
	}
	return Object{}, nil, false
}
