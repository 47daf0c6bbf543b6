package ipvsstats

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mdlayher/netlink"
)

const fixtureDir = "testdata/kernel-6.1"

// fixtureMessages returns the generic netlink attributes of every message
// in a recorded reply file.
func fixtureMessages(t testing.TB, name string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, m := range fixtureRaw(t, name) {
		out = append(out, attrsOf(t, m))
	}
	return out
}

// TestDecodeKernelFixtures reads replies recorded from Linux 6.1 through
// Read and compares them with the snapshot the reader made of the same
// table in the same guest (which the end-to-end test proved equal to
// ipvsadm's view).
func TestDecodeKernelFixtures(t *testing.T) {
	sameSnapshot(t, readFixtures(t), fixtureSnapshot(t))
}

// TestDecodeKernelFixtureFields spot-checks fields of the recorded table
// against the ipvsadm commands that built it (test/e2e/ipvsstats_test.go).
func TestDecodeKernelFixtureFields(t *testing.T) {
	s := readFixtures(t)
	svc := func(label string) *Service {
		for i := range s.Services {
			if s.Services[i].Label() == label {
				return &s.Services[i]
			}
		}
		t.Fatalf("no service %s", label)
		return nil
	}
	dest := func(svc *Service, addr string) *Dest {
		for i := range svc.Dests {
			if svc.Dests[i].Label() == addr {
				return &svc.Dests[i]
			}
		}
		t.Fatalf("%s has no real server %s", svc.Label(), addr)
		return nil
	}
	sctp := svc("SCTP 10.99.0.4:5000")
	v6 := svc("TCP [fd00::1]:443")
	persist := svc("TCP 10.99.0.5:443")
	udp := svc("UDP 10.99.0.3:53")
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"version", s.Info.Version(), "1.2.1"},
		{"conn table size", s.Info.ConnTableSize, uint32(4096)},
		{"timeouts", s.Timeouts, Timeouts{TCP: 900, TCPFin: 120, UDP: 300}},
		{"daemons", len(s.Daemons), 2},
		{"master", s.Daemons[0].State.String() + "/" + fmt.Sprint(s.Daemons[0].SyncID), "master/5"},
		{"backup", s.Daemons[1].State.String() + "/" + fmt.Sprint(s.Daemons[1].SyncID), "backup/6"},
		{"daemon group", s.Daemons[0].Group, netip.MustParseAddr("224.0.0.81")},
		{"daemon port", s.Daemons[0].Port, uint16(8848)},
		{"daemon ttl", s.Daemons[0].TTL, uint8(1)},
		{"daemon interface", s.Daemons[1].Interface, "lo"},
		{"services", len(s.Services), 9},
		{"sh scheduler", sctp.Scheduler, "sh"},
		{"sh flags", sctp.Flags &^ FlagHashed, FlagSched1 | FlagSched2},
		{"sctp protocol", sctp.Protocol, ProtoSCTP},
		{"gue type", dest(sctp, "10.0.0.21:5000").TunnelType, TunnelGUE},
		{"gue port", dest(sctp, "10.0.0.21:5000").TunnelPort, uint16(6080)},
		{"gue flags (remcsum)", dest(sctp, "10.0.0.21:5000").TunnelFlags, uint16(2)},
		{"gre type", dest(sctp, "10.0.0.22:5000").TunnelType, TunnelGRE},
		{"gre flags (csum)", dest(sctp, "10.0.0.22:5000").TunnelFlags, uint16(1)},
		{"ipip", dest(sctp, "10.0.0.20:5000").FwdMethod, FwdTunnel},
		{"v6 netmask is a prefix length", v6.Netmask, uint32(64)},
		{"v6 persistence", v6.Timeout, uint32(600)},
		{"mh flags", v6.Flags &^ FlagHashed, FlagPersistent | FlagSched1},
		{"v6 masq port", dest(v6, "[fd00::10]:8443").FwdMethod, FwdMasq},
		{"v4 netmask", persist.Netmask, uint32(0xffffff00)},
		{"thresholds", [2]uint32{dest(persist, "10.0.0.30:443").UpperThreshold, dest(persist, "10.0.0.30:443").LowerThreshold}, [2]uint32{50, 5}},
		{"weight 0", dest(udp, "10.0.0.10:53").Weight, int32(0)},
		{"one packet", udp.Flags & FlagOnePacket, FlagOnePacket},
		{"local", dest(svc("TCP 10.99.0.2:8083"), "10.99.0.2:8083").FwdMethod, FwdRoute},
		{"fwmark v6", svc("FWM 2 IPv6").Family, FamilyIPv6},
		{"fwmark has no address", svc("FWM 1").Addr.IsValid(), false},
		{"traffic", svc("TCP 10.99.0.1:80").Stats.Conns, uint64(6)},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// enc builds attributes with mdlayher/netlink's encoder, independent of
// the decoder under test.
func enc(t testing.TB, fn func(ae *netlink.AttributeEncoder)) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	fn(ae)
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func addr16(s string) []byte {
	a := netip.MustParseAddr(s)
	if a.Is4() {
		b := make([]byte, 16)
		a4 := a.As4()
		copy(b, a4[:])
		return b
	}
	a16 := a.As16()
	return a16[:]
}

func stats32(ae *netlink.AttributeEncoder, typ uint16, base uint32) {
	ae.Nested(typ, func(n *netlink.AttributeEncoder) error {
		for i := uint16(1); i <= 10; i++ {
			if i == attrStatsInBytes || i == attrStatsOutBytes {
				n.Uint64(i, uint64(base)+uint64(i))
			} else {
				n.Uint32(i, base+uint32(i))
			}
		}
		return nil
	})
}

func stats64(ae *netlink.AttributeEncoder, typ uint16, base uint64) {
	ae.Nested(typ, func(n *netlink.AttributeEncoder) error {
		for i := uint16(1); i <= 10; i++ {
			n.Uint64(i, base+uint64(i))
		}
		n.Bytes(11, nil) // PAD
		return nil
	})
}

func seqStats(base uint64) Stats {
	return Stats{base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7, base + 8, base + 9, base + 10}
}

func TestDecodeService(t *testing.T) {
	flags := make([]byte, 8)
	binary.NativeEndian.PutUint32(flags, uint32(FlagPersistent|FlagSched1))
	binary.NativeEndian.PutUint32(flags[4:], ^uint32(0))
	tests := []struct {
		name string
		svc  func(n *netlink.AttributeEncoder)
		want Service
	}{{
		name: "ipv4 tcp with both stats prefers STATS64",
		svc: func(n *netlink.AttributeEncoder) {
			n.Uint16(attrSvcAF, uint16(FamilyIPv4))
			n.Uint16(attrSvcProtocol, uint16(ProtoTCP))
			n.Bytes(attrSvcAddr, addr16("10.1.2.3"))
			n.Bytes(attrSvcPort, be16(8080))
			n.String(attrSvcSchedName, "wlc")
			n.Bytes(attrSvcFlags, flags)
			n.Uint32(attrSvcTimeout, 300)
			n.Bytes(attrSvcNetmask, []byte{255, 255, 255, 0})
			stats32(n, attrSvcStats, 100)
			n.String(attrSvcPEName, "sip")
			stats64(n, attrSvcStats64, 1<<40)
		},
		want: Service{
			ServiceKey: ServiceKey{Family: FamilyIPv4, Protocol: ProtoTCP, Addr: netip.MustParseAddr("10.1.2.3"), Port: 8080},
			Scheduler:  "wlc", Flags: FlagPersistent | FlagSched1, Timeout: 300, Netmask: 0xffffff00, PEName: "sip",
			Stats: seqStats(1 << 40),
		},
	}, {
		name: "ipv6 udp with only 32-bit stats",
		svc: func(n *netlink.AttributeEncoder) {
			n.Uint16(attrSvcAF, uint16(FamilyIPv6))
			n.Uint16(attrSvcProtocol, uint16(ProtoUDP))
			n.Bytes(attrSvcAddr, addr16("fd00::1"))
			n.Bytes(attrSvcPort, be16(53))
			n.String(attrSvcSchedName, "some-new-scheduler")
			n.Uint32(attrSvcNetmask, 64)
			stats32(n, attrSvcStats, 7)
		},
		want: Service{
			ServiceKey: ServiceKey{Family: FamilyIPv6, Protocol: ProtoUDP, Addr: netip.MustParseAddr("fd00::1"), Port: 53},
			Scheduler:  "some-new-scheduler", Netmask: 64, Stats: seqStats(7),
		},
	}, {
		name: "fwmark service carries no address",
		svc: func(n *netlink.AttributeEncoder) {
			n.Uint16(attrSvcAF, uint16(FamilyIPv6))
			n.Uint32(attrSvcFWMark, 42)
			n.String(attrSvcSchedName, "sh")
			n.Uint16(99, 1) // an attribute from a newer kernel
		},
		want: Service{ServiceKey: ServiceKey{Family: FamilyIPv6, FWMark: 42}, Scheduler: "sh"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := enc(t, func(ae *netlink.AttributeEncoder) {
				ae.Nested(attrCmdService, func(n *netlink.AttributeEncoder) error { tt.svc(n); return nil })
			})
			got, err := decodeService(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeDest(t *testing.T) {
	tests := []struct {
		name      string
		svcFamily Family
		dest      func(n *netlink.AttributeEncoder)
		want      Dest
	}{{
		name:      "every attribute",
		svcFamily: FamilyIPv6,
		dest: func(n *netlink.AttributeEncoder) {
			n.Bytes(attrDestAddr, addr16("10.0.0.7"))
			n.Bytes(attrDestPort, be16(443))
			n.Uint32(attrDestFwdMethod, uint32(FwdTunnel)|0x2000) // ONE_PACKET is masked off
			n.Uint32(attrDestWeight, 0)
			n.Uint32(attrDestUThresh, 100)
			n.Uint32(attrDestLThresh, 10)
			n.Uint32(attrDestActiveConns, 3)
			n.Uint32(attrDestInactConns, 4)
			n.Uint32(attrDestPersistConns, 5)
			stats32(n, attrDestStats, 1)
			n.Uint16(attrDestAddrFamily, uint16(FamilyIPv4))
			stats64(n, attrDestStats64, 1<<33)
			n.Uint8(attrDestTunType, uint8(TunnelGUE))
			n.Bytes(attrDestTunPort, be16(6080))
			n.Uint16(attrDestTunFlags, 3)
		},
		want: Dest{
			DestKey: DestKey{Addr: netip.MustParseAddr("10.0.0.7"), Port: 443}, Family: FamilyIPv4,
			FwdMethod: FwdTunnel, Weight: 0, UpperThreshold: 100, LowerThreshold: 10,
			ActiveConns: 3, InactiveConns: 4, PersistConns: 5,
			TunnelType: TunnelGUE, TunnelPort: 6080, TunnelFlags: 3, Stats: seqStats(1 << 33),
		},
	}, {
		name:      "old kernel: no family attribute, 32-bit stats, negative weight",
		svcFamily: FamilyIPv6,
		dest: func(n *netlink.AttributeEncoder) {
			n.Bytes(attrDestAddr, addr16("fd00::9"))
			n.Bytes(attrDestPort, be16(80))
			n.Uint32(attrDestFwdMethod, uint32(FwdRoute))
			n.Int32(attrDestWeight, -1)
			stats32(n, attrDestStats, 1000)
		},
		want: Dest{
			DestKey: DestKey{Addr: netip.MustParseAddr("fd00::9"), Port: 80}, Family: FamilyIPv6,
			FwdMethod: FwdRoute, Weight: -1, Stats: seqStats(1000),
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := enc(t, func(ae *netlink.AttributeEncoder) {
				ae.Nested(attrCmdDest, func(n *netlink.AttributeEncoder) error { tt.dest(n); return nil })
			})
			got, err := decodeDest(b, tt.svcFamily)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeDaemonInfoConfig(t *testing.T) {
	d, err := decodeDaemon(enc(t, func(ae *netlink.AttributeEncoder) {
		ae.Nested(attrCmdDaemon, func(n *netlink.AttributeEncoder) error {
			n.Uint32(attrDaemonState, uint32(DaemonBackup))
			n.String(attrDaemonMcastIfn, "eth1")
			n.Uint32(attrDaemonSyncID, 9)
			n.Uint16(attrDaemonSyncMaxLen, 1400)
			n.Bytes(attrDaemonMcastGrp6, addr16("ff02::1:2"))
			n.Uint16(attrDaemonMcastPort, 8849)
			n.Uint8(attrDaemonMcastTTL, 3)
			return nil
		})
	}))
	want := Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 9, MaxLen: 1400,
		Group: netip.MustParseAddr("ff02::1:2"), Port: 8849, TTL: 3}
	if err != nil || d != want {
		t.Errorf("daemon %+v, %v; want %+v", d, err, want)
	}
	info, err := decodeInfo(enc(t, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(attrInfoVersion, 0x010201)
		ae.Uint32(attrInfoConnTabSize, 4096)
	}))
	if err != nil || info.Version() != "1.2.1" || info.ConnTableSize != 4096 {
		t.Errorf("info %+v, %v", info, err)
	}
	to, err := decodeConfig(enc(t, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(attrCmdTimeoutTCP, 900)
		ae.Uint32(attrCmdTimeoutFin, 120)
		ae.Uint32(attrCmdTimeoutUDP, 300)
	}))
	if err != nil || to != (Timeouts{900, 120, 300}) {
		t.Errorf("timeouts %+v, %v", to, err)
	}
}

// TestDecodeMalformed feeds broken messages: each must fail with
// errMalformed, not panic and not succeed.
func TestDecodeMalformed(t *testing.T) {
	svc := func(fn func(n *netlink.AttributeEncoder)) []byte {
		return enc(t, func(ae *netlink.AttributeEncoder) {
			ae.Nested(attrCmdService, func(n *netlink.AttributeEncoder) error { fn(n); return nil })
		})
	}
	valid := svc(func(n *netlink.AttributeEncoder) {
		n.Uint16(attrSvcAF, uint16(FamilyIPv4))
		n.Uint16(attrSvcProtocol, uint16(ProtoTCP))
		n.Bytes(attrSvcAddr, addr16("10.0.0.1"))
		n.Bytes(attrSvcPort, be16(80))
		stats64(n, attrSvcStats64, 0)
	})
	tests := []struct {
		name string
		b    []byte
		dec  func([]byte) error
	}{
		{"truncated service", valid[:len(valid)-3], decService},
		{"attribute header cut", valid[:2], decService},
		{"no service attribute", enc(t, func(ae *netlink.AttributeEncoder) { ae.Uint32(9, 1) }), decService},
		{"short port", svc(func(n *netlink.AttributeEncoder) { n.Uint16(attrSvcAF, 2); n.Uint8(attrSvcPort, 1) }), decService},
		{"short address", svc(func(n *netlink.AttributeEncoder) {
			n.Uint16(attrSvcAF, uint16(FamilyIPv6))
			n.Bytes(attrSvcAddr, []byte{1, 2, 3, 4})
		}), decService},
		{"unknown family", svc(func(n *netlink.AttributeEncoder) {
			n.Uint16(attrSvcAF, 99)
			n.Bytes(attrSvcAddr, addr16("10.0.0.1"))
		}), decService},
		{"short flags", svc(func(n *netlink.AttributeEncoder) { n.Uint32(attrSvcFlags, 1) }), decService},
		{"32-bit counter in STATS64", svc(func(n *netlink.AttributeEncoder) {
			n.Nested(attrSvcStats64, func(s *netlink.AttributeEncoder) error { s.Uint32(attrStatsConns, 1); return nil })
		}), decService},
		{"dest without address", enc(t, func(ae *netlink.AttributeEncoder) {
			ae.Nested(attrCmdDest, func(n *netlink.AttributeEncoder) error { n.Bytes(attrDestPort, be16(1)); return nil })
		}), func(b []byte) error { _, err := decodeDest(b, FamilyIPv4); return err }},
		{"daemon ttl too long", enc(t, func(ae *netlink.AttributeEncoder) {
			ae.Nested(attrCmdDaemon, func(n *netlink.AttributeEncoder) error { n.Uint16(attrDaemonMcastTTL, 1); return nil })
		}), func(b []byte) error { _, err := decodeDaemon(b); return err }},
		{"info version short", enc(t, func(ae *netlink.AttributeEncoder) { ae.Uint16(attrInfoVersion, 1) }),
			func(b []byte) error { _, err := decodeInfo(b); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.dec(tt.b); !errors.Is(err, errMalformed) {
				t.Errorf("error %v, want errMalformed", err)
			}
		})
	}
}

func decService(b []byte) error { _, err := decodeService(b); return err }

func TestNextMsgMalformed(t *testing.T) {
	b := fixtureBytes(t, "services.bin")
	for _, cut := range []int{1, 15, 17, len(b) - 1} {
		rest := b[:cut]
		var err error
		for len(rest) > 0 && err == nil {
			_, rest, err = nextMsg(rest)
		}
		if !errors.Is(err, errMalformed) {
			t.Errorf("cut at %d: error %v, want errMalformed", cut, err)
		}
	}
}

func fixtureBytes(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAppendServiceKey checks the GET_DEST request identity against what
// the kernel's own dump says, through the service fixtures.
func TestAppendServiceKey(t *testing.T) {
	for _, m := range fixtureMessages(t, "services.bin") {
		k, err := decodeServiceKey(m)
		if err != nil {
			t.Fatal(err)
		}
		if svc, err := decodeService(m); err != nil || svc.ServiceKey != k {
			t.Fatalf("service key %+v; full decode %+v, %v", k, svc.ServiceKey, err)
		}
		got, err := decodeServiceKey(appendServiceKey(nil, &k))
		if err != nil || got != k {
			t.Errorf("round trip of %s: %+v, %v", k.Label(), got, err)
		}
	}
}

// appendDest writes what decodeDest reads back, for every real server of
// the recorded table (IPv4, IPv6, tunnels, weights 0).
func TestAppendDest(t *testing.T) {
	snap := fixtureSnapshot(t)
	n := 0
	for _, svc := range snap.Services {
		for _, d := range svc.Dests {
			got, err := decodeDest(appendDest(nil, &d), svc.Family)
			want := Dest{DestKey: d.DestKey, Family: d.Family, FwdMethod: d.FwdMethod, Weight: d.Weight,
				UpperThreshold: d.UpperThreshold, LowerThreshold: d.LowerThreshold, TunnelType: d.TunnelType,
				TunnelPort: d.TunnelPort, TunnelFlags: d.TunnelFlags}
			if err != nil || got != want {
				t.Errorf("round trip of %s: %+v, %v; want %+v", d.Label(), got, err, want)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no real servers in the fixture")
	}
}

func BenchmarkDecodeDump(b *testing.B) {
	svcs := fixtureMessages(b, "services.bin")
	dests := fixtureMessages(b, "dests-0.bin")
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range svcs {
			if _, err := decodeService(m); err != nil {
				b.Fatal(err)
			}
		}
		for _, m := range dests {
			if _, err := decodeDest(m, FamilyIPv4); err != nil {
				b.Fatal(err)
			}
		}
	}
}
