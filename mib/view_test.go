package mib

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/agentxtest"
	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
)

func sameValue(a, b agentx.VarBind) bool {
	return a.Type == b.Type && a.Int == b.Int && a.Uint == b.Uint && bytes.Equal(a.Bytes, b.Bytes) &&
		a.OID.Compare(b.OID) == 0
}

func fixtureView(t testing.TB) *View {
	t.Helper()
	v := Build(fixture.Snapshot(), fixture.NewNumbers(), fixture.Clock)
	v.SetHealth(Health{Totals: fixture.Totals(), Settings: fixture.Settings(), Conns: fixture.Conns(),
		ConnsReadAt: fixture.ConnsReadAt})
	return v
}

func TestValues(t *testing.T) {
	v := fixtureView(t)
	const big = uint64(1)<<32 + 7
	tests := []struct {
		oid  string
		want agentx.VarBind
	}{
		// Scalars.
		{"1.0", fixture.Str("1.2.1")},
		{"2.0", fixture.Int(6)},
		{"3.0", fixture.Int(4096)},
		{"4.0", fixture.Int(900)},
		{"5.0", fixture.Int(120)},
		{"6.0", fixture.Int(300)},
		{"7.0", fixture.Int(3)},
		{"8.0", fixture.Str("eth0")},
		{"9.0", fixture.Int(1)},
		{"10.0", fixture.TimeTicks(123)},
		{"11.0", fixture.Counter32(0)}, // a view of its own has seen no change
		{"12.0", fixture.TimeTicks(0)},

		// lvsServiceTable, service 2: TCP 10.99.0.1:80.
		{"17.1.1.2", fixture.Int(2)},
		{"17.1.2.2", fixture.Str("rr")},
		{"17.1.3.2", fixture.Int(6)},
		{"17.1.4.2", fixture.IP("10.99.0.1")},
		{"17.1.5.2", fixture.Int(80)},
		{"17.1.6.2", fixture.Int(0)},
		{"17.1.7.2", fixture.Int(300)},
		{"17.1.8.2", fixture.IP("255.255.255.0")},
		{"17.1.9.2", fixture.Int(3)},
		{"17.1.10.2", fixture.Counter32(7)},
		{"17.1.11.2", fixture.Counter32(8)},
		{"17.1.12.2", fixture.Counter32(5)},
		{"17.1.13.2", fixture.Counter64(big * 100)},
		{"17.1.14.2", fixture.Counter64(6)},
		{"17.1.15.2", fixture.Gauge32(11)},
		{"17.1.16.2", fixture.Gauge32(12)},
		{"17.1.17.2", fixture.Gauge32(13)},
		{"17.1.18.2", fixture.Gauge32(1<<32 - 1)},
		{"17.1.19.2", fixture.Gauge32(15)},
		{"17.1.20.2", fixture.Int(1)},
		{"17.1.21.2", fixture.Hex(10, 99, 0, 1)},
		{"17.1.22.2", fixture.Gauge32(24)},
		{"17.1.23.2", fixture.Hex(0xc4)}, // persistent(0), hashed(1), schedFlag3(5)
		{"17.1.24.2", fixture.Str("sip")},
		{"17.1.25.2", fixture.Counter64(big)},
		{"17.1.26.2", fixture.Counter64(big + 1)},
		{"17.1.27.2", fixture.Counter64(5)},
		{"17.1.28.2", fixture.Gauge32(13)},
		{"17.1.29.2", fixture.Gauge32(5)},
		{"17.1.30.2", fixture.Gauge32(5)},
		{"17.1.31.2", fixture.Gauge32(2)},
		{"17.1.32.2", fixture.Counter64(big)},
		{"17.1.33.2", fixture.Counter64(15)},
		{"17.1.34.2", fixture.Str("TCP 10.99.0.1:80")},
		// Service 1: FWM 7 (IPv4).
		{"17.1.2.1", fixture.Str("lc")},
		{"17.1.3.1", fixture.Int(-1)},
		{"17.1.4.1", fixture.IP("0.0.0.0")},
		{"17.1.5.1", fixture.Int(-1)},
		{"17.1.6.1", fixture.Int(7)},
		{"17.1.8.1", fixture.IP("255.255.0.0")},
		{"17.1.20.1", fixture.Int(1)},
		{"17.1.21.1", fixture.Hex()},
		{"17.1.22.1", fixture.Gauge32(16)},
		{"17.1.23.1", fixture.Hex(0)},
		{"17.1.24.1", fixture.Str("")},
		{"17.1.34.1", fixture.Str("FWM 7")},
		// Service 3: UDP 10.99.0.2:53, one-packet scheduling.
		{"17.1.3.3", fixture.Int(17)},
		{"17.1.5.3", fixture.Int(53)},
		{"17.1.22.3", fixture.Gauge32(32)},
		{"17.1.23.3", fixture.Hex(0x38)}, // onePacket(2), schedFlag1(3), schedFlag2(4)
		{"17.1.31.3", fixture.Gauge32(0)},
		{"17.1.34.3", fixture.Str("UDP 10.99.0.2:53")},
		// Service 4: SCTP without real servers, rates beyond 32 bits.
		{"17.1.3.4", fixture.Int(132)},
		{"17.1.9.4", fixture.Int(0)},
		{"17.1.15.4", fixture.Gauge32(1<<32 - 1)},
		{"17.1.18.4", fixture.Gauge32(1<<32 - 1)},
		{"17.1.28.4", fixture.Gauge32(0)},
		{"17.1.32.4", fixture.Counter64(1 << 40)},
		{"17.1.34.4", fixture.Str("SCTP 10.99.0.3:3868")},
		// Service 5: FWM 5 IPv6, persistent with a /64.
		{"17.1.3.5", fixture.Int(-1)},
		{"17.1.4.5", fixture.IP("0.0.0.0")},
		{"17.1.6.5", fixture.Int(5)},
		{"17.1.7.5", fixture.Int(60)},
		{"17.1.8.5", fixture.IP("0.0.0.0")},
		{"17.1.20.5", fixture.Int(2)},
		{"17.1.21.5", fixture.Hex()},
		{"17.1.22.5", fixture.Gauge32(64)},
		{"17.1.23.5", fixture.Hex(0x80)},
		{"17.1.34.5", fixture.Str("FWM 5 IPv6")},
		// Service 6: TCP [fd00::1]:443.
		{"17.1.4.6", fixture.IP("0.0.0.0")},
		{"17.1.5.6", fixture.Int(443)},
		{"17.1.8.6", fixture.IP("0.0.0.0")},
		{"17.1.20.6", fixture.Int(2)},
		{"17.1.21.6", fixture.IPv6("fd00::1")},
		{"17.1.22.6", fixture.Gauge32(128)},
		{"17.1.23.6", fixture.Hex(0x40)},
		{"17.1.34.6", fixture.Str("TCP [fd00::1]:443")},

		// lvsRealTable, service 2 real server 3: 127.0.0.1:8080 masq.
		{"18.1.1.2.3", fixture.Int(2)},
		{"18.1.2.2.3", fixture.Int(3)},
		{"18.1.3.2.3", fixture.IP("127.0.0.1")},
		{"18.1.4.2.3", fixture.Int(8080)},
		{"18.1.5.2.3", fixture.Int(0)},
		{"18.1.6.2.3", fixture.Int(1)},
		{"18.1.7.2.3", fixture.Counter32(7)},
		{"18.1.8.2.3", fixture.Counter32(21)},
		{"18.1.9.2.3", fixture.Counter32(22)},
		{"18.1.10.2.3", fixture.Counter64(23)},
		{"18.1.11.2.3", fixture.Counter64(24)},
		{"18.1.12.2.3", fixture.Gauge32(25)},
		{"18.1.13.2.3", fixture.Gauge32(26)},
		{"18.1.14.2.3", fixture.Gauge32(27)},
		{"18.1.15.2.3", fixture.Gauge32(28)},
		{"18.1.16.2.3", fixture.Gauge32(1<<32 - 1)},
		{"18.1.17.2.3", fixture.Int(1)},
		{"18.1.18.2.3", fixture.Hex(127, 0, 0, 1)},
		{"18.1.19.2.3", fixture.Gauge32(3)},
		{"18.1.20.2.3", fixture.Gauge32(4)},
		{"18.1.21.2.3", fixture.Gauge32(5)},
		{"18.1.22.2.3", fixture.Gauge32(100)},
		{"18.1.23.2.3", fixture.Gauge32(10)},
		{"18.1.24.2.3", fixture.Counter64(big)},
		{"18.1.25.2.3", fixture.Counter64(21)},
		{"18.1.26.2.3", fixture.Counter64(22)},
		{"18.1.27.2.3", fixture.Counter64(28)},
		{"18.1.28.2.3", fixture.Counter64(big)},
		{"18.1.29.2.3", fixture.Int(0)},
		{"18.1.30.2.3", fixture.Gauge32(0)},
		{"18.1.31.2.3", fixture.Str("127.0.0.1:8080")},
		// Service 2 real server 2: GUE tunnel; 1: route with weight 0.
		{"18.1.3.2.2", fixture.IP("10.0.0.3")},
		{"18.1.5.2.2", fixture.Int(2)},
		{"18.1.29.2.2", fixture.Int(2)},
		{"18.1.30.2.2", fixture.Gauge32(6080)},
		{"18.1.31.2.2", fixture.Str("10.0.0.3:80")},
		{"18.1.5.2.1", fixture.Int(3)},
		{"18.1.6.2.1", fixture.Int(0)},
		// Service 1 (FWM 7): GRE tunnel.
		{"18.1.29.1.1", fixture.Int(3)},
		// Service 3: bypass.
		{"18.1.5.3.1", fixture.Int(4)},
		// Service 5 (FWM 5 IPv6): 1 is the IPv4 IPIP tunnel, 2 the IPv6 local node.
		{"18.1.3.5.1", fixture.IP("192.0.2.9")},
		{"18.1.17.5.1", fixture.Int(1)},
		{"18.1.29.5.1", fixture.Int(1)},
		{"18.1.3.5.2", fixture.IP("0.0.0.0")},
		{"18.1.5.5.2", fixture.Int(1)},
		{"18.1.17.5.2", fixture.Int(2)},
		{"18.1.18.5.2", fixture.IPv6("fd00::20")},
		{"18.1.29.5.2", fixture.Int(0)},
		{"18.1.31.5.2", fixture.Str("[fd00::20]:0")},
		// Service 6.
		{"18.1.31.6.1", fixture.Str("[fd00::20]:80")},

		// lvsSyncDaemonTable.
		{"19.1.2.1", fixture.Str("eth0")},
		{"19.1.3.1", fixture.Gauge32(7)},
		{"19.1.4.1", fixture.Gauge32(1460)},
		{"19.1.5.1", fixture.Int(1)},
		{"19.1.6.1", fixture.Hex(224, 0, 0, 81)},
		{"19.1.7.1", fixture.Gauge32(8848)},
		{"19.1.8.1", fixture.Gauge32(2)},
		{"19.1.2.2", fixture.Str("eth1")},
		{"19.1.3.2", fixture.Gauge32(9)},
		{"19.1.5.2", fixture.Int(0)},
		{"19.1.6.2", fixture.Hex()},
		{"19.1.8.2", fixture.Gauge32(1)},

		// lvsRealServerTunnelFlags: GUE with csum and remcsum, GRE with
		// csum, IPIP with none, masq.
		{"18.1.32.2.2", fixture.Hex(0xc0)},
		{"18.1.32.1.1", fixture.Hex(0x80)},
		{"18.1.32.5.1", fixture.Hex(0)},
		{"18.1.32.2.3", fixture.Hex(0)},

		// lvsTotals.
		{"20.1.0", fixture.Counter64(big)},
		{"20.2.0", fixture.Counter64(101)},
		{"20.3.0", fixture.Counter64(102)},
		{"20.4.0", fixture.Counter64(103)},
		{"20.5.0", fixture.Counter64(104)},
		{"20.6.0", fixture.Gauge32(105)},
		{"20.7.0", fixture.Gauge32(106)},
		{"20.8.0", fixture.Gauge32(107)},
		{"20.9.0", fixture.Gauge32(1<<32 - 1)},
		{"20.10.0", fixture.Gauge32(109)},
		{"20.11.0", fixture.Counter64(1 << 40)},
		{"20.12.0", fixture.Counter64(109)},
		// lvsConn: 1.734 s between the table's read and the clock.
		{"21.1.0", fixture.Gauge32(12)},
		{"21.2.0", fixture.Gauge32(2)},
		{"21.3.0", fixture.Gauge32(4)},
		{"21.4.0", fixture.TimeTicks(173)},
		{"21.5.1.1.0.12", fixture.Int(0)}, // fwmark template, ASSURED
		{"21.5.1.3.0.12", fixture.Str("ASSURED")},
		{"21.5.1.4.0.12", fixture.Gauge32(1)},
		{"21.5.1.3.6.1", fixture.Str("NONE")},
		{"21.5.1.4.6.4", fixture.Gauge32(2)}, // SYN_RECV
		{"21.5.1.3.6.6", fixture.Str("TIME_WAIT")},
		{"21.5.1.1.17.13", fixture.Int(17)},
		{"21.5.1.4.17.13", fixture.Gauge32(2)},
		{"21.5.1.4.132.2", fixture.Gauge32(1)},
		// lvsSettingTable.
		{"22.1.2.2", fixture.Str("amemthresh")},
		{"22.1.4.2", fixture.Int(1024)},
		{"22.1.3.8", fixture.Str("2")},
		{"22.1.3.31", fixture.Str("0-1")},
		{"22.1.2.17", fixture.Str("run_estimation")},
		{"22.1.3.28", fixture.Str("4294967296")},
		// lvsDefense, lvsRatesEstimated.
		{"23.1.0", fixture.Int(2)},
		{"23.2.0", fixture.Int(1)},
		{"23.3.0", fixture.Int(0)},
		{"23.4.0", fixture.Int(1024)},
		{"24.0", fixture.Int(1)},
	}
	for _, tt := range tests {
		t.Run(tt.oid, func(t *testing.T) {
			oid := append(append(agentx.OID{}, Root...), agentxtest.OID(tt.oid)...)
			got := v.Get(oid)
			if got.Name.Compare(oid) != 0 || !sameValue(got, tt.want) {
				t.Errorf("Get(%s) = %+v, want %+v", tt.oid, got, tt.want)
			}
		})
	}
}

func TestDaemonStateAndInterface(t *testing.T) {
	tests := []struct {
		name   string
		states []int // roles present, in snapshot order
		state  int32
		iface  string
	}{
		{"none", nil, 0, ""},
		{"master", []int{1}, 1, "m"},
		{"backup", []int{2}, 2, "b"},
		{"both, backup first", []int{2, 1}, 3, "m"},
	}
	for _, tt := range tests {
		snap := fixture.Snapshot()
		snap.Daemons = nil
		for _, s := range tt.states {
			d := fixture.Snapshot().Daemons[2-s] // fixture lists backup, master
			d.Interface = map[int]string{1: "m", 2: "b"}[s]
			snap.Daemons = append(snap.Daemons, d)
		}
		v := Build(snap, fixture.NewNumbers(), fixture.Clock)
		if got := v.Get(child(child(Root, 7), 0)); got.Int != tt.state {
			t.Errorf("%s: lvsDaemonState = %d, want %d", tt.name, got.Int, tt.state)
		}
		if got := v.Get(child(child(Root, 8), 0)); string(got.Bytes) != tt.iface {
			t.Errorf("%s: lvsMcastInt = %q, want %q", tt.name, got.Bytes, tt.iface)
		}
	}
}

func TestUnavailable(t *testing.T) {
	v := Unavailable(fixture.ReadAt, fixture.Clock)
	want := map[uint32]agentx.VarBind{1: fixture.Str(""), 2: fixture.Int(0), 3: fixture.Int(0), 4: fixture.Int(0), 5: fixture.Int(0), 6: fixture.Int(0),
		7: fixture.Int(0), 8: fixture.Str(""), 9: fixture.Int(2), 10: fixture.TimeTicks(123), 11: fixture.Counter32(0), 12: fixture.TimeTicks(0)}
	var walked []agentx.VarBind
	from := Root
	for {
		vb, ok := v.Next(nil, from, false, nil)
		if !ok {
			break
		}
		walked = append(walked, vb)
		from = vb.Name
	}
	if len(walked) != len(want) {
		t.Fatalf("walk of an unavailable view gave %d varbinds, want the %d scalars", len(walked), len(want))
	}
	for _, vb := range walked {
		n := vb.Name[len(Root)]
		if !sameValue(vb, want[n]) {
			t.Errorf("scalar %d = %+v, want %+v", n, vb, want[n])
		}
	}
	if got := v.Get(column(serviceTableArc, 2)); got.Type != agentx.NoSuchInstance {
		t.Errorf("Get of a column in an empty table: %v, want noSuchInstance", got.Type)
	}
}

// TestWalk checks that a walk visits every object for every row, column by
// column, in strictly increasing order, and that Get agrees with Next.
func TestWalk(t *testing.T) {
	v := fixtureView(t)
	var names []agentx.OID
	from := agentx.OID{}
	for {
		vb, ok := v.Next(nil, from, false, nil)
		if !ok {
			break
		}
		if len(names) > 0 && vb.Name.Compare(names[len(names)-1]) <= 0 {
			t.Fatalf("walk not increasing: %v after %v", vb.Name, names[len(names)-1])
		}
		if g := v.Get(vb.Name); !sameValue(g, vb) {
			t.Errorf("Get(%v) = %+v, Next gave %+v", vb.Name, g, vb)
		}
		names = append(names, vb.Name)
		from = vb.Name
	}
	// 12 scalars, 35 columns x 6 services, 33 columns x 8 real servers, 7 x
	// 2 daemons; 12 totals, 4 connection scalars, 3 columns x 7 states, 3
	// columns x 9 settings but for 2 that are no Integer32, 4 defense
	// scalars and lvsRatesEstimated.
	if want := 12 + 35*6 + 33*8 + 7*2 + 12 + 4 + 3*7 + 3*9 - 2 + 4 + 1; len(names) != want {
		t.Errorf("walk gave %d varbinds, want %d", len(names), want)
	}
	// Column-major: the first real-table varbinds are column 1 of each row.
	var firstReal []string
	for _, n := range names {
		if n.HasPrefix(column(realTableArc, 1)) {
			firstReal = append(firstReal, n[len(Root)+3:].String())
		}
	}
	want := []string{".1.1", ".2.1", ".2.2", ".2.3", ".3.1", ".5.1", ".5.2", ".6.1"}
	if len(firstReal) != len(want) {
		t.Fatalf("real rows %v", firstReal)
	}
	for i := range want {
		if firstReal[i] != want[i] {
			t.Errorf("real row %d = %s, want %s", i, firstReal[i], want[i])
		}
	}
}

func TestGetNextEdges(t *testing.T) {
	v := fixtureView(t)
	o := func(s string) agentx.OID {
		if s == "" {
			return agentx.OID{}
		}
		return agentxtest.OID(s)
	}
	lvs := Root.String()
	gets := []struct {
		oid  string
		want agentx.Type
	}{
		{lvs + ".1.0", agentx.OctetString},
		{lvs + ".1", agentx.NoSuchInstance},     // object without instance
		{lvs + ".1.0.0", agentx.NoSuchInstance}, // longer than the instance
		{lvs + ".1.1", agentx.NoSuchInstance},   // wrong instance
		{lvs + ".12.0", agentx.TimeTicks},
		{lvs + ".13.0", agentx.NoSuchObject},      // accessible-for-notify: not served
		{lvs, agentx.NoSuchObject},                // the module itself
		{lvs + ".17.1", agentx.NoSuchObject},      // the entry
		{lvs + ".17.1.35.1", agentx.Integer},      // lvsServiceAdminState
		{lvs + ".17.1.36.1", agentx.NoSuchObject}, // no such column
		{lvs + ".17.1.2", agentx.NoSuchInstance},  // column without index
		{lvs + ".17.1.2.7", agentx.NoSuchInstance},
		{lvs + ".17.1.2.2.1", agentx.NoSuchInstance},
		{lvs + ".18.1.3.2", agentx.NoSuchInstance}, // shorter than an instance
		{lvs + ".18.1.3.2.3", agentx.IPAddress},
		{lvs + ".19.1.2.3", agentx.NoSuchInstance},
		{lvs + ".19.1.1.1", agentx.NoSuchObject},    // the not-accessible index
		{lvs + ".22.1.4.31", agentx.NoSuchInstance}, // est_cpulist is not a number
		{lvs + ".22.1.4.28", agentx.NoSuchInstance}, // 2^32 is no Integer32
		{lvs + ".22.1.4.99", agentx.NoSuchInstance},
		{lvs + ".22.1.5.8", agentx.NoSuchObject}, // notify-only
		{lvs + ".21.5.1.2.6.1", agentx.NoSuchObject},
		{"1.3.6.1.2.1.1.1.0", agentx.NoSuchObject},
		{"", agentx.NoSuchObject},
	}
	for _, tt := range gets {
		if got := v.Get(o(tt.oid)); got.Type != tt.want || got.Name.Compare(o(tt.oid)) != 0 {
			t.Errorf("Get(%s) = %v %v, want %v", tt.oid, got.Name, got.Type, tt.want)
		}
	}

	hashed := strconv.FormatUint(uint64(nameIndex(settingNames, "future_knob")), 10)
	nexts := []struct {
		from    string
		include bool
		to      string
		want    string // "" for none
	}{
		{"", false, "", lvs + ".1.0"},
		{"1.3.6", false, "", lvs + ".1.0"},
		{lvs, false, "", lvs + ".1.0"},
		{lvs + ".1.0", false, "", lvs + ".2.0"},
		{lvs + ".1.0", true, "", lvs + ".1.0"},
		{lvs + ".1", true, "", lvs + ".1.0"},
		{lvs + ".1.0.5", true, "", lvs + ".2.0"},
		{lvs + ".10.0", false, "", lvs + ".11.0"},
		{lvs + ".12.0", false, "", lvs + ".17.1.1.1"},
		{lvs + ".13", false, "", lvs + ".17.1.1.1"},
		{lvs + ".17", false, "", lvs + ".17.1.1.1"},
		{lvs + ".17.1.1.6", false, "", lvs + ".17.1.2.1"},  // end of a column
		{lvs + ".17.1.1.99", false, "", lvs + ".17.1.2.1"}, // past the rows
		{lvs + ".17.1.2.3.5", false, "", lvs + ".17.1.2.4"},
		{lvs + ".17.1.2.3", true, "", lvs + ".17.1.2.3"},
		{lvs + ".17.1.34.6", false, "", lvs + ".17.1.35.1"},
		{lvs + ".17.1.35.6", false, "", lvs + ".18.1.1.1.1"},
		{lvs + ".18.1.4.2", false, "", lvs + ".18.1.4.2.1"}, // shorter than an instance
		{lvs + ".18.1.4.2", true, "", lvs + ".18.1.4.2.1"},
		{lvs + ".18.1.4.2.3", false, "", lvs + ".18.1.4.3.1"},
		{lvs + ".18.1.4.4", false, "", lvs + ".18.1.4.5.1"}, // a service without real servers
		{lvs + ".18.1.31.6.1", false, "", lvs + ".18.1.32.1.1"},
		{lvs + ".18.1.32.6.1", false, "", lvs + ".18.1.33.1.1"},
		{lvs + ".18.1.33.6.1", false, "", lvs + ".19.1.2.1"},
		{lvs + ".19.1.8.2", false, "", lvs + ".20.1.0"},
		{lvs + ".19.1.8.2", true, "", lvs + ".19.1.8.2"},
		{lvs + ".20", false, "", lvs + ".20.1.0"},
		{lvs + ".21.4.0", false, "", lvs + ".21.5.1.1.0.12"},
		{lvs + ".21.5.1.1.6", false, "", lvs + ".21.5.1.1.6.1"},
		{lvs + ".21.5.1.4.132.2", false, "", lvs + ".22.1.2.2"},
		{lvs + ".22.1.4.28", false, "", lvs + ".22.1.4." + hashed}, // est_cpulist and sync_sock_size lack one
		{lvs + ".22.1.4.10", false, "", lvs + ".22.1.4.17"},        // est_cpulist (31) is not a number
		{lvs + ".22.1.4." + hashed, false, "", lvs + ".23.1.0"},    // future_knob is the last row
		{lvs + ".22.1.5", false, "", lvs + ".23.1.0"},              // notify-only
		{lvs + ".24.0", false, "", ""},
		{lvs + ".24.0", true, "", lvs + ".24.0"},
		{lvs + ".25", false, "", ""},
		{"2", false, "", ""},
		// End bounds are exclusive.
		{lvs + ".1.0", false, lvs + ".2.0", ""},
		{lvs + ".1.0", false, lvs + ".2.0.1", lvs + ".2.0"},
		{lvs + ".12.0", false, lvs + ".17.1.1.1", ""},
		{lvs + ".12.0", false, lvs + ".17.1.1.2", lvs + ".17.1.1.1"},
		{lvs + ".12.0", false, lvs + ".17", ""},
		{"", false, "1.3.6", ""},
	}
	for _, tt := range nexts {
		got, ok := v.Next(nil, o(tt.from), tt.include, o(tt.to))
		switch {
		case tt.want == "" && ok:
			t.Errorf("Next(%s, %v, %s) = %v, want none", tt.from, tt.include, tt.to, got.Name)
		case tt.want != "" && (!ok || got.Name.Compare(o(tt.want)) != 0):
			t.Errorf("Next(%s, %v, %s) = %v %v, want %s", tt.from, tt.include, tt.to, got.Name, ok, tt.want)
		}
	}
}

// TestNextBuildsNameInDst walks the fixture building each name in the
// storage of the one before last, as the agent's reused responses do: the
// walk must match one with fresh names, and a numeric column's walk must
// allocate nothing (string and address values still do).
func TestNextBuildsNameInDst(t *testing.T) {
	v := fixtureView(t)
	var want []agentx.OID
	for from := (agentx.OID{}); ; {
		vb, ok := v.Next(nil, from, false, nil)
		if !ok {
			break
		}
		want = append(want, vb.Name)
		from = vb.Name
	}
	bufs := [2]agentx.OID{make(agentx.OID, 0, agentx.MaxSubIDs), make(agentx.OID, 0, agentx.MaxSubIDs)}
	walk := func(from, to agentx.OID) (n int) {
		for ; ; n++ {
			vb, ok := v.Next(bufs[n%2], from, false, to)
			if !ok {
				return n
			}
			if len(to) == 0 && (n >= len(want) || vb.Name.Compare(want[n]) != 0) || &vb.Name[0] != &bufs[n%2][:1][0] {
				t.Fatalf("varbind %d: %v, not %v built in dst", n, vb.Name, want[min(n, len(want)-1)])
			}
			from = vb.Name
		}
	}
	if n := walk(agentx.OID{}, nil); n != len(want) {
		t.Errorf("walk with reused names: %d varbinds, want %d", n, len(want))
	}
	var n int
	conns := column(realTableArc, 7) // lvsRealStatsConns
	end := child(conns, 1<<31)
	if allocs := testing.AllocsPerRun(10, func() { n = walk(conns, end) }); n == 0 || allocs != 0 {
		t.Errorf("walk of a Counter32 column: %d varbinds, %v allocations, want some and 0", n, allocs)
	}
}
