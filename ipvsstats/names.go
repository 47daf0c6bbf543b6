package ipvsstats

import (
	"fmt"
	"net/netip"
	"strconv"
)

// String names the method as ipvsadm's -Ln output does ("Masq", "Route").
func (m FwdMethod) String() string {
	switch m {
	case FwdMasq:
		return "Masq"
	case FwdLocalNode:
		return "Local"
	case FwdTunnel:
		return "Tunnel"
	case FwdRoute:
		return "Route"
	case FwdBypass:
		return "Bypass"
	}
	return "FwdMethod(" + strconv.FormatUint(uint64(m), 10) + ")"
}

// MarshalText makes the method a readable JSON string.
func (m FwdMethod) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (m *FwdMethod) UnmarshalText(b []byte) error {
	for v := FwdMasq; v <= FwdBypass; v++ {
		if v.String() == string(b) {
			*m = v
			return nil
		}
	}
	return fmt.Errorf("unknown forwarding method %q", b)
}

// String names the tunnel type as ipvsadm's --tun-type option does.
func (t TunnelType) String() string {
	switch t {
	case TunnelIPIP:
		return "ipip"
	case TunnelGUE:
		return "gue"
	case TunnelGRE:
		return "gre"
	}
	return "TunnelType(" + strconv.FormatUint(uint64(t), 10) + ")"
}

// MarshalText makes the tunnel type a readable JSON string.
func (t TunnelType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (t *TunnelType) UnmarshalText(b []byte) error {
	for v := TunnelIPIP; v <= TunnelGRE; v++ {
		if v.String() == string(b) {
			*t = v
			return nil
		}
	}
	return fmt.Errorf("unknown tunnel type %q", b)
}

// String names the role as ipvsadm --daemon does ("master", "backup").
func (s DaemonState) String() string {
	switch s {
	case DaemonMaster:
		return "master"
	case DaemonBackup:
		return "backup"
	}
	return "DaemonState(" + strconv.FormatUint(uint64(s), 10) + ")"
}

// MarshalText makes the role a readable JSON string.
func (s DaemonState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (s *DaemonState) UnmarshalText(b []byte) error {
	for _, v := range []DaemonState{DaemonMaster, DaemonBackup} {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unknown daemon state %q", b)
}

// ProtocolName names a service protocol as ipvsadm does ("TCP"); a fwmark
// service is "FWM".
func (k ServiceKey) ProtocolName() string {
	if k.FWMark != 0 {
		return "FWM"
	}
	switch k.Protocol {
	case ProtoTCP:
		return "TCP"
	case ProtoUDP:
		return "UDP"
	case ProtoSCTP:
		return "SCTP"
	}
	return "proto" + strconv.FormatUint(uint64(k.Protocol), 10)
}

// formatKey writes a service identity as ipvsadm does: "TCP 10.0.0.1:80",
// "TCP [::1]:80", "FWM 5 IPv6".
func formatKey(k ServiceKey) string {
	if k.FWMark != 0 {
		if k.Family == FamilyIPv6 {
			return fmt.Sprintf("FWM %d IPv6", k.FWMark)
		}
		return fmt.Sprintf("FWM %d", k.FWMark)
	}
	return k.ProtocolName() + " " + hostPort(k.Addr, k.Port)
}

func hostPort(a netip.Addr, port uint16) string {
	return netip.AddrPortFrom(a, port).String()
}
