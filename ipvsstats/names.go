package ipvsstats

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
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

// String names the family as ipvsadm does ("IPv4", "IPv6").
func (f Family) String() string {
	switch f {
	case FamilyIPv4:
		return "IPv4"
	case FamilyIPv6:
		return "IPv6"
	}
	return "Family(" + strconv.FormatUint(uint64(f), 10) + ")"
}

// String names the protocol as ipvsadm does ("TCP"); one IPVS does not
// know is "PROTO" and its number, as lvsServiceName has it.
func (p Protocol) String() string {
	switch p {
	case ProtoTCP:
		return "TCP"
	case ProtoUDP:
		return "UDP"
	case ProtoSCTP:
		return "SCTP"
	}
	return "PROTO" + strconv.FormatUint(uint64(p), 10)
}

// flagNames are the names of Flags bits, from bit 0 on, as LVS-MIB's
// lvsServiceFlags names them.
var flagNames = [...]string{"persistent", "hashed", "onePacket", "schedFlag1", "schedFlag2", "schedFlag3"}

// String lists the set flags by name, separated by "|" ("persistent|hashed");
// bits without a name are in hex; no flag is "0".
func (f Flags) String() string {
	if f == 0 {
		return "0"
	}
	var names []string
	for i, name := range flagNames {
		if f&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	if rest := f &^ (1<<len(flagNames) - 1); rest != 0 {
		names = append(names, "0x"+strconv.FormatUint(uint64(rest), 16))
	}
	return strings.Join(names, "|")
}

// Label names the service as ipvsadm -Ln does, single-spaced, and as
// lvsServiceName serves it: "TCP 10.0.0.1:80", "TCP [fd00::1]:443",
// "FWM 5", "FWM 6 IPv6". No two services have the same label.
func (k ServiceKey) Label() string {
	proto, where := k.labelParts()
	return proto + " " + where
}

// labelParts are the protocol ("FWM" for a fwmark service) and the rest of
// the service's label.
func (k ServiceKey) labelParts() (proto, where string) {
	if k.FWMark != 0 {
		where = strconv.FormatUint(uint64(k.FWMark), 10)
		if k.Family == FamilyIPv6 {
			where += " IPv6"
		}
		return "FWM", where
	}
	return k.Protocol.String(), hostPort(k.Family, k.Addr, k.Port)
}

// Label names the real server as host:port, as ipvsadm -Ln does and as
// lvsRealServerName serves it: "10.0.0.1:80", "[fd00::1]:443".
func (d *Dest) Label() string { return hostPort(d.Family, d.Addr, d.Port) }

// hostPort formats an address of family f and a port; an IPv4 address
// that came IPv4-mapped shows as IPv4.
func hostPort(f Family, a netip.Addr, port uint16) string {
	if f == FamilyIPv4 {
		a = a.Unmap()
	}
	return netip.AddrPortFrom(a, port).String()
}
