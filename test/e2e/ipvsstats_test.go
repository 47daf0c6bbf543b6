package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/ipvs"

	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/test/internal/mobyview"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

const ipvsdumpPkg = "github.com/lvs-agentx/lvs-agentx/test/cmd/ipvsdump"

// scenarioSetup builds a table with every kind of row: TCP, UDP and SCTP; IPv4 and
// IPv6; fwmark services of both families; persistence with a netmask;
// schedulers rr, wrr, wlc, sh (with flags) and mh; masq, route, tunnel
// (ipip, gue, gre) and local real servers; weight 0; thresholds; both
// sync daemons; custom timeouts; and two services carrying traffic.
var scenarioSetup = scriptOf("table.sh")

// trafficThenFreeze sends requests through the scenario's two web services,
// stops the estimator once their counters are folded in, and saves the
// listings every comparison needs.
const trafficThenFreeze = `
for i in 1 2 3 4 5 6; do curl -sf -o /dev/null http://10.99.0.1/; done
for i in 1 2 3 4; do curl -sf -o /dev/null http://10.99.0.2:8083/; done
# Totals and rates move on the estimator's 2 s tick: let one pass, then
# stop it so every reader below sees the same values.
sleep 3
sysctl -qw net.ipv4.vs.run_estimation=0
sleep 1
ipvsadm -Ln > ln.txt
ipvsadm -Ln --stats --exact > stats.txt
ipvsadm -Ln --rate --exact > rate.txt
ipvsadm -Ln --timeout > timeout.txt
`

// TestIPVSStatsMatchesIpvsadm reads the scenario's table with ipvsstats,
// ipvsadm and moby/ipvs in one scenario and compares them field by field. The
// estimator is stopped after the traffic so that counters and rates hold
// still while the three read them.
func TestIPVSStatsMatchesIpvsadm(t *testing.T) {
	t.Parallel()
	r := testbed.MustRun(t, testbed.Scenario{
		Modules: []string{"ip_vs_sh", "ip_vs_mh"},
		Binaries: map[string]string{
			"ipvsdump":   ipvsdumpPkg,
			"ipvsrecord": "github.com/lvs-agentx/lvs-agentx/test/cmd/ipvsrecord",
		},
		Script: scenarioSetup + trafficThenFreeze + `
ipvsadm -Ln --thresholds > thresholds.txt
ipvsadm -Ln --persistent-conn > persist.txt
ipvsadm -Ln --tun-info > tun.txt
ipvsadm -Ln --daemon > daemon.txt
ipvsdump > snap.json
ipvsdump -moby > moby.json
ipvsdump -table > table.txt
ipvsrecord fixtures
`})
	snap := decodeSnapshot(t, r.File(t, "snap.json"))
	t.Logf("ipvsstats table:\n%s", r.File(t, "table.txt"))

	if got := len(snap.Services); got != 9 {
		t.Fatalf("snapshot has %d services, want the scenario's 9", got)
	}
	compareIpvsadm(t, r, snap)
	compareMoby(t, r.File(t, "moby.json"), snap)

	// Traffic went through the two web services: their counters moved.
	for _, label := range []string{"TCP 10.99.0.1:80", "TCP 10.99.0.2:8083"} {
		svc := findService(snap, label)
		if svc == nil || svc.Stats.Conns == 0 || svc.Stats.InBytes == 0 || svc.Stats.OutPkts == 0 {
			t.Errorf("%s: counters did not move: %+v", label, svc)
		}
	}
	if os.Getenv("LVS_RECORD_FIXTURES") != "" {
		saveFixtures(t, r)
	}
}

func decodeSnapshot(t *testing.T, b []byte) *ipvsstats.Snapshot {
	t.Helper()
	var s ipvsstats.Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("decode snapshot JSON: %v\n%s", err, b)
	}
	return &s
}

func findService(s *ipvsstats.Snapshot, label string) *ipvsstats.Service {
	for i := range s.Services {
		if s.Services[i].Label() == label {
			return &s.Services[i]
		}
	}
	return nil
}

// ipvsadmRows parses an `ipvsadm -Ln` style listing into the fields after
// each service's label (key "TCP 10.0.0.1:80") and each real server's
// address (key "TCP 10.0.0.1:80 -> 10.0.0.2:80").
func ipvsadmRows(t *testing.T, text string) map[string][]string {
	t.Helper()
	rows := map[string][]string{}
	var svc string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0, strings.HasPrefix(line, "IP Virtual Server"), f[0] == "Prot",
			len(f) > 1 && f[1] == "RemoteAddress:Port":
			continue
		case f[0] == "->":
			rows[svc+" -> "+f[1]] = f[2:]
		case f[0] == "FWM" && len(f) > 2 && f[2] == "IPv6":
			svc = strings.Join(f[:3], " ")
			rows[svc] = f[3:]
		case len(f) >= 2:
			svc = f[0] + " " + f[1]
			rows[svc] = f[2:]
		default:
			t.Fatalf("unexpected ipvsadm line %q", line)
		}
	}
	return rows
}

func u(v uint64) string   { return strconv.FormatUint(v, 10) }
func u32(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// compareIpvsadm checks every ipvsadm listing against the snapshot, in
// both directions: each snapshot row has its ipvsadm row and the counts
// agree.
func compareIpvsadm(t *testing.T, r *testbed.Result, s *ipvsstats.Snapshot) {
	t.Helper()
	type want func(svc *ipvsstats.Service, d *ipvsstats.Dest) []string
	stats := func(st ipvsstats.Stats) []string {
		return []string{u(st.Conns), u(st.InPkts), u(st.OutPkts), u(st.InBytes), u(st.OutBytes)}
	}
	rates := func(st ipvsstats.Stats) []string {
		return []string{u(st.CPS), u(st.InPPS), u(st.OutPPS), u(st.InBPS), u(st.OutBPS)}
	}
	listings := []struct {
		file      string
		svc, dest want
	}{
		{"ln.txt",
			func(svc *ipvsstats.Service, _ *ipvsstats.Dest) []string { return ipvsadmServiceFields(svc) },
			func(_ *ipvsstats.Service, d *ipvsstats.Dest) []string {
				return []string{d.FwdMethod.String(), strconv.Itoa(int(d.Weight)), u32(d.ActiveConns), u32(d.InactiveConns)}
			}},
		{"stats.txt",
			func(svc *ipvsstats.Service, _ *ipvsstats.Dest) []string { return stats(svc.Stats) },
			func(_ *ipvsstats.Service, d *ipvsstats.Dest) []string { return stats(d.Stats) }},
		{"rate.txt",
			func(svc *ipvsstats.Service, _ *ipvsstats.Dest) []string { return rates(svc.Stats) },
			func(_ *ipvsstats.Service, d *ipvsstats.Dest) []string { return rates(d.Stats) }},
		{"thresholds.txt",
			func(svc *ipvsstats.Service, _ *ipvsstats.Dest) []string { return ipvsadmServiceFields(svc) },
			func(_ *ipvsstats.Service, d *ipvsstats.Dest) []string {
				return []string{u32(d.UpperThreshold), u32(d.LowerThreshold), u32(d.ActiveConns), u32(d.InactiveConns)}
			}},
		{"persist.txt",
			func(svc *ipvsstats.Service, _ *ipvsstats.Dest) []string { return ipvsadmServiceFields(svc) },
			func(_ *ipvsstats.Service, d *ipvsstats.Dest) []string {
				return []string{strconv.Itoa(int(d.Weight)), u32(d.PersistConns), u32(d.ActiveConns), u32(d.InactiveConns)}
			}},
		{"tun.txt",
			func(svc *ipvsstats.Service, _ *ipvsstats.Dest) []string { return ipvsadmServiceFields(svc) },
			func(_ *ipvsstats.Service, d *ipvsstats.Dest) []string {
				return []string{d.FwdMethod.String(), tunInfo(d), strconv.Itoa(int(d.Weight)), u32(d.ActiveConns), u32(d.InactiveConns)}
			}},
	}
	for _, l := range listings {
		rows := ipvsadmRows(t, string(r.File(t, l.file)))
		n := 0
		for i := range s.Services {
			svc := &s.Services[i]
			n++
			check(t, l.file, svc.Label(), rows[svc.Label()], l.svc(svc, nil))
			for j := range svc.Dests {
				d := &svc.Dests[j]
				key := svc.Label() + " -> " + d.Label()
				n++
				check(t, l.file, key, rows[key], l.dest(svc, d))
			}
		}
		if n != len(rows) {
			t.Errorf("%s: ipvsadm lists %d rows, the snapshot %d", l.file, len(rows), n)
		}
	}

	head := fmt.Sprintf("IP Virtual Server version %s (size=%d)", s.Info.Version(), s.Info.ConnTableSize)
	if first := strings.SplitN(string(r.File(t, "ln.txt")), "\n", 2)[0]; first != head {
		t.Errorf("info: ipvsadm %q, snapshot %q", first, head)
	}
	to := fmt.Sprintf("Timeout (tcp tcpfin udp): %d %d %d", s.Timeouts.TCP, s.Timeouts.TCPFin, s.Timeouts.UDP)
	if got := strings.TrimSpace(string(r.File(t, "timeout.txt"))); got != to {
		t.Errorf("timeouts: ipvsadm %q, snapshot %q", got, to)
	}
	var daemons []string
	for _, d := range s.Daemons {
		daemons = append(daemons, fmt.Sprintf("%s sync daemon (mcast=%s, syncid=%d, maxlen=%d, group=%s, port=%d, ttl=%d)",
			d.State, d.Interface, d.SyncID, d.MaxLen, d.Group, d.Port, d.TTL))
	}
	if got, want := strings.TrimSpace(string(r.File(t, "daemon.txt"))), strings.Join(daemons, "\n"); got != want || len(daemons) != 2 {
		t.Errorf("daemons: ipvsadm\n%s\nsnapshot (want master and backup)\n%s", got, want)
	}
}

func check(t *testing.T, file, key string, got, want []string) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no ipvsadm row for %s", file, key)
		return
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s: %s: ipvsadm %q, snapshot %q", file, key, got, want)
	}
}

// ipvsadmServiceFields is how ipvsadm -Ln describes a service after its
// label: scheduler, scheduler flags, persistence, one-packet scheduling.
func ipvsadmServiceFields(s *ipvsstats.Service) []string {
	f := []string{s.Scheduler}
	var sf []string
	for i, flag := range []ipvsstats.Flags{ipvsstats.FlagSched1, ipvsstats.FlagSched2, ipvsstats.FlagSched3} {
		if s.Flags&flag == 0 {
			continue
		}
		switch {
		case (s.Scheduler == "sh" || s.Scheduler == "mh") && i < 2:
			sf = append(sf, s.Scheduler+[]string{"-fallback", "-port"}[i])
		default:
			sf = append(sf, fmt.Sprintf("flag-%d", i+1))
		}
	}
	if len(sf) > 0 {
		f = append(f, "("+strings.Join(sf, ",")+")")
	}
	if s.Flags&ipvsstats.FlagPersistent != 0 {
		f = append(f, "persistent", u32(s.Timeout))
		switch {
		case s.Family == ipvsstats.FamilyIPv4 && s.Netmask != 0xffffffff:
			f = append(f, "mask", fmt.Sprintf("%d.%d.%d.%d", s.Netmask>>24, s.Netmask>>16&0xff, s.Netmask>>8&0xff, s.Netmask&0xff))
		case s.Family == ipvsstats.FamilyIPv6 && s.Netmask != 128:
			f = append(f, "mask", u32(s.Netmask))
		}
	}
	if s.Flags&ipvsstats.FlagOnePacket != 0 {
		f = append(f, "ops")
	}
	return f
}

// tunInfo is ipvsadm --tun-info's column: type, GUE port, checksum flags.
func tunInfo(d *ipvsstats.Dest) string {
	if d.FwdMethod != ipvsstats.FwdTunnel {
		return "n/a"
	}
	if d.TunnelType == ipvsstats.TunnelIPIP {
		return "ipip"
	}
	csum := "-c"
	switch {
	case d.TunnelFlags&2 != 0:
		csum = "r+c"
	case d.TunnelFlags&1 != 0:
		csum = "+c"
	}
	if d.TunnelType == ipvsstats.TunnelGUE {
		return fmt.Sprintf("gue:%d:%s", d.TunnelPort, csum)
	}
	return d.TunnelType.String() + ":" + csum
}

func fromMoby(m ipvs.SvcStats) ipvsstats.Stats {
	return ipvsstats.Stats{Conns: uint64(m.Connections), InPkts: uint64(m.PacketsIn), OutPkts: uint64(m.PacketsOut),
		InBytes: m.BytesIn, OutBytes: m.BytesOut, CPS: uint64(m.CPS), InPPS: uint64(m.PPSIn),
		OutPPS: uint64(m.PPSOut), InBPS: uint64(m.BPSIn), OutBPS: uint64(m.BPSOut)}
}

// compareMoby checks every field moby/ipvs reads. moby reads the 32-bit
// counters, which equal ours while they are small, and the raw netmask in
// host order (an IPv4 mask is in network order on the wire).
func compareMoby(t *testing.T, b []byte, s *ipvsstats.Snapshot) {
	t.Helper()
	var m mobyview.View
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode moby JSON: %v\n%s", err, b)
	}
	if got, want := [3]int64{m.TimeoutTCP, m.TimeoutTCPFin, m.TimeoutUDP}, [3]int64{int64(s.Timeouts.TCP), int64(s.Timeouts.TCPFin), int64(s.Timeouts.UDP)}; got != want {
		t.Errorf("moby timeouts %v, snapshot %v", got, want)
	}
	if len(m.Services) != len(s.Services) {
		t.Fatalf("moby reads %d services, snapshot has %d", len(m.Services), len(s.Services))
	}
	for i, ms := range m.Services {
		svc := &s.Services[i] // both list the services in the kernel's order
		addr := ""
		if svc.Addr.IsValid() {
			addr = svc.Addr.String()
		}
		mask := ms.Netmask
		if ipvsstats.Family(ms.Family) == ipvsstats.FamilyIPv4 {
			mask = bits.ReverseBytes32(mask)
		}
		got := fmt.Sprintln(ms.Family, ms.Protocol, ms.Addr, ms.Port, ms.FWMark, ms.Scheduler, ms.Flags, ms.Timeout, mask, ms.PEName, fromMoby(ms.Stats))
		want := fmt.Sprintln(uint16(svc.Family), uint16(svc.Protocol), addr, svc.Port, svc.FWMark, svc.Scheduler, uint32(svc.Flags), svc.Timeout, svc.Netmask, svc.PEName, svc.Stats)
		if got != want {
			t.Errorf("service %s:\nmoby     %s\nsnapshot %s", svc.Label(), got, want)
		}
		if len(ms.Dests) != len(svc.Dests) {
			t.Errorf("service %s: moby reads %d real servers, snapshot has %d", svc.Label(), len(ms.Dests), len(svc.Dests))
			continue
		}
		for j, md := range ms.Dests {
			d := &svc.Dests[j]
			got := fmt.Sprintln(md.Addr, md.Port, md.Family, md.Weight, md.ConnectionFlags&7, md.UpperThreshold, md.LowerThreshold, md.ActiveConns, md.InactiveConns, fromMoby(md.Stats))
			want := fmt.Sprintln(d.Addr, d.Port, uint16(d.Family), d.Weight, uint32(d.FwdMethod), d.UpperThreshold, d.LowerThreshold, d.ActiveConns, d.InactiveConns, d.Stats)
			if got != want {
				t.Errorf("real server %s -> %s:\nmoby     %s\nsnapshot %s", svc.Label(), d.Label(), got, want)
			}
		}
	}
}

// saveFixtures copies the kernel's raw replies and the snapshot they make
// into ipvsstats/testdata, for the package's unit tests.
func saveFixtures(t *testing.T, r *testbed.Result) {
	dst := filepath.Join("..", "..", "ipvsstats", "testdata", "kernel-6.1")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(r.Dir, "fixtures")
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := json.Indent(&out, r.File(t, "snap.json"), "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "snapshot.json"), out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d fixtures into %s", len(ents), dst)
}

// TestIPVSStatsChurn reads many snapshots while a background loop adds and
// deletes services and real servers. Stable rows that the loop never
// touches must be in every snapshot (a torn dump skips or repeats rows);
// each snapshot must be free of duplicates; a read may only fail with
// ErrInconsistent. The stable table spans several dump datagrams, and so
// does the big service's list of real servers.
func TestIPVSStatsChurn(t *testing.T) {
	t.Parallel()
	r := testbed.MustRun(t, testbed.Scenario{
		Binaries: map[string]string{"ipvsdump": ipvsdumpPkg},
		Timeout:  5 * time.Minute,
		Script:   scriptOf("ipvsstats-churn.sh")})
	var ok, inconsistent int
	for i, line := range strings.Split(strings.TrimSpace(string(r.File(t, "churn.jsonl"))), "\n") {
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if e.Error != "" {
			if !strings.Contains(e.Error, ipvsstats.ErrInconsistent.Error()) {
				t.Errorf("read %d failed with %q, want only ErrInconsistent", i, e.Error)
			}
			inconsistent++
			continue
		}
		ok++
		checkChurnSnapshot(t, i, decodeSnapshot(t, []byte(line)))
	}
	t.Logf("%d consistent snapshots, %d reads gave up with ErrInconsistent", ok, inconsistent)
	if ok < 30 {
		t.Errorf("only %d of %d reads succeeded under churn", ok, ok+inconsistent)
	}
}

func checkChurnSnapshot(t *testing.T, i int, s *ipvsstats.Snapshot) {
	t.Helper()
	seen := map[string]bool{}
	stable := 0
	for _, svc := range s.Services {
		label := svc.Label()
		if seen[label] {
			t.Errorf("read %d: service %s twice", i, label)
		}
		seen[label] = true
		dests := map[string]bool{}
		for j := range svc.Dests {
			d := svc.Dests[j].Label()
			if dests[d] {
				t.Errorf("read %d: %s lists %s twice", i, label, d)
			}
			dests[d] = true
		}
		a := svc.Addr.As4()
		switch {
		case a[0] == 10 && a[1] == 98:
			stable++
			n := int(a[2])*100 + int(a[3])
			for j := 1; j <= 3; j++ {
				if d := fmt.Sprintf("10.1.%d.%d:80", n%100, j); !dests[d] {
					t.Errorf("read %d: stable %s lacks %s", i, label, d)
				}
			}
			if len(dests) != 3 {
				t.Errorf("read %d: stable %s has %d real servers, want 3", i, label, len(dests))
			}
		case label == "TCP 10.97.0.1:80":
			stable++
			extra := len(dests)
			for j := 1; j <= 150; j++ {
				if d := fmt.Sprintf("10.4.%d.%d:80", j/100, j%100); !dests[d] {
					t.Errorf("read %d: big service lacks stable real server %s", i, d)
				} else {
					extra--
				}
			}
			for d := range dests {
				if !strings.HasPrefix(d, "10.4.") && !strings.HasPrefix(d, "10.3.0.") {
					t.Errorf("read %d: big service has stranger %s", i, d)
				}
			}
			if extra > 20 {
				t.Errorf("read %d: big service has %d churning real servers, at most 20 exist", i, extra)
			}
		case a[0] == 10 && a[1] == 96:
			for d := range dests {
				if d != "10.2.0.1:80" {
					t.Errorf("read %d: %s has stranger %s", i, label, d)
				}
			}
		default:
			t.Errorf("read %d: unexpected service %s", i, label)
		}
	}
	if stable != 201 {
		t.Errorf("read %d: %d of the 201 stable services present", i, stable)
	}
}

// TestIPVSStatsErrors checks the errors with a way out: no IPVS in the
// kernel, no CAP_NET_ADMIN, a namespace path that does not exist; and that
// a namespace path reads that namespace's table.
func TestIPVSStatsErrors(t *testing.T) {
	t.Parallel()
	t.Run("not loaded", func(t *testing.T) {
		t.Parallel()
		r := testbed.MustRun(t, testbed.Scenario{
			NoIPVS:   true,
			Binaries: map[string]string{"ipvsdump": ipvsdumpPkg},
			Script:   `ipvsdump; echo "exit=$?"; lsmod | grep -c '^ip_vs' || true`,
		})
		if !strings.Contains(r.Stdout, "exit=1") || !strings.Contains(r.Stderr, "modprobe ip_vs") {
			t.Errorf("want exit 1 and the modprobe advice:\n%s", r.Describe())
		}
	})
	t.Run("permission and namespaces", func(t *testing.T) {
		t.Parallel()
		r := testbed.MustRun(t, testbed.Scenario{
			Binaries: map[string]string{"ipvsdump": ipvsdumpPkg},
			Script: `
ipvsadm -A -t 10.5.5.1:80 -s rr
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all ipvsdump 2> eperm.txt; echo "eperm exit=$?"
ipvsdump -netns /run/netns/nope 2> nons.txt; echo "nons exit=$?"
ip netns add blue
ip netns exec blue ipvsadm -A -u 10.6.6.6:53 -s wrr
ipvsdump -netns /run/netns/blue > blue.json; echo "blue exit=$?"
ipvsdump > root.json; echo "root exit=$?"
`,
		})
		for _, c := range []struct{ file, exit, want string }{
			{"eperm.txt", "eperm exit=1", "CAP_NET_ADMIN"},
			{"nons.txt", "nons exit=1", "cannot enter network namespace /run/netns/nope"},
		} {
			if got := string(r.File(t, c.file)); !strings.Contains(r.Stdout, c.exit) || !strings.Contains(got, c.want) {
				t.Errorf("%s: want %q and %q, got %q\n%s", c.file, c.exit, c.want, got, r.Describe())
			}
		}
		for file, want := range map[string]string{"blue.json": "UDP 10.6.6.6:53", "root.json": "TCP 10.5.5.1:80"} {
			s := decodeSnapshot(t, r.File(t, file))
			if len(s.Services) != 1 || s.Services[0].Label() != want {
				t.Errorf("%s: want only %s, got %+v", file, want, s.Services)
			}
		}
	})
}

// TestIPVSStatsLargeTable reads a 1000 x 10 table, whose dumps span many
// netlink datagrams, completely. It logs the read time against ipvsadm's
// for information; the measured comparison is make bench's (BENCHMARKS.md).
func TestIPVSStatsLargeTable(t *testing.T) {
	t.Parallel()
	r := testbed.MustRun(t, testbed.Scenario{
		Binaries: map[string]string{"ipvsbench": "github.com/lvs-agentx/lvs-agentx/test/cmd/ipvsbench"},
		Timeout:  5 * time.Minute,
		Script: `
set -e
ipvsbench -rules 1000 10 > table.rules
ipvsadm -R < table.rules
ipvsbench -n 3 > bench.json
`,
	})
	var res struct {
		Services, Dests, Reads        int
		IpvsstatsMs, IpvsadmMs, Ratio float64
	}
	if err := json.Unmarshal(r.File(t, "bench.json"), &res); err != nil {
		t.Fatal(err)
	}
	if res.Services != 1000 || res.Dests != 10000 {
		t.Fatalf("read %d services and %d real servers, want 1000 and 10000", res.Services, res.Dests)
	}
	t.Logf("1000x10: ipvsstats %.1f ms/read, ipvsadm -Ln --stats --exact %.1f ms/run, ratio %.2f",
		res.IpvsstatsMs, res.IpvsadmMs, res.Ratio)
}
