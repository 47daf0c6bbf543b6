package e2e

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/ipvsproc"
	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/snmpd"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// TestDirectorHealth checks the director's health against the kernel in
// the same namespace: with traffic that leaves connections established,
// in TIME_WAIT, in SYN_RECV (a real server that never answers) and UDP,
// the totals equal /proc/net/ip_vs_stats (rates within the estimator's
// move between two readings), the connection states equal ipvsadm -Lnc
// counted by state, the settings and defenses equal their sysctl files;
// on a backup director fed by real sync daemons, lvsConnFromSync equals
// its entries of sync origin; check agrees; and deleting every service
// leaves the totals where they were.
func TestDirectorHealth(t *testing.T) {
	t.Parallel()
	agent := e2eAgent()
	agent.NetnsDir = "/run/netns"
	r := testbed.MustRun(t, testbed.Scenario{
		Binaries: map[string]string{"lvs-agentx": agentPkg},
		Modules:  []string{"veth"},
		Timeout:  6 * time.Minute,
		Script: scenario.Script(scenario.Setup{SNMPD: scenario.Master(snmpd.ContextConfig("backup")...), Agent: agent},
			scriptOf("health.sh")),
	})
	defer func() {
		if t.Failed() {
			t.Logf("agent log:\n%s", r.File(t, "agent.log"))
		}
	}()
	w := parseWalk(t, string(r.File(t, "walk.txt")))
	stats := [2]ipvsproc.Totals{procTotals(t, r, "stats1.txt"), procTotals(t, r, "stats2.txt")}
	checkTotals(t, "walk", w, stats)

	conns := [2]map[string]uint64{lvsadmStates(t, r, "conns1.txt"), lvsadmStates(t, r, "conns2.txt")}
	templates := [2]uint64{conns[0]["templates"], conns[1]["templates"]}
	delete(conns[0], "templates")
	delete(conns[1], "templates")
	got := walkStates(t, w)
	for _, want := range []string{"TCP ESTABLISHED", "TCP SYN_RECV", "UDP UDP"} {
		if conns[0][want] == 0 {
			t.Errorf("the traffic left no %s entry: %v", want, conns[0])
		}
	}
	for st := range union(conns[0], conns[1], got) {
		lo, hi := min(conns[0][st], conns[1][st]), max(conns[0][st], conns[1][st])
		if got[st] < lo || got[st] > hi {
			t.Errorf("lvsConnStateCount %s = %d, ipvsadm -Lnc counts %d then %d", st, got[st], conns[0][st], conns[1][st])
		}
	}
	if templates[0] == 0 {
		t.Errorf("the persistent service has no template")
	}
	checkScalar(t, w, "lvsConnEntries", fmt.Sprintf("Gauge32: %d", total(conns[0])))
	checkScalar(t, w, "lvsConnTemplates", fmt.Sprintf("Gauge32: %d", templates[0]))
	checkSettings(t, r, w)

	// The backup director: what the sync daemon brought.
	bw := parseWalk(t, string(r.File(t, "backup-walk.txt")))
	fromSync := strings.Count(string(r.File(t, "backup-conns1.txt")), " SYNC ")
	if fromSync == 0 {
		t.Errorf("the backup holds no entry of sync origin:\n%s", r.File(t, "backup-conns1.txt"))
	}
	checkScalar(t, bw, "lvsConnFromSync", fmt.Sprintf("Gauge32: %d", fromSync))
	checkScalar(t, w, "lvsConnFromSync", "Gauge32: 0")

	// check agrees through snmpd and through /metrics, for both contexts.
	for _, f := range []string{"check.txt", "check-metrics.txt", "check-metrics-backup.txt"} {
		if got := string(r.File(t, f)); !strings.HasPrefix(got, "OK: ") {
			t.Errorf("%s:\n%s", f, got)
		} else {
			t.Logf("%s: %s", f, strings.TrimSpace(got))
		}
	}
	if got := string(r.File(t, "dump.txt")); !strings.Contains(got, "Connection table: ") || !strings.Contains(got, "drop_entry") {
		t.Errorf("dump prints no health:\n%s", got)
	}

	// Every service deleted: the totals stay.
	cleared := parseWalk(t, string(r.File(t, "walk-cleared.txt")))
	if n := cleared.values[oidOf("lvsNumServices")+".0"]; n != "INTEGER: 0" {
		t.Errorf("lvsNumServices after ipvsadm -C: %s", n)
	}
	after := procTotals(t, r, "stats3.txt")
	checkTotals(t, "walk after ipvsadm -C", cleared, [2]ipvsproc.Totals{after, procTotals(t, r, "stats4.txt")})
	if after.Conns < stats[1].Conns || after.Conns == 0 {
		t.Errorf("total connections went from %d to %d", stats[1].Conns, after.Conns)
	}
}

func procTotals(t *testing.T, r *testbed.Result, file string) ipvsproc.Totals {
	t.Helper()
	tot, err := ipvsproc.ParseTotals(r.File(t, file))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return tot
}

// checkTotals compares lvsTotals with two readings of ip_vs_stats taken
// before and after the walk: each value lies between the two (no traffic
// runs then: the counters hold still while the estimator's rates decay).
func checkTotals(t *testing.T, what string, w *walkResult, s [2]ipvsproc.Totals) {
	t.Helper()
	counters := []struct {
		name string
		v    func(ipvsproc.Totals) uint64
	}{
		{"lvsTotalConns", func(t ipvsproc.Totals) uint64 { return t.Conns }},
		{"lvsTotalInPkts", func(t ipvsproc.Totals) uint64 { return t.InPkts }},
		{"lvsTotalOutPkts", func(t ipvsproc.Totals) uint64 { return t.OutPkts }},
		{"lvsTotalInBytes", func(t ipvsproc.Totals) uint64 { return t.InBytes }},
		{"lvsTotalOutBytes", func(t ipvsproc.Totals) uint64 { return t.OutBytes }},
		{"lvsTotalRateCps", func(t ipvsproc.Totals) uint64 { return t.CPS }},
		{"lvsTotalRateInPPS", func(t ipvsproc.Totals) uint64 { return t.InPPS }},
		{"lvsTotalRateOutPPS", func(t ipvsproc.Totals) uint64 { return t.OutPPS }},
		{"lvsTotalRateInBPS", func(t ipvsproc.Totals) uint64 { return t.InBPS }},
		{"lvsTotalRateOutBPS", func(t ipvsproc.Totals) uint64 { return t.OutBPS }},
		{"lvsTotalRateInBPSHC", func(t ipvsproc.Totals) uint64 { return t.InBPS }},
		{"lvsTotalRateOutBPSHC", func(t ipvsproc.Totals) uint64 { return t.OutBPS }},
	}
	for _, c := range counters {
		v := w.values[oidOf(c.name)+".0"]
		got, err := strconv.ParseUint(num(v), 10, 64)
		lo, hi := min(c.v(s[0]), c.v(s[1])), max(c.v(s[0]), c.v(s[1]))
		if err != nil || got < lo || got > hi {
			t.Errorf("%s: %s = %q, /proc/net/ip_vs_stats has %d then %d", what, c.name, v, c.v(s[0]), c.v(s[1]))
		}
	}
	if got := w.values[oidOf("lvsTotalConns")+".0"]; got != "" && !strings.HasPrefix(got, "Counter64: ") {
		t.Errorf("%s: lvsTotalConns is %s, want a Counter64", what, got)
	}
}

// lvsadmStates counts ipvsadm -Lnc's entries by "PROTO STATE", and its
// persistence templates (client port 0) as "templates".
func lvsadmStates(t *testing.T, r *testbed.Result, file string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	templates := uint64(0)
	defer func() { out["templates"] = templates }()
	sc := bufio.NewScanner(strings.NewReader(string(r.File(t, file))))
	for sc.Scan() {
		// pro expire state source virtual destination
		f := strings.Fields(sc.Text())
		if len(f) >= 6 && f[0] != "pro" && !strings.HasPrefix(sc.Text(), "IPVS") {
			out[f[0]+" "+f[2]]++
			if strings.HasSuffix(f[3], ":0") {
				templates++
			}
		}
	}
	return out
}

// walkStates is lvsConnStateTable by "PROTO STATE", the protocol named as
// ipvsadm names it.
func walkStates(t *testing.T, w *walkResult) map[string]uint64 {
	t.Helper()
	names := map[int]string{0: "IP", 6: "TCP", 17: "UDP", 132: "SCTP"}
	out := map[string]uint64{}
	prefix := oidOf("lvsConnStateCount") + "."
	for _, oid := range w.order {
		inst, ok := strings.CutPrefix(oid, prefix)
		if !ok {
			continue
		}
		p, idx, _ := strings.Cut(inst, ".")
		proto, _ := strconv.Atoi(p)
		name := unquote(w.values[oidOf("lvsConnStateName")+"."+p+"."+idx])
		if !strings.HasPrefix(w.values[oid], "Gauge32: ") {
			t.Errorf("lvsConnStateCount.%s = %s, want a Gauge32", inst, w.values[oid])
		}
		n, _ := strconv.ParseUint(num(w.values[oid]), 10, 64)
		if got := w.values[oidOf("lvsConnStateProto")+"."+inst]; got != "INTEGER: "+p {
			t.Errorf("lvsConnStateProto.%s = %s", inst, got)
		}
		out[names[proto]+" "+name] = n
	}
	return out
}

func union(ms ...map[string]uint64) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			out[k] = true
		}
	}
	return out
}

func total(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

func checkScalar(t *testing.T, w *walkResult, name, want string) {
	t.Helper()
	if got := w.values[oidOf(name)+".0"]; got != want {
		t.Errorf("%s.0 = %q, want %q", name, got, want)
	}
}

// checkSettings compares lvsSettingTable and lvsDefense with the sysctl
// files: one row per file, value and integer equal.
func checkSettings(t *testing.T, r *testbed.Result, w *walkResult) {
	t.Helper()
	files := map[string]string{}
	for line := range strings.Lines(string(r.File(t, "settings1.txt"))) {
		name, value, _ := strings.Cut(strings.TrimSpace(line), " ")
		files[name] = strings.TrimSpace(value)
	}
	rows := map[string]string{}
	prefix := oidOf("lvsSettingName") + "."
	for _, oid := range w.order {
		idx, ok := strings.CutPrefix(oid, prefix)
		if !ok {
			continue
		}
		name := unquote(w.values[oid])
		rows[name] = unquote(w.values[oidOf("lvsSettingValue")+"."+idx])
		integer, isInt := w.values[oidOf("lvsSettingInteger")+"."+idx]
		if _, err := strconv.ParseInt(files[name], 10, 32); (err == nil) != isInt || (isInt && integer != "INTEGER: "+files[name]) {
			t.Errorf("lvsSettingInteger of %s = %q (present %v), file has %q", name, integer, isInt, files[name])
		}
	}
	if len(rows) != len(files) || len(files) < 20 {
		t.Errorf("%d setting rows, %d sysctl files", len(rows), len(files))
	}
	for name, v := range files {
		if rows[name] != v {
			t.Errorf("lvsSettingValue of %s = %q, file has %q", name, rows[name], v)
		}
	}
	for obj, file := range map[string]string{"lvsDropEntry": "drop_entry", "lvsDropPacket": "drop_packet",
		"lvsSecureTcp": "secure_tcp", "lvsAmemthresh": "amemthresh"} {
		checkScalar(t, w, obj, "INTEGER: "+files[file])
	}
	want := "INTEGER: 1"
	if files["run_estimation"] == "0" {
		want = "INTEGER: 2"
	}
	checkScalar(t, w, "lvsRatesEstimated", want)
}

// TestHealthNotifications changes each defense, the rate estimator and a
// setting by hand, and lets the kernel turn a defense on and off by
// itself, and checks what reaches a v2c trap receiver and an SNMPv3 inform
// receiver through a real snmpd: one notification per change, each within
// one watch interval (1 s) plus 1 s and four of snmpd's round trips (the
// kernel's own changes: plus its defense timer's second), with the
// setting's name, old and new value.
func TestHealthNotifications(t *testing.T) {
	t.Parallel()
	r := testbed.MustRun(t, testbed.Scenario{
		Binaries: map[string]string{"lvs-agentx": agentPkg},
		Timeout:  5 * time.Minute,
		Script: scenario.Script(scenario.Setup{SNMPD: notifyConf, Agent: notifyAgent()},
			notifySetup+scriptOf("health-notify.sh"))})
	kv := readKV(t, r, "kv.txt")
	t.Logf("measurements (step: v2c s, v3 s, snmpd round trip s): %v", kv)
	defer func() {
		if t.Failed() {
			t.Logf("agent log:\n%s", r.File(t, "agent.log"))
		}
	}()
	checkStepTimes(t, kv, 0, "on_drop_entry", "off_drop_entry", "on_drop_packet", "off_drop_packet",
		"on_secure_tcp", "off_secure_tcp", "rates_stopped", "rates_resumed", "setting", "auto_idle", "auto_disabled")
	checkStepTimes(t, kv, 1, "auto_on", "auto_off") // and the kernel's defense timer's second
	if on, off := strings.TrimSpace(string(r.File(t, "auto-on-value.txt"))), strings.TrimSpace(string(r.File(t, "auto-off-value.txt"))); on != "2" || off != "1" {
		t.Errorf("drop_entry in automatic mode read %s under the threshold and %s above, want 2 and 1", on, off)
	}
	for _, log := range []string{"trapd-v2c.log", "trapd-v3.log"} {
		traps := parseTraps(string(r.File(t, log)))
		for kind, want := range map[string]int{"16": 4, "17": 4, "18": 1, "19": 1, "20": 5} {
			if got := len(byKind(traps, kind)); got != want {
				t.Errorf("%s: %d of lvs.0.%s, want %d", log, got, kind, want)
			}
		}
		on := byKind(traps, "16")
		if len(on) == 4 {
			checkVarbinds(t, log+" lvsDefenseOn by hand", on[0], map[string]string{"lvsSettingName": `"drop_entry"`, "lvsSettingValue": `"3"`})
			checkVarbinds(t, log+" lvsDefenseOn by the kernel", on[3], map[string]string{"lvsSettingName": `"drop_entry"`, "lvsSettingValue": `"2"`})
			if _, ok := on[0].vbs[oidOf("lvsSettingName")+".8"]; !ok {
				t.Errorf("%s: lvsDefenseOn of drop_entry names no lvsSettingName.8: %v", log, on[0].vbs)
			}
		}
		if ch := byKind(traps, "20"); len(ch) == 5 {
			checkVarbinds(t, log+" lvsSettingChanged", ch[0], map[string]string{
				"lvsSettingName": `"expire_nodest_conn"`, "lvsSettingPreviousValue": `"0"`, "lvsSettingValue": `"1"`})
		}
		if st := byKind(traps, "18"); len(st) == 1 {
			checkVarbinds(t, log+" lvsRatesStopped", st[0], map[string]string{"lvsRatesEstimated": "2"})
		}
	}
}
