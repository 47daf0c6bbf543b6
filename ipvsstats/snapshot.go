package ipvsstats

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// Family is an address family as the kernel numbers it.
type Family uint16

// Address families.
const (
	FamilyIPv4 Family = 2  // AF_INET
	FamilyIPv6 Family = 10 // AF_INET6
)

// Protocol is the IP protocol of a virtual service. A fwmark service has
// protocol 0.
type Protocol uint16

// Protocols IPVS balances.
const (
	ProtoTCP  Protocol = 6
	ProtoUDP  Protocol = 17
	ProtoSCTP Protocol = 132
)

// Flags are a service's IP_VS_SVC_F_* bits.
type Flags uint32

// Service flags.
const (
	FlagPersistent Flags = 0x1
	FlagHashed     Flags = 0x2
	FlagOnePacket  Flags = 0x4
	FlagSched1     Flags = 0x8
	FlagSched2     Flags = 0x10
	FlagSched3     Flags = 0x20
)

// FwdMethod is a real server's forwarding method (IP_VS_CONN_F_FWD_MASK).
type FwdMethod uint32

// Forwarding methods.
const (
	FwdMasq      FwdMethod = 0
	FwdLocalNode FwdMethod = 1
	FwdTunnel    FwdMethod = 2
	FwdRoute     FwdMethod = 3
	FwdBypass    FwdMethod = 4
)

// TunnelType is the encapsulation of a tunnel real server, as the kernel
// numbers it.
type TunnelType uint8

// Tunnel types.
const (
	TunnelIPIP TunnelType = 0
	TunnelGUE  TunnelType = 1
	TunnelGRE  TunnelType = 2
)

// DaemonState is the role of a connection sync daemon.
type DaemonState uint32

// Sync daemon roles.
const (
	DaemonMaster DaemonState = 1
	DaemonBackup DaemonState = 2
)

// Snapshot is one consistent reading of IPVS. It is never modified after
// Read returns it, so it may be shared between goroutines.
type Snapshot struct {
	Info     Info
	Timeouts Timeouts
	Daemons  []Daemon  // running sync daemons, at most one per role
	Services []Service // in the order the kernel dumped them

	ReadAt       time.Time     // when the read started
	ReadDuration time.Duration // how long the read took
}

// NumDests is the number of real servers of all services.
func (s *Snapshot) NumDests() int {
	n := 0
	for i := range s.Services {
		n += len(s.Services[i].Dests)
	}
	return n
}

// Info is what IPVS_CMD_GET_INFO reports.
type Info struct {
	VersionCode   uint32 // e.g. 0x010201
	ConnTableSize uint32 // connection hash table size
}

// Version formats VersionCode as ipvsadm does ("1.2.1").
func (i Info) Version() string {
	return fmt.Sprintf("%d.%d.%d", i.VersionCode>>16, (i.VersionCode>>8)&0xff, i.VersionCode&0xff)
}

// Timeouts are the connection timeouts of IPVS_CMD_GET_CONFIG, in seconds.
type Timeouts struct {
	TCP, TCPFin, UDP uint32
}

// Daemon is one running connection sync daemon. Fields the kernel did not
// send (older kernels) are zero; Group is the zero Addr then.
type Daemon struct {
	State     DaemonState
	Interface string
	SyncID    uint32
	MaxLen    uint16
	Group     netip.Addr
	Port      uint16
	TTL       uint8
}

// Stats are a service's or real server's counters and estimated rates.
// They come from the kernel's 64-bit attributes when it sends them, and
// from the 32-bit ones otherwise.
type Stats struct {
	Conns, InPkts, OutPkts, InBytes, OutBytes uint64 // totals since creation
	CPS, InPPS, OutPPS, InBPS, OutBPS         uint64 // per-second rates
}

// ServiceKey identifies a virtual service: either a fwmark (FWMark != 0,
// Protocol 0, Addr invalid, Port 0) or a protocol, address and port. It is
// comparable, so it can key maps.
type ServiceKey struct {
	Family   Family
	Protocol Protocol
	Addr     netip.Addr
	Port     uint16
	FWMark   uint32
}

// Compare orders service keys by family, protocol, fwmark, address and
// port: the order in which new services are numbered.
func (k ServiceKey) Compare(o ServiceKey) int {
	return cmp.Or(cmp.Compare(k.Family, o.Family), cmp.Compare(k.Protocol, o.Protocol),
		cmp.Compare(k.FWMark, o.FWMark), k.Addr.Compare(o.Addr), cmp.Compare(k.Port, o.Port))
}

// Service is one virtual service and its real servers.
type Service struct {
	ServiceKey
	Scheduler string
	Flags     Flags
	Timeout   uint32 // persistence timeout in seconds
	Netmask   uint32 // IPv4: the persistence mask (0xffffffff = /32); IPv6: a prefix length
	PEName    string // persistence engine, "" when none
	Stats     Stats
	Dests     []Dest // in the order the kernel dumped them
}

// NetmaskIPv4 returns an IPv4 service's persistence mask as an address,
// such as 255.255.255.0; false for other services, whose Netmask is a
// prefix length.
func (s *Service) NetmaskIPv4() (netip.Addr, bool) {
	if s.Family != FamilyIPv4 {
		return netip.Addr{}, false
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], s.Netmask)
	return netip.AddrFrom4(a), true
}

// DestKey identifies a real server within its service.
type DestKey struct {
	Addr netip.Addr
	Port uint16
}

// Compare orders real server keys by address and port.
func (k DestKey) Compare(o DestKey) int {
	return cmp.Or(k.Addr.Compare(o.Addr), cmp.Compare(k.Port, o.Port))
}

// Dest is one real server (destination) of a service.
type Dest struct {
	DestKey
	Family         Family // may differ from the service's (IPv6 service, IPv4 tunnel)
	FwdMethod      FwdMethod
	Weight         int32
	UpperThreshold uint32
	LowerThreshold uint32
	ActiveConns    uint32
	InactiveConns  uint32
	PersistConns   uint32
	TunnelType     TunnelType // meaningful only for FwdTunnel
	TunnelPort     uint16
	TunnelFlags    uint16
	Stats          Stats
}
