package ipvsstats

import (
	"fmt"
	"net/netip"
	"testing"
)

func TestNames(t *testing.T) {
	v4, v6 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fd00::1")
	mapped := netip.AddrFrom16(v4.As16())
	tests := []struct {
		name string
		got  fmt.Stringer
		want string
	}{
		{"IPv4", FamilyIPv4, "IPv4"},
		{"IPv6", FamilyIPv6, "IPv6"},
		{"unknown family", Family(7), "Family(7)"},
		{"TCP", ProtoTCP, "TCP"},
		{"UDP", ProtoUDP, "UDP"},
		{"SCTP", ProtoSCTP, "SCTP"},
		{"unknown protocol", Protocol(33), "PROTO33"},
		{"no flags", Flags(0), "0"},
		{"flags", FlagPersistent | FlagHashed | FlagSched3, "persistent|hashed|schedFlag3"},
		{"unnamed flag", FlagOnePacket | 0x140, "onePacket|0x140"},
		{"forwarding", FwdTunnel, "Tunnel"},
		{"tunnel", TunnelGUE, "gue"},
		{"daemon", DaemonBackup, "backup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}

	labels := []struct {
		name        string
		key         ServiceKey
		label, cell string // Label, and the column of WriteTable
	}{
		{"tcp", ServiceKey{Family: FamilyIPv4, Protocol: ProtoTCP, Addr: v4, Port: 80}, "TCP 10.0.0.1:80", "TCP  10.0.0.1:80"},
		{"sctp", ServiceKey{Family: FamilyIPv4, Protocol: ProtoSCTP, Addr: v4, Port: 80}, "SCTP 10.0.0.1:80", "SCTP 10.0.0.1:80"},
		{"ipv6", ServiceKey{Family: FamilyIPv6, Protocol: ProtoUDP, Addr: v6, Port: 53}, "UDP [fd00::1]:53", "UDP  [fd00::1]:53"},
		{"ipv4 mapped", ServiceKey{Family: FamilyIPv4, Protocol: ProtoTCP, Addr: mapped, Port: 80}, "TCP 10.0.0.1:80", "TCP  10.0.0.1:80"},
		{"unknown protocol", ServiceKey{Family: FamilyIPv4, Protocol: 33, Addr: v4, Port: 1}, "PROTO33 10.0.0.1:1", "PROTO33 10.0.0.1:1"},
		{"fwmark", ServiceKey{Family: FamilyIPv4, FWMark: 5}, "FWM 5", "FWM  5"},
		{"fwmark ipv6", ServiceKey{Family: FamilyIPv6, FWMark: 6}, "FWM 6 IPv6", "FWM  6 IPv6"},
	}
	for _, tt := range labels {
		t.Run("label "+tt.name, func(t *testing.T) {
			if got := tt.key.Label(); got != tt.label {
				t.Errorf("Label() = %q, want %q", got, tt.label)
			}
			if got := serviceLabel(tt.key); got != tt.cell {
				t.Errorf("serviceLabel = %q, want %q", got, tt.cell)
			}
		})
	}

	for _, tt := range []struct {
		d    Dest
		want string
	}{
		{Dest{DestKey: DestKey{Addr: v4, Port: 8080}, Family: FamilyIPv4}, "10.0.0.1:8080"},
		{Dest{DestKey: DestKey{Addr: mapped, Port: 8080}, Family: FamilyIPv4}, "10.0.0.1:8080"},
		{Dest{DestKey: DestKey{Addr: v6, Port: 0}, Family: FamilyIPv6}, "[fd00::1]:0"},
	} {
		if got := tt.d.Label(); got != tt.want {
			t.Errorf("Dest.Label() = %q, want %q", got, tt.want)
		}
	}
}

func TestNetmaskIPv4(t *testing.T) {
	for _, tt := range []struct {
		svc  Service
		want string // "" when there is none
	}{
		{Service{ServiceKey: ServiceKey{Family: FamilyIPv4}, Netmask: 0xffffff00}, "255.255.255.0"},
		{Service{ServiceKey: ServiceKey{Family: FamilyIPv4}, Netmask: 0xffffffff}, "255.255.255.255"},
		{Service{ServiceKey: ServiceKey{Family: FamilyIPv6}, Netmask: 64}, ""},
	} {
		m, ok := tt.svc.NetmaskIPv4()
		if ok != (tt.want != "") || (ok && m.String() != tt.want) {
			t.Errorf("NetmaskIPv4 of %#x (%v) = %v, %v; want %q", tt.svc.Netmask, tt.svc.Family, m, ok, tt.want)
		}
	}
}
