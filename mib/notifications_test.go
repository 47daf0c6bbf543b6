package mib

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvsevents"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// listReader hands out its snapshots in turn, stamped with the clock's
// time; a nil one is a failed read.
type listReader struct {
	clock *fakeClock
	snaps []*ipvsstats.Snapshot
}

func (r *listReader) Read(context.Context) (*ipvsstats.Snapshot, error) {
	s := r.snaps[0]
	r.snaps = r.snaps[1:]
	if s == nil {
		return nil, errors.New("IPVS is not loaded")
	}
	s.ReadAt = r.clock.Now()
	return s, nil
}

type sentNotification struct {
	trap agentx.OID
	vbs  []agentx.VarBind
}

// uptimeAt is a master's sysUpTime that was 1000 at the fixture's time.
func uptimeAt(t time.Time) uint32 { return 1000 + uint32(t.Sub(fixtureReadAt)/(10*time.Millisecond)) }

// notifyingSource returns a Source reading snaps in turn that records the
// notifications of kinds.
func notifyingSource(t *testing.T, kinds ipvsevents.Kinds, snaps ...*ipvsstats.Snapshot) (*Source, *fakeClock, *[]sentNotification) {
	t.Helper()
	clock := &fakeClock{t: fixtureReadAt}
	var sent []sentNotification
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := NewSource(ctx, SourceConfig{Reader: &listReader{clock: clock, snaps: snaps}, Indexes: NewIndexes(),
		Logger: slog.New(&logRecorder{}), Now: clock.Now, AfterFunc: clock.AfterFunc, SysUpTimeAt: uptimeAt,
		NotifyKinds: kinds,
		Notify: func(trap agentx.OID, vbs []agentx.VarBind) {
			sent = append(sent, sentNotification{trap, vbs})
		}})
	return s, clock, &sent
}

// Snapshot edits for the tests; fixture numbers its services 1 FWM 7,
// 2 TCP 10.99.0.1:80 (real servers 1 10.0.0.2:80 weight 0, 2 10.0.0.3:80,
// 3 127.0.0.1:8080 with thresholds 100/10 and 7 connections), 3 UDP
// 10.99.0.2:53 (1 10.0.0.9:53 weight 0), 4 SCTP, 5 FWM 5 IPv6, 6 TCP
// [fd00::1]:443.
func edit(f func(s *ipvsstats.Snapshot)) *ipvsstats.Snapshot {
	s := fixture()
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
		{"all weights of a service to 0", []*ipvsstats.Snapshot{fixture(), edit(func(s *ipvsstats.Snapshot) {
			for i := range service(s, tcp80).Dests {
				service(s, tcp80).Dests[i].Weight = 0
			}
		})}, []want{{"lvsRealServerQuiesced", ".2.3", false}, {"lvsRealServerQuiesced", ".2.2", false},
			{"lvsServiceDown", ".2", false}}},
		{"a weight back from 0", []*ipvsstats.Snapshot{fixture(), edit(func(s *ipvsstats.Snapshot) {
			service(s, udp53).Dests[0].Weight = 4
		})}, []want{{"lvsRealServerResumed", ".3.1", false}, {"lvsServiceUp", ".3", false}}},
		{"a service removed", []*ipvsstats.Snapshot{fixture(), edit(func(s *ipvsstats.Snapshot) {
			s.Services = slices.DeleteFunc(s.Services, func(v ipvsstats.Service) bool { return v.Label() == tcp443 })
		})}, []want{{"lvsServiceRemoved", ".6", true}}},
		{"a service added", []*ipvsstats.Snapshot{fixture(), edit(func(s *ipvsstats.Snapshot) {
			svc := *service(s, tcp443)
			svc.Port = 8443
			s.Services = append(s.Services, svc)
		})}, []want{{"lvsServiceAdded", ".7", false}}},
		{"a real server removed", []*ipvsstats.Snapshot{fixture(), edit(func(s *ipvsstats.Snapshot) {
			svc := service(s, tcp80)
			svc.Dests = slices.Delete(svc.Dests, 1, 2) // 10.0.0.3:80
		})}, []want{{"lvsRealServerRemoved", ".2.2", true}}},
		{"a real server added", []*ipvsstats.Snapshot{fixture(), edit(func(s *ipvsstats.Snapshot) {
			svc := service(s, udp53)
			d := svc.Dests[0]
			d.Addr, d.Weight = netip.MustParseAddr("10.0.0.10"), 1
			svc.Dests = append(svc.Dests, d)
		})}, []want{{"lvsRealServerAdded", ".3.2", false}, {"lvsServiceUp", ".3", false}}},
		{"upper threshold reached and left below the lower", []*ipvsstats.Snapshot{fixture(), edit(func(s *ipvsstats.Snapshot) {
			service(s, tcp80).Dests[0].ActiveConns = 96
		}), edit(func(s *ipvsstats.Snapshot) {
			service(s, tcp80).Dests[0].ActiveConns, service(s, tcp80).Dests[0].InactiveConns = 5, 4
		})}, []want{{"lvsRealServerOverloaded", ".2.3", false}, {"lvsRealServerOverloadCleared", ".2.3", false}}},
		{"sync daemons stopped and started", []*ipvsstats.Snapshot{fixture(), edit(func(s *ipvsstats.Snapshot) {
			s.Daemons = nil
		}), fixture()}, []want{{"lvsSyncDaemonStopped", ".1", true}, {"lvsSyncDaemonStopped", ".2", true},
			{"lvsSyncDaemonStarted", ".1", false}, {"lvsSyncDaemonStarted", ".2", false}}},
		{"IPVS unreadable and readable again", []*ipvsstats.Snapshot{fixture(), nil, nil, edit(func(s *ipvsstats.Snapshot) {
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
			s, clock, sent := notifyingSource(t, ipvsevents.AllKinds, tt.snaps...)
			// The view each notification's values come from: the current
			// one, or the last successful one before it.
			var cur, old []*View
			var lastAvail *View
			for range tt.snaps {
				clock.Add(time.Second)
				before := len(*sent)
				v := s.Refresh(context.Background())
				for range len(*sent) - before {
					cur, old = append(cur, v), append(old, lastAvail)
				}
				if v.ok {
					lastAvail = v
				}
			}
			var got []string
			for _, n := range *sent {
				got = append(got, describeNotification(n))
			}
			if len(*sent) != len(tt.want) {
				t.Fatalf("sent\n\t%s\nwant %d: %v", strings.Join(got, "\n\t"), len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				n := (*sent)[i]
				nt := byTrapName(t, w.trap)
				if n.trap.Compare(child(notificationsOID, nt.arc)) != 0 {
					t.Errorf("%d: %s, want %s", i, got[i], w.trap)
					continue
				}
				v := cur[i]
				if w.old {
					v = old[i]
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
	if o, inst, ok := Describe(n.trap); ok && o.Kind == Notification && len(inst) == 0 {
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
// bounds them), lvsChanges counts them all, lvsLastChange is the master's
// sysUpTime at that read, and the summary carries both.
func TestNotificationsManyChangesAndStorm(t *testing.T) {
	after := edit(func(s *ipvsstats.Snapshot) {
		svc := service(s, "FWM 7")
		for i := range 2000 {
			d := svc.Dests[0]
			d.Addr = netip.AddrFrom4([4]byte{10, 7, byte(i / 250), byte(i%250 + 1)})
			svc.Dests = append(svc.Dests, d)
		}
	})
	s, clock, sent := notifyingSource(t, ipvsevents.AllKinds, fixture(), after, after)
	for range 3 {
		clock.Add(time.Second)
		s.Refresh(context.Background())
	}
	if len(*sent) != 2000 {
		t.Fatalf("%d notifications, want 2000", len(*sent))
	}
	for i, n := range *sent {
		if d := describeNotification(n); !strings.HasPrefix(d, "lvsRealServerAdded lvsServiceName.1 lvsRealServerName.1.") {
			t.Fatalf("notification %d: %s", i, d)
		}
	}
	v := s.view()
	changes, last := v.Get(child(child(Root, 11), 0)), v.Get(child(child(Root, 12), 0))
	if changes.Type != agentx.Counter32 || changes.Uint != 2000 {
		t.Errorf("lvsChanges = %v %d, want Counter32 2000", changes.Type, changes.Uint)
	}
	// The change was found by the second read, 2 s after the fixture's time.
	if last.Type != agentx.TimeTicks || last.Uint != 1200 {
		t.Errorf("lvsLastChange = %v %d, want TimeTicks 1200", last.Type, last.Uint)
	}

	trap, vbs := s.StormNotification(1980)
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
		t.Errorf("storm %s = %d, %d, %d; want 1980, 2000, 1200", describeNotification(sentNotification{trap, vbs}),
			vbs[0].Uint, vbs[1].Uint, vbs[2].Uint)
	}
}

// Only the chosen kinds are notified; every change is counted.
func TestNotifyKinds(t *testing.T) {
	kinds, err := ipvsevents.ParseKinds("availability")
	if err != nil {
		t.Fatal(err)
	}
	down := edit(func(s *ipvsstats.Snapshot) {
		for i := range service(s, "TCP 10.99.0.1:80").Dests {
			service(s, "TCP 10.99.0.1:80").Dests[i].Weight = 0
		}
	})
	s, _, sent := notifyingSource(t, kinds, fixture(), down)
	s.Refresh(context.Background())
	v := s.Refresh(context.Background())
	if len(*sent) != 1 || !strings.HasPrefix(describeNotification((*sent)[0]), "lvsServiceDown lvsServiceName.2 ") {
		t.Errorf("sent %d notifications, want lvsServiceDown only", len(*sent))
	}
	if got := v.Get(child(child(Root, 11), 0)); got.Uint != 3 {
		t.Errorf("lvsChanges = %d, want 3 (two real servers quiesced, the service down)", got.Uint)
	}
}

// A read cut short by shutdown is no change of IPVS.
func TestNoChangeAtShutdown(t *testing.T) {
	s, _, sent := notifyingSource(t, ipvsevents.AllKinds, fixture(), nil)
	s.Refresh(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v := s.Refresh(ctx)
	if len(*sent) != 0 || v.Get(child(child(Root, 11), 0)).Uint != 0 {
		t.Errorf("a cancelled read gave %d notifications, lvsChanges %d", len(*sent), v.Get(child(child(Root, 11), 0)).Uint)
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
