package main

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/metrics"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

func checkSnapshot() *ipvsstats.Snapshot {
	a := netip.MustParseAddr
	return &ipvsstats.Snapshot{
		Info:    ipvsstats.Info{VersionCode: 0x010201},
		Daemons: []ipvsstats.Daemon{{State: ipvsstats.DaemonMaster, Interface: "eth0"}},
		Services: []ipvsstats.Service{
			{ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4, Protocol: ipvsstats.ProtoTCP, Addr: a("10.0.0.1"), Port: 80},
				Scheduler: "rr", Dests: []ipvsstats.Dest{
					{DestKey: ipvsstats.DestKey{Addr: a("10.0.1.1"), Port: 80}, Family: ipvsstats.FamilyIPv4, Weight: 1},
					{DestKey: ipvsstats.DestKey{Addr: a("10.0.1.2"), Port: 80}, Family: ipvsstats.FamilyIPv4, Weight: 2},
				}},
			{ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv6, FWMark: 5}, Scheduler: "wlc"},
		},
	}
}

// TestKeyedByName: values are keyed by object and row name, not by row
// number, and the index columns are left out.
func TestKeyedByName(t *testing.T) {
	snap := checkSnapshot()
	a := keyedView(mib.Build(snap, ipvslive.NewIndexes(), time.Now))
	// Another numbering: the services in the other order, after others.
	idx := ipvslive.NewIndexes()
	other := checkSnapshot()
	other.Services = append([]ipvsstats.Service{{ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4, FWMark: 1}}}, other.Services...)
	mib.Build(other, idx, time.Now)
	slices.Reverse(snap.Services)
	b := keyedView(mib.Build(snap, idx, time.Now))

	keys := func(m map[string]cell) []string {
		var k []string
		for key := range m {
			if !strings.HasPrefix(key, "lvsDataAge") {
				k = append(k, key)
			}
		}
		slices.Sort(k)
		return k
	}
	if d := cmp.Diff(keys(a), keys(b)); d != "" {
		t.Errorf("keys depend on the numbering (-first +second):\n%s", d)
	}
	for _, want := range []string{"lvsVersion", "lvsServiceSchedType[TCP 10.0.0.1:80]", "lvsServiceSchedType[FWM 5 IPv6]",
		"lvsRealServerWeight[TCP 10.0.0.1:80 -> 10.0.1.2:80]", "lvsSyncDaemonInterface.1"} {
		if _, ok := a[want]; !ok {
			t.Errorf("no key %s in %v", want, keys(a))
		}
	}
	for key := range a {
		if strings.Contains(key, "Number") {
			t.Errorf("index column kept: %s", key)
		}
	}
}

func TestCompareValue(t *testing.T) {
	obj := func(name string) mib.Object {
		for _, o := range mib.Objects() {
			if o.Name == name {
				return o
			}
		}
		t.Fatalf("no object %s", name)
		return mib.Object{}
	}
	c32 := func(n uint64) agentx.VarBind { return agentx.VarBind{Type: agentx.Counter32, Uint: n} }
	c64 := func(n uint64) agentx.VarBind { return agentx.VarBind{Type: agentx.Counter64, Uint: n} }
	g32 := func(n uint64) agentx.VarBind { return agentx.VarBind{Type: agentx.Gauge32, Uint: n} }
	ticks := func(n uint64) agentx.VarBind { return agentx.VarBind{Type: agentx.TimeTicks, Uint: n} }
	str := func(s string) agentx.VarBind { return agentx.VarBind{Type: agentx.OctetString, Bytes: []byte(s)} }
	tests := []struct {
		name      string
		object    string
		want, got agentx.VarBind
		problem   string // "" for none
	}{
		{"counter equal", "lvsServiceStatsConns", c32(5), c32(5), ""},
		{"counter lags", "lvsServiceStatsConnsHC", c64(9), c64(5), ""},
		{"counter ahead", "lvsServiceStatsConnsHC", c64(5), c64(9), "counter 9 is ahead of the kernel's 5"},
		{"counter32 lags across a wrap", "lvsRealStatsInPkts", c32(3), c32(1<<32 - 2), ""},
		{"counter32 ahead across a wrap", "lvsRealStatsInPkts", c32(1<<32 - 2), c32(3), "is ahead"},
		{"counter of another type", "lvsRealStatsInPkts", c32(3), c64(3), "type"},
		{"rate moves", "lvsServiceRateCps", g32(10), g32(300), ""},
		{"connections move", "lvsRealActiveConns", g32(1), g32(7), ""},
		{"gauge of another type", "lvsRealInactiveConns", g32(1), c32(1), "type"},
		{"changes the agent has seen", "lvsChanges", c32(0), c32(57), ""},
		{"the agent's last change", "lvsLastChange", ticks(0), ticks(4711), ""},
		{"the agent's last change of another type", "lvsLastChange", ticks(0), c32(4711), "type"},
		{"the agent's data age", "lvsDataAge", ticks(0), ticks(30), ""},
		{"setting equal", "lvsServiceSchedType", str("rr"), str("rr"), ""},
		{"setting differs", "lvsServiceSchedType", str("rr"), str("wlc"), `snmpd serves .1.3 = STRING: "wlc", IPVS has .1.3 = STRING: "rr"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Name, tt.got.Name = agentx.OID{1, 3}, agentx.OID{1, 3}
			got := compareValue(cell{obj(tt.object), tt.want}, cell{obj(tt.object), tt.got})
			if (tt.problem == "") != (got == "") || !strings.Contains(got, tt.problem) {
				t.Errorf("compareValue = %q, want %q", got, tt.problem)
			}
		})
	}
}

// TestCompareSeries: a scrape that matches IPVS has no finding; each kind
// of difference gives one, and what may move between two reads gives none.
func TestCompareSeries(t *testing.T) {
	view := func(mutate func(*ipvsstats.Snapshot)) series {
		snap := checkSnapshot()
		mutate(snap)
		var b strings.Builder
		if err := metrics.WriteText(&b, "lb", mib.Build(snap, ipvslive.NewIndexes(), time.Now), metrics.RealServersFull); err != nil {
			t.Fatal(err)
		}
		s, err := parseSeries([]byte(b.String()), "lb")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	same := func(*ipvsstats.Snapshot) {}
	want := view(same)
	if servedRealServers(want) != metrics.RealServersFull {
		t.Errorf("mode %v, want full", servedRealServers(want))
	}
	rs := `lvs_real_server_weight{address="10.0.0.1",port="80",protocol="tcp",real_address="10.0.1.2",real_port="80",real_server="10.0.1.2:80",service="TCP 10.0.0.1:80"}`
	if _, ok := want[rs]; !ok {
		t.Fatalf("no %s in %v", rs, want)
	}
	tests := []struct {
		name   string
		mutate func(*ipvsstats.Snapshot) // the scrape's IPVS, against want's
		find   string                    // in the one finding; "" for none
	}{
		{"equal", same, ""},
		{"counter behind", func(s *ipvsstats.Snapshot) { s.Services[0].Stats.Conns = 0 }, ""},
		{"gauge moved", func(s *ipvsstats.Snapshot) { s.Services[0].Dests[0].ActiveConns = 9 }, ""},
		{"counter ahead", func(s *ipvsstats.Snapshot) { s.Services[0].Stats.Conns = 5 }, "lvs_service_connections_total{address=\"10.0.0.1\",port=\"80\",protocol=\"tcp\",service=\"TCP 10.0.0.1:80\"}: counter 5 is ahead of the kernel's 0"},
		{"weight differs", func(s *ipvsstats.Snapshot) { s.Services[0].Dests[1].Weight = 7 }, rs + ": the scrape has 7, IPVS has 2"},
		{"scheduler differs", func(s *ipvsstats.Snapshot) { s.Services[0].Scheduler = "wrr" }, "scheduler=\"wrr\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			problems := compareSeries(want, view(tc.mutate))
			if tc.find == "" {
				if len(problems) > 0 {
					t.Errorf("findings %q", problems)
				}
				return
			}
			var hit bool
			for _, p := range problems {
				hit = hit || strings.Contains(p, tc.find)
			}
			if !hit {
				t.Errorf("findings %q lack %q", problems, tc.find)
			}
		})
	}
	// A real server missing from the scrape, one IPVS lacks.
	got := view(same)
	delete(got, rs)
	got[`lvs_real_server_weight{real_server="x"}`] = 1
	problems := compareSeries(want, got)
	if len(problems) != 2 || !strings.Contains(strings.Join(problems, "\n"), "missing from the scrape") ||
		!strings.Contains(strings.Join(problems, "\n"), "scraped (1) but not in IPVS") {
		t.Errorf("findings %q", problems)
	}
}
