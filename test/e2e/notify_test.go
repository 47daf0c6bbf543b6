package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// notifyConf is snmpd.conf with a v2c trap2sink and an SNMPv3 inform
// session, each to its own snmptrapd.
var notifyConf = scenario.Master(
	"trap2sink 127.0.0.1:1162 public",
	"trapsess -Ci -v3 -u lvstrap -l authPriv -a SHA -A trappass1 -x AES -X trappass2 127.0.0.1:1163",
)

// notifyAgent watches every second and logs at debug level.
func notifyAgent() scenario.Agent {
	a := scenario.DefaultAgent()
	a.WatchInterval, a.LogLevel = "1s", "debug"
	return a
}

// notifySetup is notify-lib.sh: notifystart starts the trap receivers,
// snmpd and the agent; step measures a change's notifications.
var notifySetup = scriptOf("notify-lib.sh")

// TestNotifications provokes each kind of change with ipvsadm and checks
// what reaches a v2c trap receiver (trap2sink) and an SNMPv3 inform
// receiver (trapsess -Ci) through a real snmpd: exactly the notifications
// the change makes, with instance-qualified varbinds naming the row, each
// within one watch interval (1 s) plus 1 s and four of snmpd's own round
// trips as this kernel runs them; a storm of 2,000 changes is bounded per
// interval and summarised, and lvsChanges counts every change.
func TestNotifications(t *testing.T) {
	t.Parallel()
	r := testbed.MustRun(t, testbed.Scenario{
		Binaries: map[string]string{"lvs-agentx": agentPkg},
		Timeout:  6 * time.Minute,
		Script:   scenario.Script(scenario.Setup{SNMPD: notifyConf, Agent: notifyAgent()}, notifySetup+scriptOf("notify.sh"))})
	kv := readKV(t, r, "kv.txt")
	t.Logf("measurements (step: v2c s, v3 s, snmpd round trip s): %v", kv)
	v2c := parseTraps(string(r.File(t, "trapd-v2c.log")))
	v3 := parseTraps(string(r.File(t, "trapd-v3.log")))
	// snmpd's own coldStart may be there; none of ours.
	for _, tr := range parseTraps(string(r.File(t, "start-v2c.log"))) {
		if tr.kind != "" {
			t.Errorf("lvs.0.%s before any change, want none (the first read is the baseline)", tr.kind)
		}
	}
	checkStepTimes(t, kv, 0, "down", "up", "added", "removed", "svc_added", "svc_removed", "sync_started",
		"sync_stopped", "overloaded", "overload_cleared", "storm")
	const svc = `"TCP 10.97.0.1:80"`
	// Exactly one of each, but for the storm's real servers.
	for _, c := range []struct {
		name string
		n    string
		want int
	}{{"lvsServiceDown", "13", 1}, {"lvsServiceUp", "14", 1}, {"lvsRealServerQuiesced", "9", 2},
		{"lvsRealServerResumed", "10", 1}, {"lvsRealServerRemoved", "8", 1}, {"lvsServiceAdded", "5", 2},
		{"lvsServiceRemoved", "6", 1}, {"lvsSyncDaemonStarted", "3", 1}, {"lvsSyncDaemonStopped", "4", 1},
		{"lvsRealServerOverloaded", "11", 1}, {"lvsRealServerOverloadCleared", "12", 1}} {
		for via, traps := range map[string][]trap{"v2c": v2c, "v3": v3} {
			if got := len(byKind(traps, c.n)); got != c.want {
				t.Errorf("%s: %d %s (lvs.0.%s), want %d", via, got, c.name, c.n, c.want)
			}
		}
	}
	// The sorry-server moment names the row and says why.
	for via, traps := range map[string][]trap{"v2c": v2c, "v3": v3} {
		for _, n := range []string{"13", "14"} {
			for _, tr := range byKind(traps, n) {
				checkVarbinds(t, via+" lvs.0."+n, tr, map[string]string{
					"lvsServiceName": svc, "lvsServiceAddrType": "1", "lvsServiceInetAddr": "0A 61 00 01",
					"lvsServicePort": "80", "lvsServiceProto": "6", "lvsServiceFWMark": "0",
					"lvsServiceNumDests": "2", "lvsServiceNumAvailDests": map[string]string{"13": "0", "14": "1"}[n],
				})
			}
		}
		for _, tr := range byKind(traps, "9") {
			checkVarbinds(t, via+" lvsRealServerQuiesced", tr, map[string]string{
				"lvsServiceName": svc, "lvsRealServerPort": "80", "lvsRealServerWeight": "0"})
		}
		for _, tr := range byKind(traps, "8") {
			checkVarbinds(t, via+" lvsRealServerRemoved", tr, map[string]string{
				"lvsServiceName": svc, "lvsRealServerName": `"10.96.0.3:80"`, "lvsRealServerWeight": "2"})
		}
		for _, tr := range byKind(traps, "11") {
			checkVarbinds(t, via+" lvsRealServerOverloaded", tr, map[string]string{
				"lvsRealServerName": `"127.0.0.1:8080"`, "lvsRealUpperThreshold": "2"})
		}
	}
	// The storm: at most 20 per 1 s interval while it lasts (the agent logs
	// when each storm begins and ends); what was left out is counted in
	// the summaries; lvsChanges counts all 2,000.
	intervals, err := stormIntervals(string(r.File(t, "agent.log")), time.Second)
	if err != nil {
		t.Errorf("storm intervals from the agent's log: %v", err)
	}
	if kv["storm_changes"] != "2000" {
		t.Errorf("lvsChanges rose by %s during the storm, want 2000", kv["storm_changes"])
	}
	for via, traps := range map[string][]trap{"v2c": v2c, "v3": v3} {
		added := len(byKind(traps, "7")) - 1 // one before the storm
		var leftOut int
		for _, tr := range byKind(traps, "15") {
			n, _ := strconv.Atoi(num(tr.value("lvsNotificationsLeftOut")))
			leftOut += n
		}
		if added+leftOut != 2000 {
			t.Errorf("%s storm: %d lvsRealServerAdded + %d left out = %d, want 2000", via, added, leftOut, added+leftOut)
		}
		if added > 20*intervals || leftOut == 0 {
			t.Errorf("%s storm: %d notifications sent in %d intervals, %d left out: not bounded to 20 per interval", via, added, intervals, leftOut)
		}
	}
	if t.Failed() {
		var log []string // but for the storm's 2,000 real servers
		for _, l := range strings.Split(string(r.File(t, "agent.log")), "\n") {
			if !strings.Contains(l, "10.95.") {
				log = append(log, l)
			}
		}
		t.Logf("agent log:\n%s", strings.Join(log, "\n"))
	}
}

// checkStepTimes checks that each step's notification reached both
// receivers within one watch interval (1 s) plus 1 s and four of snmpd's
// round trips as this kernel runs them, plus extra seconds.
func checkStepTimes(t *testing.T, kv map[string]string, extra float64, steps ...string) {
	t.Helper()
	for _, step := range steps {
		f := strings.Fields(kv[step])
		if len(f) != 3 {
			t.Errorf("%s: no notification in time: %q", step, kv[step])
			continue
		}
		probe, _ := strconv.ParseFloat(f[2], 64)
		bound := 2 + extra + 4*probe
		for i, via := range []string{"v2c trap", "v3 inform"} {
			if s, _ := strconv.ParseFloat(f[i], 64); s > bound {
				t.Errorf("%s by %s after %.2f s, want <= %.2f s (1 s interval + 1 s + %.0f s + 4 x %.2f s)", step, via, s, bound, extra, probe)
			}
		}
	}
}

// trap is one received notification: its varbinds by OID.
type trap struct {
	kind string // the N of lvs.0.N
	vbs  map[string]string
}

// value returns the varbind of the named LVS-MIB object, any instance.
func (t trap) value(name string) string {
	prefix := oidOf(name) + "."
	for oid, v := range t.vbs {
		if strings.HasPrefix(oid, prefix) {
			return v
		}
	}
	return ""
}

var trapOIDRE = regexp.MustCompile(`^OID: \.1\.3\.6\.1\.4\.1\.8225\.4711\.0\.(\d+)$`)

func parseTraps(log string) []trap {
	var out []trap
	for _, l := range strings.Split(log, "\n") {
		rest, ok := strings.CutPrefix(l, "TRAP ")
		if !ok {
			continue
		}
		tr := trap{vbs: map[string]string{}}
		for _, vb := range strings.Split(rest, "\t") {
			oid, v, _ := strings.Cut(vb, " = ")
			tr.vbs[oid] = v
			if oid == ".1.3.6.1.6.3.1.1.4.1.0" {
				if m := trapOIDRE.FindStringSubmatch(v); m != nil {
					tr.kind = m[1]
				}
			}
		}
		out = append(out, tr)
	}
	return out
}

func byKind(traps []trap, n string) []trap {
	var out []trap
	for _, t := range traps {
		if t.kind == n {
			out = append(out, t)
		}
	}
	return out
}

// checkVarbinds checks that tr carries each named object with the value
// want (what follows the type, as in `Gauge32: 2` or `STRING: "x"`).
func checkVarbinds(t *testing.T, what string, tr trap, want map[string]string) {
	t.Helper()
	for name, w := range want {
		if got := strings.TrimSpace(num(tr.value(name))); got != w {
			t.Errorf("%s: %s = %q, want %q", what, name, tr.value(name), w)
		}
	}
}

// TestNotificationsIPVSUnloaded unloads ip_vs under a running agent and
// loads it again: one lvsIpvsUnreadable, then one lvsIpvsReadable, each
// carrying lvsIpvsAvailable, through the v2c trap receiver and the v3
// inform receiver. The kernel is the test's own (NoIPVS).
func TestNotificationsIPVSUnloaded(t *testing.T) {
	t.Parallel()
	r := testbed.MustRun(t, testbed.Scenario{
		NoIPVS:   true,
		Binaries: map[string]string{"lvs-agentx": agentPkg},
		Timeout:  4 * time.Minute,
		Script: scenario.Script(scenario.Setup{SNMPD: notifyConf, Agent: notifyAgent()}, notifySetup+`
rm /run/modprobe.d/lvs-agentx-noipvs.conf
modprobe ip_vs && modprobe ip_vs_rr || exit 1
ipvsadm -A -t 10.97.0.1:80 -s rr
ipvsadm -a -t 10.97.0.1:80 -r 10.96.0.1:80 -m
notifystart
nap 2.5
ipvsadm -C
rmmod ip_vs_rr ip_vs || exit 1
step unreadable 1 1
modprobe ip_vs || exit 1
step readable 2 1
kill $AGENT; wait $AGENT
exit 0
`)})
	kv := readKV(t, r, "kv.txt")
	t.Logf("measurements (step: v2c s, v3 s, snmpd round trip s): %v", kv)
	for _, step := range []string{"unreadable", "readable"} {
		if f := strings.Fields(kv[step]); len(f) != 3 {
			t.Errorf("%s: no notification in time: %q", step, kv[step])
		}
	}
	for via, log := range map[string]string{"v2c": "trapd-v2c.log", "v3": "trapd-v3.log"} {
		traps := parseTraps(string(r.File(t, log)))
		for n, want := range map[string]string{"1": "2", "2": "1"} { // lvsIpvsAvailable false(2), true(1)
			got := byKind(traps, n)
			if len(got) != 1 {
				t.Errorf("%s: %d lvs.0.%s, want 1", via, len(got), n)
				continue
			}
			checkVarbinds(t, via+" lvs.0."+n, got[0], map[string]string{"lvsIpvsAvailable": want})
		}
	}
	if t.Failed() {
		t.Logf("agent log:\n%s", r.File(t, "agent.log"))
	}
}

// stormIntervals counts the notification intervals the storms in an agent
// log lasted: for each storm, from the interval in which it began (when
// the agent logs "notification storm:") to the one whose end it logs
// ("notification storm over"), both included.
func stormIntervals(log string, interval time.Duration) (int, error) {
	var n int
	var begun time.Time
	for _, l := range strings.Split(log, "\n") {
		start := strings.Contains(l, `msg="notification storm:`)
		over := strings.Contains(l, `msg="notification storm over"`)
		if !start && !over {
			continue
		}
		ts, _, _ := strings.Cut(strings.TrimPrefix(l, "time="), " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return 0, fmt.Errorf("log line %q: %w", l, err)
		}
		switch {
		case start && !begun.IsZero():
			return 0, fmt.Errorf("a storm began at %s before the one of %s ended", at, begun)
		case start:
			begun = at
		case begun.IsZero():
			return 0, fmt.Errorf("a storm ended at %s that never began", at)
		default:
			n += int((at.Sub(begun)+interval-1)/interval) + 1
			begun = time.Time{}
		}
	}
	if n == 0 || !begun.IsZero() {
		return 0, fmt.Errorf("want whole storms, found %d intervals and one under way: %v", n, !begun.IsZero())
	}
	return n, nil
}

func TestStormIntervals(t *testing.T) {
	line := func(ts, msg string) string { return "time=" + ts + " level=INFO msg=" + msg + " x=1" }
	start, over := `"notification storm: sending at most max per interval"`, `"notification storm over"`
	for _, c := range []struct {
		log  []string
		want int
		bad  bool
	}{
		{log: []string{line("2026-11-29T07:52:06.838Z", start), line("2026-11-29T07:52:08.822Z", over)}, want: 3},
		{log: []string{line("2026-11-29T07:52:06.838Z", start), line("2026-11-29T07:52:07.838Z", over),
			"time=2026-11-29T07:52:09.000Z level=DEBUG msg=\"IPVS change\"",
			line("2026-11-29T07:52:13.087Z", start), line("2026-11-29T07:52:15.100Z", over)}, want: 2 + 4},
		{log: []string{line("2026-11-29T07:52:06.838Z", start)}, bad: true},
		{log: []string{line("2026-11-29T07:52:06.838Z", over)}, bad: true},
		{log: []string{"nothing"}, bad: true},
	} {
		got, err := stormIntervals(strings.Join(c.log, "\n"), time.Second)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("stormIntervals(%q) = %d, %v; want %d, error %v", c.log, got, err, c.want, c.bad)
		}
	}
}
