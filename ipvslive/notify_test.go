package ipvslive

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/agentxtest"
	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
	"github.com/lvs-agentx/lvs-agentx/ipvsevents"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// listReader hands out its snapshots in turn, then the last one again,
// stamped with the clock's time when it has one; a nil one is a failed
// read.
type listReader struct {
	mu    sync.Mutex
	clock *fakeClock
	snaps []*ipvsstats.Snapshot
}

func (r *listReader) Read(context.Context) (*ipvsstats.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.snaps[0]
	if len(r.snaps) > 1 {
		r.snaps = r.snaps[1:]
	}
	if s == nil {
		return nil, errors.New("IPVS is not loaded")
	}
	if r.clock != nil {
		s.ReadAt = r.clock.Now()
	}
	return s, nil
}

type sentNotification struct {
	trap agentx.OID
	vbs  []agentx.VarBind
}

// name is the notification's name and its varbinds' objects with their
// instances: "lvsServiceDown lvsServiceName.2 ...".
func (n sentNotification) name() string {
	o, _, _ := mib.Describe(n.trap)
	parts := []string{o.Name}
	for _, vb := range n.vbs {
		o, inst, _ := mib.Describe(vb.Name)
		parts = append(parts, o.Name+inst.String())
	}
	return strings.Join(parts, " ")
}

// notifyingSource returns a Source reading snaps in turn that records the
// notifications of kinds.
func notifyingSource(t *testing.T, kinds ipvsevents.Kinds, snaps ...*ipvsstats.Snapshot) (*Source, *fakeClock, *[]sentNotification) {
	t.Helper()
	clock := &fakeClock{t: fixture.ReadAt}
	var sent []sentNotification
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := New(ctx, Config{Reader: &listReader{clock: clock, snaps: snaps}, Indexes: NewIndexes(),
		Logger: slog.New(&logRecorder{}), Now: clock.Now, AfterFunc: clock.AfterFunc, SysUpTimeAt: fixture.SysUpTimeAt,
		NotifyKinds: kinds,
		Notify: func(trap agentx.OID, vbs []agentx.VarBind) {
			sent = append(sent, sentNotification{trap, vbs})
		}})
	return s, clock, &sent
}

// withDests returns the fixture with n more real servers in FWM 7.
func withDests(n int) *ipvsstats.Snapshot {
	s := fixture.Snapshot()
	for i := range s.Services {
		if svc := &s.Services[i]; svc.Label() == "FWM 7" {
			for i := range n {
				d := svc.Dests[0]
				d.Addr = netip.AddrFrom4([4]byte{10, 7, byte(i / 250), byte(i%250 + 1)})
				svc.Dests = append(svc.Dests, d)
			}
		}
	}
	return s
}

// 2,000 changes in one read: all are notified (the agent's Notifier
// bounds them), lvsChanges counts them, lvsLastChange is the master's
// sysUpTime at that read, and the storm summary carries both.
func TestChangesCounted(t *testing.T) {
	after := withDests(2000)
	s, clock, sent := notifyingSource(t, ipvsevents.AllKinds, fixture.Snapshot(), after, after)
	for range 3 {
		clock.Add(time.Second)
		s.Refresh(context.Background())
	}
	if len(*sent) != 2000 {
		t.Fatalf("%d notifications, want 2000", len(*sent))
	}
	v := s.Current()
	changes, last := v.Get(lvs(11, 0)), v.Get(lvs(12, 0))
	if changes.Type != agentx.Counter32 || changes.Uint != 2000 {
		t.Errorf("lvsChanges = %v %d, want Counter32 2000", changes.Type, changes.Uint)
	}
	// The change was found by the second read, 2 s after the fixture's time.
	if last.Type != agentx.TimeTicks || last.Uint != 1200 {
		t.Errorf("lvsLastChange = %v %d, want TimeTicks 1200", last.Type, last.Uint)
	}
	trap, vbs := s.StormNotification(1980)
	if n := (sentNotification{trap, vbs}); n.name() != "lvsNotificationStorm lvsNotificationsLeftOut.0 lvsChanges.0 lvsLastChange.0" ||
		vbs[0].Uint != 1980 || vbs[1].Uint != 2000 || vbs[2].Uint != 1200 {
		t.Errorf("storm %s = %d, %d, %d; want 1980, 2000, 1200", n.name(), vbs[0].Uint, vbs[1].Uint, vbs[2].Uint)
	}
}

// Only the chosen kinds are notified; every change is counted.
func TestNotifyKinds(t *testing.T) {
	kinds, err := ipvsevents.ParseKinds("availability")
	if err != nil {
		t.Fatal(err)
	}
	down := fixture.Snapshot()
	for i := range down.Services {
		if svc := &down.Services[i]; svc.Label() == "TCP 10.99.0.1:80" {
			for j := range svc.Dests {
				svc.Dests[j].Weight = 0
			}
		}
	}
	s, _, sent := notifyingSource(t, kinds, fixture.Snapshot(), down)
	s.Refresh(context.Background())
	v := s.Refresh(context.Background())
	if len(*sent) != 1 || !strings.HasPrefix((*sent)[0].name(), "lvsServiceDown lvsServiceName.2 ") {
		t.Errorf("sent %d notifications, want lvsServiceDown only", len(*sent))
	}
	if got := v.Get(lvs(11, 0)); got.Uint != 3 {
		t.Errorf("lvsChanges = %d, want 3 (two real servers quiesced, the service down)", got.Uint)
	}
}

// A read cut short by shutdown is no change of IPVS.
func TestNoChangeAtShutdown(t *testing.T) {
	s, _, sent := notifyingSource(t, ipvsevents.AllKinds, fixture.Snapshot(), nil)
	s.Refresh(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v := s.Refresh(ctx)
	if len(*sent) != 0 || v.Get(lvs(11, 0)).Uint != 0 {
		t.Errorf("a cancelled read gave %d notifications, lvsChanges %d", len(*sent), v.Get(lvs(11, 0)).Uint)
	}
}

// The pipeline as lvs-agentx run wires it, through a session: 2,000 real
// servers added between two reads are 2,000 changes (lvsChanges), 20
// lvsRealServerAdded notifications and one lvsNotificationStorm counting
// the other 1,980.
func TestStormThroughTheAgent(t *testing.T) {
	svc := ipvsstats.Service{ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4, Protocol: ipvsstats.ProtoTCP,
		Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}, Scheduler: "rr"}
	dest := func(i int) ipvsstats.Dest {
		return ipvsstats.Dest{DestKey: ipvsstats.DestKey{Addr: netip.AddrFrom4([4]byte{10, 1, byte(i / 250), byte(i%250 + 1)}),
			Port: 8080}, Family: ipvsstats.FamilyIPv4, Weight: 1}
	}
	before, after := svc, svc
	before.Dests = []ipvsstats.Dest{dest(0)}
	for i := range 2001 {
		after.Dests = append(after.Dests, dest(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()

	f := agentxtest.NewMaster(t)
	uptime := agent.NewUptime()
	window := 300 * time.Millisecond
	notifier := agent.NewNotifier(agent.NotifierConfig{Max: 20, Window: window})
	src := New(ctx, Config{Reader: &listReader{snaps: []*ipvsstats.Snapshot{
		{Services: []ipvsstats.Service{before}, ReadAt: time.Now()},
		{Services: []ipvsstats.Service{after}, ReadAt: time.Now()}}},
		Indexes: NewIndexes(), SysUpTimeAt: uptime.At, Notify: notifier.Enqueue, NotifyKinds: ipvsevents.AllKinds,
		Logger: slog.New(slog.DiscardHandler)})
	// Notifications sent before the session is the agent's are not
	// delivered (counted in the summary): the notifier starts after it is.
	registered := make(chan struct{}, 1)
	a, err := agent.New(agent.Config{Address: f.Addr, Subtree: mib.Root, Source: src, PingInterval: -1,
		Timeout: time.Second, Uptime: uptime, OnState: func(s agent.State, _ error) {
			if s == agent.StateRegistered {
				select {
				case registered <- struct{}{}:
				default:
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { a.Run(ctx) })
	c := f.Accept(t, 1, mib.Root, agent.DefaultPriority, 0)
	select {
	case <-registered:
	case <-time.After(10 * time.Second):
		t.Fatal("the agent never reported its session registered")
	}
	src.Refresh(ctx)
	src.Refresh(ctx)
	wg.Go(func() { notifier.Run(ctx, a, src.StormNotification) })

	root := mib.Root.String()
	for i := range 21 {
		p := c.Read()
		n, ok := p.PDU.(*agentx.Notify)
		if !ok {
			t.Fatalf("PDU %d: %s, want Notify", i, p.PDU.Type())
		}
		trap := n.VarBinds[1].OID.String()
		switch {
		case i < 20 && (trap != root+".0.7" || len(n.VarBinds) != 2+6 ||
			n.VarBinds[2].Name.String() != root+".17.1.34.1" || string(n.VarBinds[2].Bytes) != "TCP 10.0.0.1:80"):
			t.Fatalf("notification %d: %s %v, want lvsRealServerAdded of TCP 10.0.0.1:80", i, trap, n.VarBinds[2:])
		case i == 20:
			if trap != root+".0.15" || len(n.VarBinds) != 5 {
				t.Fatalf("after the window: %s with %d varbinds, want lvsNotificationStorm", trap, len(n.VarBinds))
			}
			left, changes := n.VarBinds[2], n.VarBinds[3]
			if left.Name.String() != root+".13.0" || left.Uint != 1980 || changes.Name.String() != root+".11.0" || changes.Uint != 2000 {
				t.Errorf("storm %v = %d, %v = %d; want lvsNotificationsLeftOut.0 1980, lvsChanges.0 2000",
					left.Name, left.Uint, changes.Name, changes.Uint)
			}
		}
		c.Respond(p, agentx.NoError)
	}
	res := c.RoundTrip(agentxtest.Get(lvs(11, 0)), false)
	if len(res.VarBinds) != 1 || res.VarBinds[0].Type != agentx.Counter32 || res.VarBinds[0].Uint != 2000 {
		t.Errorf("get lvsChanges.0: %+v, want Counter32 2000", res.VarBinds)
	}
}
