package ipvsevents

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

func tcp(vip string, dests ...ipvsstats.Dest) ipvsstats.Service {
	return ipvsstats.Service{ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4,
		Protocol: ipvsstats.ProtoTCP, Addr: netip.MustParseAddr(vip), Port: 80}, Scheduler: "wlc", Dests: dests}
}

func rs(rip string, weight int32) ipvsstats.Dest {
	return ipvsstats.Dest{DestKey: ipvsstats.DestKey{Addr: netip.MustParseAddr(rip), Port: 8080},
		Family: ipvsstats.FamilyIPv4, Weight: weight}
}

// limited is a real server with thresholds and a connection count.
func limited(rip string, upper, lower, active, inactive uint32) ipvsstats.Dest {
	d := rs(rip, 1)
	d.UpperThreshold, d.LowerThreshold, d.ActiveConns, d.InactiveConns = upper, lower, active, inactive
	return d
}

func snap(svcs ...ipvsstats.Service) *ipvsstats.Snapshot {
	return &ipvsstats.Snapshot{Services: svcs}
}

func withDaemons(s *ipvsstats.Snapshot, ds ...ipvsstats.Daemon) *ipvsstats.Snapshot {
	s.Daemons = ds
	return s
}

var (
	master = ipvsstats.Daemon{State: ipvsstats.DaemonMaster, Interface: "eth0", SyncID: 1}
	backup = ipvsstats.Daemon{State: ipvsstats.DaemonBackup, Interface: "eth1", SyncID: 1}
)

// describe is an event as the tests write it:
// "kind TCP 10.0.0.1:80 -> 10.1.0.1:8080".
func describe(e Event) string {
	s := e.Kind.String()
	if e.Service != nil {
		s += " " + e.Service.Label()
	}
	if e.Dest != nil {
		s += " -> " + netip.AddrPortFrom(e.Dest.Addr, e.Dest.Port).String()
	}
	if e.Daemon != nil {
		s += fmt.Sprintf(" %s %s", e.Daemon.State, e.Daemon.Interface)
	}
	return s
}

func TestCompare(t *testing.T) {
	type step struct {
		snap *ipvsstats.Snapshot // nil: the read failed
		want []string
	}
	const vip, vip2 = "10.0.0.1", "10.0.0.2"
	const svcName, svc2Name = "TCP 10.0.0.1:80", "TCP 10.0.0.2:80"
	tests := []struct {
		name  string
		steps []step
	}{
		{"first read is the baseline", []step{
			{snap(tcp(vip), tcp(vip2, rs("10.1.0.1", 0))), nil},
		}},
		{"nothing changed", []step{
			{snap(tcp(vip, rs("10.1.0.1", 1))), nil},
			{snap(tcp(vip, rs("10.1.0.1", 1))), nil},
		}},
		{"counters and other settings are not changes", []step{
			{snap(tcp(vip, rs("10.1.0.1", 1))), nil},
			{func() *ipvsstats.Snapshot {
				s := snap(tcp(vip, rs("10.1.0.1", 7)))
				s.Services[0].Scheduler = "rr"
				s.Services[0].Dests[0].ActiveConns = 1000
				s.Services[0].Stats.Conns = 5
				return s
			}(), nil},
		}},
		{"all weights to 0: exactly one service-down", []step{
			{snap(tcp(vip, rs("10.1.0.1", 1), rs("10.1.0.2", 3))), nil},
			{snap(tcp(vip, rs("10.1.0.1", 0), rs("10.1.0.2", 0))), []string{
				"real-quiesced " + svcName + " -> 10.1.0.1:8080",
				"real-quiesced " + svcName + " -> 10.1.0.2:8080",
				"service-down " + svcName}},
			{snap(tcp(vip, rs("10.1.0.1", 0), rs("10.1.0.2", 0))), nil},
		}},
		{"restore a weight: service-up", []step{
			{snap(tcp(vip, rs("10.1.0.1", 0), rs("10.1.0.2", 0))), nil},
			{snap(tcp(vip, rs("10.1.0.1", 0), rs("10.1.0.2", 2))), []string{
				"real-resumed " + svcName + " -> 10.1.0.2:8080",
				"service-up " + svcName}},
		}},
		{"drain one of two: no service-down", []step{
			{snap(tcp(vip, rs("10.1.0.1", 1), rs("10.1.0.2", 1))), nil},
			{snap(tcp(vip, rs("10.1.0.1", 1), rs("10.1.0.2", 0))), []string{
				"real-quiesced " + svcName + " -> 10.1.0.2:8080"}},
		}},
		{"add a real server", []step{
			{snap(tcp(vip, rs("10.1.0.1", 1))), nil},
			{snap(tcp(vip, rs("10.1.0.1", 1), rs("10.1.0.2", 1))), []string{
				"real-added " + svcName + " -> 10.1.0.2:8080"}},
		}},
		{"first real server of an empty service: added and up", []step{
			{snap(tcp(vip)), nil},
			{snap(tcp(vip, rs("10.1.0.1", 1))), []string{
				"real-added " + svcName + " -> 10.1.0.1:8080",
				"service-up " + svcName}},
		}},
		{"remove a real server", []step{
			{snap(tcp(vip, rs("10.1.0.1", 1), rs("10.1.0.2", 1))), nil},
			{snap(tcp(vip, rs("10.1.0.2", 1))), []string{
				"real-removed " + svcName + " -> 10.1.0.1:8080"}},
		}},
		{"remove the last usable real server: removed and down", []step{
			{snap(tcp(vip, rs("10.1.0.1", 1), rs("10.1.0.2", 0))), nil},
			{snap(tcp(vip, rs("10.1.0.2", 0))), []string{
				"real-removed " + svcName + " -> 10.1.0.1:8080",
				"service-down " + svcName}},
		}},
		{"replace a real server", []step{
			{snap(tcp(vip, rs("10.1.0.1", 1))), nil},
			{snap(tcp(vip, rs("10.1.0.9", 0))), []string{
				"real-removed " + svcName + " -> 10.1.0.1:8080",
				"real-added " + svcName + " -> 10.1.0.9:8080",
				"service-down " + svcName}},
		}},
		{"real servers listed in another order: no change", []step{
			{snap(tcp(vip, rs("10.1.0.1", 1), rs("10.1.0.2", 0))), nil},
			{snap(tcp(vip, rs("10.1.0.2", 0), rs("10.1.0.1", 1))), nil},
		}},
		{"services added and removed, with their real servers", []step{
			{snap(tcp(vip, rs("10.1.0.1", 1))), nil},
			{snap(tcp(vip2, rs("10.1.0.1", 1), rs("10.1.0.2", 1))), []string{
				"service-removed " + svcName,
				"service-added " + svc2Name}},
		}},
		{"IPVS unreadable and readable again", []step{
			{snap(tcp(vip, rs("10.1.0.1", 1))), nil},
			{nil, []string{"ipvs-unreadable"}},
			{nil, nil},
			// Compared with the last read that worked.
			{snap(tcp(vip, rs("10.1.0.1", 0))), []string{
				"ipvs-readable",
				"real-quiesced " + svcName + " -> 10.1.0.1:8080",
				"service-down " + svcName}},
		}},
		{"unreadable from the start", []step{
			{nil, nil},
			{snap(tcp(vip, rs("10.1.0.1", 1))), []string{"ipvs-readable"}},
			{snap(tcp(vip, rs("10.1.0.1", 1))), nil},
		}},
		{"sync daemons start and stop", []step{
			{snap(), nil},
			{withDaemons(snap(), master), []string{"daemon-started master eth0"}},
			{withDaemons(snap(), master, backup), []string{"daemon-started backup eth1"}},
			{withDaemons(snap(), backup), []string{"daemon-stopped master eth0"}},
			{withDaemons(snap(), ipvsstats.Daemon{State: ipvsstats.DaemonBackup, Interface: "eth2", SyncID: 1}), []string{
				"daemon-stopped backup eth1", "daemon-started backup eth2"}},
			{snap(), []string{"daemon-stopped backup eth2"}},
		}},
		{"upper and lower threshold, with hysteresis", []step{
			{snap(tcp(vip, limited("10.1.0.1", 100, 10, 40, 0))), nil},
			{snap(tcp(vip, limited("10.1.0.1", 100, 10, 60, 39))), nil},
			{snap(tcp(vip, limited("10.1.0.1", 100, 10, 60, 40))), []string{
				"real-overloaded " + svcName + " -> 10.1.0.1:8080"}},
			{snap(tcp(vip, limited("10.1.0.1", 100, 10, 150, 0))), nil},
			{snap(tcp(vip, limited("10.1.0.1", 100, 10, 50, 0))), nil}, // between the thresholds: still overloaded
			{snap(tcp(vip, limited("10.1.0.1", 100, 10, 5, 5))), nil},  // at the lower threshold: still overloaded
			{snap(tcp(vip, limited("10.1.0.1", 100, 10, 5, 4))), []string{
				"real-overload-cleared " + svcName + " -> 10.1.0.1:8080"}},
			{snap(tcp(vip, limited("10.1.0.1", 100, 10, 50, 0))), nil}, // between the thresholds: not overloaded
			{snap(tcp(vip, limited("10.1.0.1", 100, 10, 100, 0))), []string{
				"real-overloaded " + svcName + " -> 10.1.0.1:8080"}},
		}},
		{"no lower threshold: cleared below three quarters of the upper", []step{
			{snap(tcp(vip, limited("10.1.0.1", 100, 0, 0, 0))), nil},
			{snap(tcp(vip, limited("10.1.0.1", 100, 0, 100, 0))), []string{
				"real-overloaded " + svcName + " -> 10.1.0.1:8080"}},
			{snap(tcp(vip, limited("10.1.0.1", 100, 0, 75, 0))), nil},
			{snap(tcp(vip, limited("10.1.0.1", 100, 0, 74, 0))), []string{
				"real-overload-cleared " + svcName + " -> 10.1.0.1:8080"}},
		}},
		{"no thresholds: never overloaded", []step{
			{snap(tcp(vip, limited("10.1.0.1", 0, 0, 0, 0))), nil},
			{snap(tcp(vip, limited("10.1.0.1", 0, 0, 1<<31, 1<<31))), nil},
			{snap(tcp(vip, limited("10.1.0.1", 0, 50, 100, 0))), nil},
		}},
		{"raising or removing the upper threshold clears at once", []step{
			{snap(tcp(vip, limited("10.1.0.1", 100, 10, 100, 0))), nil}, // baseline: overloaded, silently
			{snap(tcp(vip, limited("10.1.0.1", 200, 10, 150, 0))), []string{
				"real-overload-cleared " + svcName + " -> 10.1.0.1:8080"}},
			{snap(tcp(vip, limited("10.1.0.1", 100, 10, 150, 0))), []string{
				"real-overloaded " + svcName + " -> 10.1.0.1:8080"}},
			{snap(tcp(vip, limited("10.1.0.1", 0, 10, 150, 0))), []string{
				"real-overload-cleared " + svcName + " -> 10.1.0.1:8080"}},
		}},
		{"a removed real server forgets its overload", []step{
			{snap(tcp(vip, rs("10.1.0.2", 1), limited("10.1.0.1", 100, 10, 100, 0))), nil},
			{snap(tcp(vip, rs("10.1.0.2", 1))), []string{
				"real-removed " + svcName + " -> 10.1.0.1:8080"}},
			{snap(tcp(vip, rs("10.1.0.2", 1), limited("10.1.0.1", 100, 10, 50, 0))), []string{
				"real-added " + svcName + " -> 10.1.0.1:8080"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr Tracker
			for i, st := range tt.steps {
				var got []string
				for _, e := range tr.Compare(st.snap) {
					got = append(got, describe(e))
				}
				if !slices.Equal(got, st.want) {
					t.Fatalf("read %d: events\n\t%s\nwant\n\t%s", i, strings.Join(got, "\n\t"), strings.Join(st.want, "\n\t"))
				}
			}
		})
	}
}

// Removed things point into the previous snapshot, present ones into the
// new one, so that what an event shows is what was read.
func TestEventsPointIntoTheirSnapshot(t *testing.T) {
	var tr Tracker
	old := withDaemons(snap(tcp("10.0.0.1", rs("10.1.0.1", 1)), tcp("10.0.0.2", rs("10.1.0.1", 1))), master)
	cur := snap(tcp("10.0.0.2", rs("10.1.0.2", 1)))
	tr.Compare(old)
	for _, e := range tr.Compare(cur) {
		var want *ipvsstats.Snapshot
		switch e.Kind {
		case ServiceRemoved, RealRemoved, DaemonStopped:
			want = old
		default:
			want = cur
		}
		in := func(p any) bool {
			for i := range want.Services {
				s := &want.Services[i]
				if p == any(s) {
					return true
				}
				for j := range s.Dests {
					if p == any(&s.Dests[j]) {
						return true
					}
				}
			}
			for i := range want.Daemons {
				if p == any(&want.Daemons[i]) {
					return true
				}
			}
			return false
		}
		if e.Service != nil && !in(e.Service) || e.Dest != nil && !in(e.Dest) || e.Daemon != nil && !in(e.Daemon) {
			t.Errorf("%s does not point into its snapshot", describe(e))
		}
	}
}

// A storm: 2,000 real servers added between two reads give 2,000 events.
func TestCompareManyChanges(t *testing.T) {
	var tr Tracker
	before := tcp("10.0.0.1", rs("10.1.0.1", 1))
	tr.Compare(snap(before))
	after := before
	after.Dests = slices.Clone(before.Dests)
	for i := range 2000 {
		after.Dests = append(after.Dests, rs(fmt.Sprintf("10.2.%d.%d", i/250, i%250+1), 1))
	}
	evs := tr.Compare(snap(after))
	if len(evs) != 2000 {
		t.Fatalf("%d events, want 2000", len(evs))
	}
	for _, e := range evs {
		if e.Kind != RealAdded {
			t.Fatalf("unexpected %s", describe(e))
		}
	}
}

func TestParseKinds(t *testing.T) {
	tests := []struct {
		in   string
		want Kinds
		str  string
	}{
		{"all", AllKinds, "all"},
		{"none", 0, "none"},
		{"", 0, "none"},
		{"availability", KindsOf(ServiceDown, ServiceUp), "availability"},
		{"ipvs, sync", KindsOf(IPVSUnreadable, IPVSReadable, DaemonStarted, DaemonStopped), "ipvs,sync"},
		{"services,availability,reals,weights,thresholds,ipvs,sync,defense,estimation,settings", AllKinds, "all"},
		{"defense,settings", KindsOf(DefenseOn, DefenseOff, SettingChanged), "defense,settings"},
	}
	for _, tt := range tests {
		got, err := ParseKinds(tt.in)
		if err != nil || got != tt.want || got.String() != tt.str {
			t.Errorf("ParseKinds(%q) = %b (%q), %v; want %b (%q)", tt.in, got, got, err, tt.want, tt.str)
		}
	}
	for k := IPVSUnreadable; k < maxKind; k++ {
		if !AllKinds.Has(k) || strings.HasPrefix(k.String(), "Kind(") {
			t.Errorf("kind %d: in AllKinds %v, name %q", k, AllKinds.Has(k), k)
		}
	}
	if AllKinds.Has(0) || AllKinds.Has(maxKind) {
		t.Error("AllKinds holds a kind that does not exist")
	}
	for _, bad := range []string{"bogus", "reals,", "all,reals"} {
		if _, err := ParseKinds(bad); err == nil || !strings.Contains(err.Error(), "want all, none, or a list of ipvs, services") {
			t.Errorf("ParseKinds(%q): %v", bad, err)
		}
	}
}
