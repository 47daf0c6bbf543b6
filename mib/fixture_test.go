package mib

import (
	"net/netip"
	"time"

	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

var fixtureReadAt = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// fixedClock returns a clock 1.234 s after the fixture was read.
func fixedClock() time.Time { return fixtureReadAt.Add(1234 * time.Millisecond) }

// fixture is a snapshot covering every mapping: IPv4/IPv6/fwmark services,
// TCP/UDP/SCTP, every forwarding method, tunnels, weights 0, counters past
// 2^32, and both sync daemons. It lists services in an order unlike their
// key order, as the kernel's hash dump would.
func fixture() *ipvsstats.Snapshot {
	big := uint64(1)<<32 + 7
	return &ipvsstats.Snapshot{
		Info:     ipvsstats.Info{VersionCode: 0x010201, ConnTableSize: 4096},
		Timeouts: ipvsstats.Timeouts{TCP: 900, TCPFin: 120, UDP: 300},
		Daemons: []ipvsstats.Daemon{
			{State: ipvsstats.DaemonBackup, Interface: "eth1", SyncID: 9, MaxLen: 1472, Port: 8848, TTL: 1},
			{State: ipvsstats.DaemonMaster, Interface: "eth0", SyncID: 7, MaxLen: 1460,
				Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 2},
		},
		Services: []ipvsstats.Service{
			{ // number 6
				ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv6, Protocol: ipvsstats.ProtoTCP,
					Addr: netip.MustParseAddr("fd00::1"), Port: 443},
				Scheduler: "wrr", Flags: ipvsstats.FlagHashed, Netmask: 128,
				Dests: []ipvsstats.Dest{
					{DestKey: ipvsstats.DestKey{Addr: netip.MustParseAddr("fd00::20"), Port: 80},
						Family: ipvsstats.FamilyIPv6, FwdMethod: ipvsstats.FwdRoute, Weight: 3},
				},
			},
			{ // number 2
				ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4, Protocol: ipvsstats.ProtoTCP,
					Addr: netip.MustParseAddr("10.99.0.1"), Port: 80},
				Scheduler: "rr", Flags: ipvsstats.FlagPersistent | ipvsstats.FlagHashed | ipvsstats.FlagSched3,
				Timeout: 300, Netmask: 0xffffff00, PEName: "sip",
				Stats: ipvsstats.Stats{Conns: big, InPkts: big + 1, OutPkts: 5, InBytes: big * 100, OutBytes: 6,
					CPS: 11, InPPS: 12, OutPPS: 13, InBPS: big, OutBPS: 15},
				Dests: []ipvsstats.Dest{
					{DestKey: ipvsstats.DestKey{Addr: netip.MustParseAddr("127.0.0.1"), Port: 8080},
						Family: ipvsstats.FamilyIPv4, FwdMethod: ipvsstats.FwdMasq, Weight: 1,
						UpperThreshold: 100, LowerThreshold: 10, ActiveConns: 3, InactiveConns: 4, PersistConns: 5,
						Stats: ipvsstats.Stats{Conns: big, InPkts: 21, OutPkts: 22, InBytes: 23, OutBytes: 24,
							CPS: 25, InPPS: 26, OutPPS: 27, InBPS: 28, OutBPS: big}},
					{DestKey: ipvsstats.DestKey{Addr: netip.MustParseAddr("10.0.0.3"), Port: 80},
						Family: ipvsstats.FamilyIPv4, FwdMethod: ipvsstats.FwdTunnel, Weight: 2,
						TunnelType: ipvsstats.TunnelGUE, TunnelPort: 6080, ActiveConns: 10},
					{DestKey: ipvsstats.DestKey{Addr: netip.MustParseAddr("10.0.0.2"), Port: 80},
						Family: ipvsstats.FamilyIPv4, FwdMethod: ipvsstats.FwdRoute, Weight: 0, InactiveConns: 1},
				},
			},
			{ // number 5
				ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv6, FWMark: 5},
				Scheduler:  "wlc", Flags: ipvsstats.FlagPersistent, Timeout: 60, Netmask: 64,
				Dests: []ipvsstats.Dest{
					{DestKey: ipvsstats.DestKey{Addr: netip.MustParseAddr("fd00::20"), Port: 0},
						Family: ipvsstats.FamilyIPv6, FwdMethod: ipvsstats.FwdLocalNode, Weight: 1},
					{DestKey: ipvsstats.DestKey{Addr: netip.MustParseAddr("192.0.2.9"), Port: 0},
						Family: ipvsstats.FamilyIPv4, FwdMethod: ipvsstats.FwdTunnel, Weight: 1,
						TunnelType: ipvsstats.TunnelIPIP},
				},
			},
			{ // number 3
				ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4, Protocol: ipvsstats.ProtoUDP,
					Addr: netip.MustParseAddr("10.99.0.2"), Port: 53},
				Scheduler: "sh", Flags: ipvsstats.FlagOnePacket | ipvsstats.FlagSched1 | ipvsstats.FlagSched2,
				Netmask: 0xffffffff,
				Dests: []ipvsstats.Dest{
					{DestKey: ipvsstats.DestKey{Addr: netip.MustParseAddr("10.0.0.9"), Port: 53},
						Family: ipvsstats.FamilyIPv4, FwdMethod: ipvsstats.FwdBypass, Weight: 0},
				},
			},
			{ // number 1
				ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4, FWMark: 7},
				Scheduler:  "lc", Netmask: 0xffff0000,
				Dests: []ipvsstats.Dest{
					{DestKey: ipvsstats.DestKey{Addr: netip.MustParseAddr("10.0.0.7"), Port: 0},
						Family: ipvsstats.FamilyIPv4, FwdMethod: ipvsstats.FwdTunnel, Weight: 5,
						TunnelType: ipvsstats.TunnelGRE},
				},
			},
			{ // number 4, no real servers
				ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4, Protocol: ipvsstats.ProtoSCTP,
					Addr: netip.MustParseAddr("10.99.0.3"), Port: 3868},
				Scheduler: "rr", Netmask: 0xffffffff,
				Stats: ipvsstats.Stats{CPS: 1 << 40, InBPS: 1 << 40},
			},
		},
		ReadAt: fixtureReadAt,
	}
}
