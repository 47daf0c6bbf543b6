package ipvsstats

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteTable writes s for people, in the spirit of ipvsadm: the services
// and real servers as `ipvsadm -Ln` lists them, then their counters as
// `ipvsadm -Ln --stats --exact` and their rates as `--rate`, then the
// timeouts and sync daemons.
func WriteTable(w io.Writer, s *Snapshot) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("IP Virtual Server version %s (size=%d)\n", s.Info.Version(), s.Info.ConnTableSize)
	p("Prot LocalAddress:Port Scheduler Flags\n")
	p("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn PersistConn\n")
	for i := range s.Services {
		svc := &s.Services[i]
		p("%s %s%s\n", serviceLabel(svc.ServiceKey), svc.Scheduler, flagsText(svc))
		for j := range svc.Dests {
			d := &svc.Dests[j]
			p("  -> %-28s %-7s %-6d %-10d %-10d %d%s\n", d.Label(), d.FwdMethod,
				d.Weight, d.ActiveConns, d.InactiveConns, d.PersistConns, destExtra(d))
		}
	}
	counters := func(label string, st *Stats) {
		p("%-33s %8d %8d %8d %10d %10d %6d %6d %6d %10d %10d\n", label,
			st.Conns, st.InPkts, st.OutPkts, st.InBytes, st.OutBytes,
			st.CPS, st.InPPS, st.OutPPS, st.InBPS, st.OutBPS)
	}
	p("\n%-33s %8s %8s %8s %10s %10s %6s %6s %6s %10s %10s\n", "Prot LocalAddress:Port",
		"Conns", "InPkts", "OutPkts", "InBytes", "OutBytes", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
	p("  -> RemoteAddress:Port\n")
	for i := range s.Services {
		svc := &s.Services[i]
		counters(serviceLabel(svc.ServiceKey), &svc.Stats)
		for j := range svc.Dests {
			d := &svc.Dests[j]
			counters("  -> "+d.Label(), &d.Stats)
		}
	}
	p("\nTimeout (tcp tcpfin udp): %d %d %d\n", s.Timeouts.TCP, s.Timeouts.TCPFin, s.Timeouts.UDP)
	for _, d := range s.Daemons {
		p("%s sync daemon (mcast=%s, syncid=%d, maxlen=%d, group=%s, port=%d, ttl=%d)\n",
			d.State, d.Interface, d.SyncID, d.MaxLen, d.Group, d.Port, d.TTL)
	}
	return bw.Flush()
}

// destExtra describes a tunnel real server's encapsulation.
func destExtra(d *Dest) string {
	if d.FwdMethod != FwdTunnel {
		return ""
	}
	x := " " + d.TunnelType.String()
	if d.TunnelType == TunnelGUE {
		x += fmt.Sprintf(" port %d", d.TunnelPort)
	}
	if d.TunnelFlags != 0 {
		x += fmt.Sprintf(" flags %#x", d.TunnelFlags)
	}
	return x
}

// serviceLabel is the protocol and address column of ipvsadm -Ln.
func serviceLabel(k ServiceKey) string {
	proto, where := k.labelParts()
	return fmt.Sprintf("%-4s %s", proto, where)
}

// flagsText describes scheduler flags and persistence as ipvsadm does.
func flagsText(s *Service) string {
	var f, sf []string
	names := [3]string{"flag-1", "flag-2", "flag-3"}
	if s.Scheduler == "sh" || s.Scheduler == "mh" {
		names = [3]string{s.Scheduler + "-fallback", s.Scheduler + "-port", "flag-3"}
	}
	for i, flag := range []Flags{FlagSched1, FlagSched2, FlagSched3} {
		if s.Flags&flag != 0 {
			sf = append(sf, names[i])
		}
	}
	if len(sf) > 0 {
		f = append(f, "("+strings.Join(sf, ",")+")")
	}
	if s.Flags&FlagPersistent != 0 {
		p := fmt.Sprintf("persistent %d", s.Timeout)
		mask, v4 := s.NetmaskIPv4()
		switch {
		case v4 && s.Netmask != 0xffffffff:
			p += " mask " + mask.String()
		case s.Family == FamilyIPv6 && s.Netmask != 128:
			p += fmt.Sprintf(" mask %d", s.Netmask)
		}
		f = append(f, p)
	}
	if s.PEName != "" {
		f = append(f, "pe "+s.PEName)
	}
	if s.Flags&FlagOnePacket != 0 {
		f = append(f, "ops")
	}
	if len(f) == 0 {
		return ""
	}
	return " " + strings.Join(f, " ")
}
