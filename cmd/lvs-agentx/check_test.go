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
