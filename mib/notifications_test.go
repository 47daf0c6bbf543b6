package mib

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
	"github.com/lvs-agentx/lvs-agentx/ipvsevents"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

type sentNotification struct {
	trap     agentx.OID
	vbs      []agentx.VarBind
	cur, old *View // the views of the read that found it and of the last successful read before
}

// notifyReads compares snaps in turn as the agent compares its reads (a
// nil one is a failed read), one second apart, and returns the
// notifications of kinds that the changes give.
func notifyReads(kinds ipvsevents.Kinds, snaps ...*ipvsstats.Snapshot) []sentNotification {
	var tracker ipvsevents.Tracker
	nums := fixture.NewNumbers()
	var sent []sentNotification
	var lastAvail *View
	for i, snap := range snaps {
		at := fixture.ReadAt.Add(time.Duration(i+1) * time.Second)
		v := Unavailable(at, fixture.Clock)
		if snap != nil {
			snap.ReadAt = at
			v = Build(snap, nums, fixture.Clock)
		}
		for _, ev := range tracker.Compare(snap) {
			if !kinds.Has(ev.Kind) {
				continue
			}
			if trap, vbs, ok := Notification(ev, lastAvail, v, nums); ok {
				sent = append(sent, sentNotification{trap, vbs, v, lastAvail})
			}
		}
		if snap != nil {
			lastAvail = v
		}
	}
	return sent
}

// Snapshot edits for the tests; fixture numbers its services 1 FWM 7,
// 2 TCP 10.99.0.1:80 (real servers 1 10.0.0.2:80 weight 0, 2 10.0.0.3:80,
// 3 127.0.0.1:8080 with thresholds 100/10 and 7 connections), 3 UDP
// 10.99.0.2:53 (1 10.0.0.9:53 weight 0), 4 SCTP, 5 FWM 5 IPv6, 6 TCP
// [fd00::1]:443.
func edit(f func(s *ipvsstats.Snapshot)) *ipvsstats.Snapshot {
	s := fixture.Snapshot()
	f(s)
	return s
}

func service(s *ipvsstats.Snapshot, name string) *ipvsstats.Service {
	for i := range s.Services {
		if s.Services[i].Label() == name {
			return &s.Services[i]
		}
	}
	panic("no service " + name)
}

func TestNotifications(t *testing.T) {
	const tcp80, udp53, tcp443 = "TCP 10.99.0.1:80", "UDP 10.99.0.2:53", "TCP [fd00::1]:443"
	type want struct {
		trap string
		inst string // the row: ".2", ".2.3", ".1"; ".0" for scalars
		old  bool   // values from the previous successful read
	}
	tests := []struct {
		name  string
		snaps []*ipvsstats.Snapshot // the first is the baseline
		want  []want
	}{
		{"all weights of a service to 0", []*ipvsstats.Snapshot{fixture.Snapshot(), edit(func(s *ipvsstats.Snapshot) {
			for i := range service(s, tcp80).Dests {
				service(s, tcp80).Dests[i].Weight = 0
			}
		})}, []want{{"lvsRealServerQuiesced", ".2.3", false}, {"lvsRealServerQuiesced", ".2.2", false},
			{"lvsServiceDown", ".2", false}}},
		{"a weight back from 0", []*ipvsstats.Snapshot{fixture.Snapshot(), edit(func(s *ipvsstats.Snapshot) {
			service(s, udp53).Dests[0].Weight = 4
		})}, []want{{"lvsRealServerResumed", ".3.1", false}, {"lvsServiceUp", ".3", false}}},
		{"a service removed", []*ipvsstats.Snapshot{fixture.Snapshot(), edit(func(s *ipvsstats.Snapshot) {
			s.Services = slices.DeleteFunc(s.Services, func(v ipvsstats.Service) bool { return v.Label() == tcp443 })
		})}, []want{{"lvsServiceRemoved", ".6", true}}},
		{"a service added", []*ipvsstats.Snapshot{fixture.Snapshot(), edit(func(s *ipvsstats.Snapshot) {
			svc := *service(s, tcp443)
			svc.Port = 8443
			s.Services = append(s.Services, svc)
		})}, []want{{"lvsServiceAdded", ".7", false}}},
		{"a real server removed", []*ipvsstats.Snapshot{fixture.Snapshot(), edit(func(s *ipvsstats.Snapshot) {
			svc := service(s, tcp80)
			svc.Dests = slices.Delete(svc.Dests, 1, 2) // 10.0.0.3:80
		})}, []want{{"lvsRealServerRemoved", ".2.2", true}}},
		{"a real server added", []*ipvsstats.Snapshot{fixture.Snapshot(), edit(func(s *ipvsstats.Snapshot) {
			svc := service(s, udp53)
			d := svc.Dests[0]
			d.Addr, d.Weight = netip.MustParseAddr("10.0.0.10"), 1
			svc.Dests = append(svc.Dests, d)
		})}, []want{{"lvsRealServerAdded", ".3.2", false}, {"lvsServiceUp", ".3", false}}},
		{"upper threshold reached and left below the lower", []*ipvsstats.Snapshot{fixture.Snapshot(), edit(func(s *ipvsstats.Snapshot) {
			service(s, tcp80).Dests[0].ActiveConns = 96
		}), edit(func(s *ipvsstats.Snapshot) {
			service(s, tcp80).Dests[0].ActiveConns, service(s, tcp80).Dests[0].InactiveConns = 5, 4
		})}, []want{{"lvsRealServerOverloaded", ".2.3", false}, {"lvsRealServerOverloadCleared", ".2.3", false}}},
		{"sync daemons stopped and started", []*ipvsstats.Snapshot{fixture.Snapshot(), edit(func(s *ipvsstats.Snapshot) {
			s.Daemons = nil
		}), fixture.Snapshot()}, []want{{"lvsSyncDaemonStopped", ".1", true}, {"lvsSyncDaemonStopped", ".2", true},
			{"lvsSyncDaemonStarted", ".1", false}, {"lvsSyncDaemonStarted", ".2", false}}},
		{"IPVS unreadable and readable again", []*ipvsstats.Snapshot{fixture.Snapshot(), nil, nil, edit(func(s *ipvsstats.Snapshot) {
			s.Services = slices.DeleteFunc(s.Services, func(v ipvsstats.Service) bool { return v.Label() == tcp443 })
		})}, []want{{"lvsIpvsUnreadable", ".0", false}, {"lvsIpvsReadable", ".0", false}, {"lvsServiceRemoved", ".6", true}}},
	}
	declared, tcs, _ := parseMIB(t)
	syntax := map[string]string{}
	for _, d := range declared {
		syntax[d.name] = d.syntax
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := notifyReads(ipvsevents.AllKinds, tt.snaps...)
			var got []string
			for _, n := range sent {
				got = append(got, describeNotification(n))
			}
			if len(sent) != len(tt.want) {
				t.Fatalf("sent\n\t%s\nwant %d: %v", strings.Join(got, "\n\t"), len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				// The view the values come from: the current one, or the
				// last successful one before it.
				n := sent[i]
				nt := byTrapName(t, w.trap)
				if n.trap.Compare(child(notificationsOID, nt.arc)) != 0 {
					t.Errorf("%d: %s, want %s", i, got[i], w.trap)
					continue
				}
				v := n.cur
				if w.old {
					v = n.old
				}
				checkVarBinds(t, nt, n.vbs, w.inst, v, syntax, tcs)
			}
		})
	}
}

func byTrapName(t *testing.T, name string) notificationType {
	t.Helper()
	for _, nt := range sortedNotificationTypes() {
		if nt.name == name {
			return nt
		}
	}
	t.Fatalf("no notification %s", name)
	return notificationType{}
}

// checkVarBinds checks that vbs are nt's objects, in order, at the row
// inst (the service of a real server for service columns, .0 for
// scalars), typed as their SYNTAX says, with the values v serves.
func checkVarBinds(t *testing.T, nt notificationType, vbs []agentx.VarBind, inst string, v *View, syntax, tcs map[string]string) {
	t.Helper()
	if len(vbs) != len(nt.objects) {
		t.Errorf("%s: %d varbinds, want %d", nt.name, len(vbs), len(nt.objects))
		return
	}
	for j, vb := range vbs {
		o, got, ok := Describe(vb.Name)
		name := o.Name
		want := inst
		switch {
		case o.Table == Scalars:
			want = ".0"
		case strings.HasPrefix(name, "lvsService"):
			want = "." + strings.Split(inst, ".")[1]
		}
		if !ok || name != nt.objects[j] || got.String() != want {
			t.Errorf("%s varbind %d is %s%v, want %s%s", nt.name, j, name, got, nt.objects[j], want)
			continue
		}
		if w := wireType(syntax[name], tcs); vb.Type != w {
			t.Errorf("%s: %s sent as %v, its SYNTAX %q is %v", nt.name, name, vb.Type, syntax[name], w)
		}
		if name == "lvsNotificationsLeftOut" {
			continue
		}
		if served := v.Get(vb.Name); !sameValue(served, vb) {
			t.Errorf("%s: %s = %+v, the view serves %+v", nt.name, name, vb, served)
		}
	}
}

func describeNotification(n sentNotification) string {
	name := n.trap.String()
	if o, inst, ok := Describe(n.trap); ok && o.Class == ClassNotification && len(inst) == 0 {
		name = o.Name
	}
	parts := []string{name}
	for _, vb := range n.vbs {
		o, inst, _ := Describe(vb.Name)
		parts = append(parts, o.Name+inst.String())
	}
	return strings.Join(parts, " ")
}

// A storm: 2,000 changes in one read give 2,000 notifications (the agent
// bounds them), and its summary carries the number left out, lvsChanges
// and lvsLastChange.
func TestNotificationsManyChangesAndStorm(t *testing.T) {
	after := edit(func(s *ipvsstats.Snapshot) {
		svc := service(s, "FWM 7")
		for i := range 2000 {
			d := svc.Dests[0]
			d.Addr = netip.AddrFrom4([4]byte{10, 7, byte(i / 250), byte(i%250 + 1)})
			svc.Dests = append(svc.Dests, d)
		}
	})
	sent := notifyReads(ipvsevents.AllKinds, fixture.Snapshot(), after, after)
	if len(sent) != 2000 {
		t.Fatalf("%d notifications, want 2000", len(sent))
	}
	for i, n := range sent {
		if d := describeNotification(n); !strings.HasPrefix(d, "lvsRealServerAdded lvsServiceName.1 lvsRealServerName.1.") {
			t.Fatalf("notification %d: %s", i, d)
		}
	}

	// The change was found by the second read, 2 s after the fixture's time.
	v := sent[0].cur
	v.SetChanges(Changes{Count: 2000, Last: fixture.ReadAt.Add(2 * time.Second), SysUpTimeAt: fixture.SysUpTimeAt})
	trap, vbs := Storm(v, 1980)
	declared, tcs, _ := parseMIB(t)
	syntax := map[string]string{}
	for _, d := range declared {
		syntax[d.name] = d.syntax
	}
	if trap.Compare(child(notificationsOID, 15)) != 0 {
		t.Fatalf("storm trap %v", trap)
	}
	checkVarBinds(t, stormNotification, vbs, ".0", v, syntax, tcs)
	if vbs[0].Uint != 1980 || vbs[1].Uint != 2000 || vbs[2].Uint != 1200 {
		t.Errorf("storm %s = %d, %d, %d; want 1980, 2000, 1200", describeNotification(sentNotification{trap: trap, vbs: vbs}),
			vbs[0].Uint, vbs[1].Uint, vbs[2].Uint)
	}
}

// Every kind of change has a notification, and no two share an OID.
func TestEveryKindHasANotification(t *testing.T) {
	seen := map[uint32]string{stormNotification.arc: stormNotification.name}
	for k := ipvsevents.IPVSUnreadable; k.String() != fmt.Sprintf("Kind(%d)", uint8(k)); k++ {
		nt, ok := notificationTypes[k]
		if !ok {
			t.Errorf("kind %s has no notification", k)
			continue
		}
		if other, dup := seen[nt.arc]; dup {
			t.Errorf("%s and %s share lvsNotifications.%d", nt.name, other, nt.arc)
		}
		seen[nt.arc] = nt.name
	}
}
