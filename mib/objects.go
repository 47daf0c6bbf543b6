package mib

import (
	"math"
	"net/netip"
	"strconv"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// Root is the OID of the LVS-MIB module identity, lvs
// (enterprises.8225.4711). Every object the view serves is below it.
var Root = agentx.OID{1, 3, 6, 1, 4, 1, 8225, 4711}

// table says which row slice of a View an object's instances come from.
type table uint8

const (
	scalarTable  table = iota // one instance, .0
	serviceTable              // lvsServiceTable(17), INDEX lvsServiceNumber
	realTable                 // lvsRealTable(18), INDEX (service, server)
	daemonTable               // lvsSyncDaemonTable(19), INDEX role
)

// object is one object type the view serves: a scalar or a table column.
// value computes the instance's value for row (ignored for scalars) on
// demand, so a view never holds one VarBind per cell.
type object struct {
	name  string     // descriptor in LVS-MIB.txt
	oid   agentx.OID // scalar: lvs.N; column: lvs.T.1.C
	table table
	value func(v *View, row int) agentx.VarBind
}

// Sub-identifiers of the tables below lvs.
const (
	serviceTableArc = 17
	realTableArc    = 18
	daemonTableArc  = 19
)

// objects lists every object type in OID order; the MIB file test checks
// it against LVS-MIB.txt. It is built once and never modified.
var objects = buildObjects()

func buildObjects() []object {
	var objs []object
	scalar := func(n uint32, name string, f func(v *View) agentx.VarBind) {
		objs = append(objs, object{name: name, oid: child(Root, n), table: scalarTable,
			value: func(v *View, _ int) agentx.VarBind { return f(v) }})
	}
	scalar(1, "lvsVersion", func(v *View) agentx.VarBind { return str(v.version()) })
	scalar(2, "lvsNumServices", func(v *View) agentx.VarBind { return integer(int64(v.numServices())) })
	scalar(3, "lvsHashTableSize", func(v *View) agentx.VarBind { return integer(int64(v.info().ConnTableSize)) })
	scalar(4, "lvsTcpTimeOut", func(v *View) agentx.VarBind { return integer(int64(v.timeouts().TCP)) })
	scalar(5, "lvsTcpFinTimeOut", func(v *View) agentx.VarBind { return integer(int64(v.timeouts().TCPFin)) })
	scalar(6, "lvsUdpTimeOut", func(v *View) agentx.VarBind { return integer(int64(v.timeouts().UDP)) })
	scalar(7, "lvsDaemonState", func(v *View) agentx.VarBind { return integer(int64(v.daemonState())) })
	scalar(8, "lvsMcastInt", func(v *View) agentx.VarBind { return str(v.mcastInterface()) })
	scalar(9, "lvsIpvsAvailable", func(v *View) agentx.VarBind { return truth(v.snap != nil) })
	scalar(10, "lvsDataAge", func(v *View) agentx.VarBind { return v.dataAge() })
	scalar(11, "lvsChanges", func(v *View) agentx.VarBind { return counter32(v.changes.count) })
	scalar(12, "lvsLastChange", func(v *View) agentx.VarBind { return v.lastChange() })

	svc := func(c uint32, name string, f func(r *serviceRow) agentx.VarBind) {
		objs = append(objs, object{name: name, oid: column(serviceTableArc, c), table: serviceTable,
			value: func(v *View, row int) agentx.VarBind { return f(&v.services[row]) }})
	}
	svc(1, "lvsServiceNumber", func(r *serviceRow) agentx.VarBind { return integer(int64(r.num)) })
	svc(2, "lvsServiceSchedType", func(r *serviceRow) agentx.VarBind { return str(r.svc.Scheduler) })
	svc(3, "lvsServiceProto", func(r *serviceRow) agentx.VarBind { return integer(serviceProto(r.svc)) })
	svc(4, "lvsServiceAddr", func(r *serviceRow) agentx.VarBind { return ipv4Only(r.svc.Family, r.svc.Addr) })
	svc(5, "lvsServicePort", func(r *serviceRow) agentx.VarBind { return integer(servicePort(r.svc)) })
	svc(6, "lvsServiceFWMark", func(r *serviceRow) agentx.VarBind { return integer(int64(int32(r.svc.FWMark))) })
	svc(7, "lvsServicePersistTimeout", func(r *serviceRow) agentx.VarBind { return integer(int64(r.svc.Timeout)) })
	svc(8, "lvsServicePersistNetmask", func(r *serviceRow) agentx.VarBind { return persistNetmask(r.svc) })
	svc(9, "lvsServiceNumDests", func(r *serviceRow) agentx.VarBind { return integer(int64(len(r.svc.Dests))) })
	svc(10, "lvsServiceStatsConns", func(r *serviceRow) agentx.VarBind { return counter32(r.svc.Stats.Conns) })
	svc(11, "lvsServiceStatsInPkts", func(r *serviceRow) agentx.VarBind { return counter32(r.svc.Stats.InPkts) })
	svc(12, "lvsServiceStatsOutPkts", func(r *serviceRow) agentx.VarBind { return counter32(r.svc.Stats.OutPkts) })
	svc(13, "lvsServiceStatsInBytes", func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.InBytes) })
	svc(14, "lvsServiceStatsOutBytes", func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.OutBytes) })
	svc(15, "lvsServiceRateCps", func(r *serviceRow) agentx.VarBind { return gauge32(r.svc.Stats.CPS) })
	svc(16, "lvsServiceRateInPPS", func(r *serviceRow) agentx.VarBind { return gauge32(r.svc.Stats.InPPS) })
	svc(17, "lvsServiceRateOutPPS", func(r *serviceRow) agentx.VarBind { return gauge32(r.svc.Stats.OutPPS) })
	svc(18, "lvsServiceRateInBPS", func(r *serviceRow) agentx.VarBind { return gauge32(r.svc.Stats.InBPS) })
	svc(19, "lvsServiceRateOutBPS", func(r *serviceRow) agentx.VarBind { return gauge32(r.svc.Stats.OutBPS) })
	svc(20, "lvsServiceAddrType", func(r *serviceRow) agentx.VarBind { return inetAddrType(r.svc.Family) })
	svc(21, "lvsServiceInetAddr", func(r *serviceRow) agentx.VarBind { return inetAddr(r.svc.Family, r.svc.Addr) })
	svc(22, "lvsServicePersistPrefixLen", func(r *serviceRow) agentx.VarBind { return gauge32(persistPrefixLen(r.svc)) })
	svc(23, "lvsServiceFlags", func(r *serviceRow) agentx.VarBind { return serviceFlags(r.svc.Flags) })
	svc(24, "lvsServicePEName", func(r *serviceRow) agentx.VarBind { return str(r.svc.PEName) })
	svc(25, "lvsServiceStatsConnsHC", func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.Conns) })
	svc(26, "lvsServiceStatsInPktsHC", func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.InPkts) })
	svc(27, "lvsServiceStatsOutPktsHC", func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.OutPkts) })
	svc(28, "lvsServiceActiveConns", func(r *serviceRow) agentx.VarBind { return gauge32(r.active) })
	svc(29, "lvsServiceInactiveConns", func(r *serviceRow) agentx.VarBind { return gauge32(r.inactive) })
	svc(30, "lvsServicePersistConns", func(r *serviceRow) agentx.VarBind { return gauge32(r.persist) })
	svc(31, "lvsServiceNumAvailDests", func(r *serviceRow) agentx.VarBind { return gauge32(uint64(r.avail)) })
	svc(32, "lvsServiceRateInBPSHC", func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.InBPS) })
	svc(33, "lvsServiceRateOutBPSHC", func(r *serviceRow) agentx.VarBind { return counter64(r.svc.Stats.OutBPS) })
	svc(34, "lvsServiceName", func(r *serviceRow) agentx.VarBind { return str(ServiceName(&r.svc.ServiceKey)) })

	real := func(c uint32, name string, f func(r *realRow) agentx.VarBind) {
		objs = append(objs, object{name: name, oid: column(realTableArc, c), table: realTable,
			value: func(v *View, row int) agentx.VarBind { return f(&v.reals[row]) }})
	}
	real(1, "lvsRealServiceNumber", func(r *realRow) agentx.VarBind { return integer(int64(r.svcNum)) })
	real(2, "lvsRealServerNumber", func(r *realRow) agentx.VarBind { return integer(int64(r.num)) })
	real(3, "lvsRealServerAddr", func(r *realRow) agentx.VarBind { return ipv4Only(r.dest.Family, r.dest.Addr) })
	real(4, "lvsRealServerPort", func(r *realRow) agentx.VarBind { return integer(int64(r.dest.Port)) })
	real(5, "lvsRealServerFlags", func(r *realRow) agentx.VarBind { return integer(int64(r.dest.FwdMethod)) })
	real(6, "lvsRealServerWeight", func(r *realRow) agentx.VarBind { return integer(int64(r.dest.Weight)) })
	real(7, "lvsRealStatsConns", func(r *realRow) agentx.VarBind { return counter32(r.dest.Stats.Conns) })
	real(8, "lvsRealStatsInPkts", func(r *realRow) agentx.VarBind { return counter32(r.dest.Stats.InPkts) })
	real(9, "lvsRealStatsOutPkts", func(r *realRow) agentx.VarBind { return counter32(r.dest.Stats.OutPkts) })
	real(10, "lvsRealStatsInBytes", func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.InBytes) })
	real(11, "lvsRealStatsOutBytes", func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.OutBytes) })
	real(12, "lvsRealRateCps", func(r *realRow) agentx.VarBind { return gauge32(r.dest.Stats.CPS) })
	real(13, "lvsRealRateInPPS", func(r *realRow) agentx.VarBind { return gauge32(r.dest.Stats.InPPS) })
	real(14, "lvsRealRateOutPPS", func(r *realRow) agentx.VarBind { return gauge32(r.dest.Stats.OutPPS) })
	real(15, "lvsRealRateInBPS", func(r *realRow) agentx.VarBind { return gauge32(r.dest.Stats.InBPS) })
	real(16, "lvsRealRateOutBPS", func(r *realRow) agentx.VarBind { return gauge32(r.dest.Stats.OutBPS) })
	real(17, "lvsRealServerAddrType", func(r *realRow) agentx.VarBind { return inetAddrType(r.dest.Family) })
	real(18, "lvsRealServerInetAddr", func(r *realRow) agentx.VarBind { return inetAddr(r.dest.Family, r.dest.Addr) })
	real(19, "lvsRealActiveConns", func(r *realRow) agentx.VarBind { return gauge32(uint64(r.dest.ActiveConns)) })
	real(20, "lvsRealInactiveConns", func(r *realRow) agentx.VarBind { return gauge32(uint64(r.dest.InactiveConns)) })
	real(21, "lvsRealPersistConns", func(r *realRow) agentx.VarBind { return gauge32(uint64(r.dest.PersistConns)) })
	real(22, "lvsRealUpperThreshold", func(r *realRow) agentx.VarBind { return gauge32(uint64(r.dest.UpperThreshold)) })
	real(23, "lvsRealLowerThreshold", func(r *realRow) agentx.VarBind { return gauge32(uint64(r.dest.LowerThreshold)) })
	real(24, "lvsRealStatsConnsHC", func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.Conns) })
	real(25, "lvsRealStatsInPktsHC", func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.InPkts) })
	real(26, "lvsRealStatsOutPktsHC", func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.OutPkts) })
	real(27, "lvsRealRateInBPSHC", func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.InBPS) })
	real(28, "lvsRealRateOutBPSHC", func(r *realRow) agentx.VarBind { return counter64(r.dest.Stats.OutBPS) })
	real(29, "lvsRealTunnelType", func(r *realRow) agentx.VarBind { return integer(tunnelType(r.dest)) })
	real(30, "lvsRealTunnelPort", func(r *realRow) agentx.VarBind { return gauge32(uint64(tunnelPort(r.dest))) })
	real(31, "lvsRealServerName", func(r *realRow) agentx.VarBind { return str(DestName(r.dest)) })

	daemon := func(c uint32, name string, f func(d *ipvsstats.Daemon) agentx.VarBind) {
		objs = append(objs, object{name: name, oid: column(daemonTableArc, c), table: daemonTable,
			value: func(v *View, row int) agentx.VarBind { return f(v.daemons[row]) }})
	}
	// Column 1, lvsSyncDaemonRole, is the not-accessible index.
	daemon(2, "lvsSyncDaemonInterface", func(d *ipvsstats.Daemon) agentx.VarBind { return str(d.Interface) })
	daemon(3, "lvsSyncDaemonSyncId", func(d *ipvsstats.Daemon) agentx.VarBind { return gauge32(uint64(d.SyncID)) })
	daemon(4, "lvsSyncDaemonMaxLen", func(d *ipvsstats.Daemon) agentx.VarBind { return gauge32(uint64(d.MaxLen)) })
	daemon(5, "lvsSyncDaemonGroupAddrType", func(d *ipvsstats.Daemon) agentx.VarBind { return inetAddrType(addrFamily(d.Group)) })
	daemon(6, "lvsSyncDaemonGroupAddr", func(d *ipvsstats.Daemon) agentx.VarBind { return inetAddr(addrFamily(d.Group), d.Group) })
	daemon(7, "lvsSyncDaemonPort", func(d *ipvsstats.Daemon) agentx.VarBind { return gauge32(uint64(d.Port)) })
	daemon(8, "lvsSyncDaemonTtl", func(d *ipvsstats.Daemon) agentx.VarBind { return gauge32(uint64(d.TTL)) })
	return objs
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

// Value mappings of issue 5.

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
func ipv4Only(family uint16, a netip.Addr) agentx.VarBind {
	if family != ipvsstats.FamilyIPv4 || !a.Unmap().Is4() {
		return ipAddress([4]byte{})
	}
	return ipAddress(a.Unmap().As4())
}

// persistNetmask is the IPv4 persistence mask as an IpAddress (the kernel's
// value read big-endian, 0xffffff00 = 255.255.255.0); 0.0.0.0 for IPv6,
// whose Netmask is a prefix length.
func persistNetmask(s *ipvsstats.Service) agentx.VarBind {
	if s.Family != ipvsstats.FamilyIPv4 {
		return ipAddress([4]byte{})
	}
	m := s.Netmask
	return ipAddress([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
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

func inetAddrType(family uint16) agentx.VarBind {
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
func inetAddr(family uint16, a netip.Addr) agentx.VarBind {
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
func addrFamily(a netip.Addr) uint16 {
	switch {
	case !a.IsValid():
		return 0
	case a.Unmap().Is4():
		return ipvsstats.FamilyIPv4
	}
	return ipvsstats.FamilyIPv6
}

// serviceFlags encodes IP_VS_SVC_F_* bits 0..5 as BITS: kernel bit n
// (value 1<<n) is named bit n, and BITS bit n is the n-th most significant
// bit of the first octet.
func serviceFlags(f uint32) agentx.VarBind {
	var b byte
	for n := range 6 {
		if f&(1<<n) != 0 {
			b |= 0x80 >> n
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

// ServiceName is the lvsServiceName label of a service, unique per service:
// "TCP 10.99.0.1:80", "TCP [fd00::1]:443", "FWM 5", "FWM 5 IPv6".
func ServiceName(k *ipvsstats.ServiceKey) string {
	if k.FWMark != 0 {
		s := "FWM " + strconv.FormatUint(uint64(k.FWMark), 10)
		if k.Family == ipvsstats.FamilyIPv6 {
			s += " IPv6"
		}
		return s
	}
	var proto string
	switch k.Protocol {
	case ipvsstats.ProtoTCP:
		proto = "TCP"
	case ipvsstats.ProtoUDP:
		proto = "UDP"
	case ipvsstats.ProtoSCTP:
		proto = "SCTP"
	default:
		proto = "PROTO" + strconv.FormatUint(uint64(k.Protocol), 10)
	}
	return proto + " " + netip.AddrPortFrom(familyAddr(k.Family, k.Addr), k.Port).String()
}

// DestName is the lvsRealServerName label: "127.0.0.1:8080", "[fd00::20]:80".
func DestName(d *ipvsstats.Dest) string {
	return netip.AddrPortFrom(familyAddr(d.Family, d.Addr), d.Port).String()
}

// familyAddr shows an IPv4 address as such even when it arrived mapped.
func familyAddr(family uint16, a netip.Addr) netip.Addr {
	if family == ipvsstats.FamilyIPv4 {
		return a.Unmap()
	}
	return a
}

// Describe returns the descriptor of the object type oid is an instance of
// (or names), such as "lvsServiceStatsConns", and the instance part after
// the object's OID (the row index, or 0 for a scalar).
func Describe(oid agentx.OID) (name string, instance agentx.OID, ok bool) {
	for i := range objects {
		if oid.HasPrefix(objects[i].oid) {
			return objects[i].name, oid[len(objects[i].oid):], true
		}
	}
	return "", nil, false
}
