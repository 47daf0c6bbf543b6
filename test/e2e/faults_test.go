package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// faultHelpers are the fault scenarios' own: avail prints
// lvsIpvsAvailable; is AVAIL NSERVICES tests lvsIpvsAvailable and
// lvsNumServices, in one snmpget.
var faultHelpers = scriptOf("faults-lib.sh")

// faultScript is a fault scenario's script: snmpd.conf and the agent's
// flags of the e2e scenarios, the shared helpers and faultHelpers, then
// body.
func faultScript(body string) string {
	return scenario.Script(scenario.Setup{SNMPD: scenario.Master(), Agent: e2eAgent()}, faultHelpers+body)
}

// readKV parses the scenario's "key value" lines in file into a map.
func readKV(t *testing.T, r *testbed.Result, file string) map[string]string {
	t.Helper()
	kv := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(r.File(t, file))), "\n") {
		k, v, _ := strings.Cut(l, " ")
		kv[k] = strings.TrimSpace(v)
	}
	return kv
}

func seconds(t *testing.T, kv map[string]string, key string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(kv[key], 64)
	if err != nil {
		t.Fatalf("%s: no measurement (%q)", key, kv[key])
	}
	return f
}

// TestFaultIPVSAbsentAndUnloaded starts the agent on a kernel without IPVS,
// loads it, unloads it while the agent runs and loads it again: the agent
// stays up, says lvsIpvsAvailable false with empty tables while IPVS is
// missing (logging it once per outage), and the re-created services get
// their old indexes back.
func TestFaultIPVSAbsentAndUnloaded(t *testing.T) {
	t.Parallel()
	r := testbed.MustRun(t, testbed.Scenario{
		NoIPVS:   true,
		Binaries: map[string]string{"lvs-agentx": agentPkg},
		Timeout:  3 * time.Minute,
		Script:   faultScript(scriptOf("faults-absent.sh"))})
	kv := readKV(t, r, "kv.txt")
	agentLog := string(r.File(t, "agent.log"))
	t.Logf("guest measurements: %v\nagent log:\n%s", kv, agentLog)

	if kv["avail0"] != "2" {
		t.Errorf("without IPVS lvsIpvsAvailable = %q, want false(2)", kv["avail0"])
	}
	w0 := parseWalk(t, string(r.File(t, "walk0.txt")))
	if n := len(w0.rowIndexes()); n != 0 {
		t.Errorf("without IPVS the walk has %d rows", n)
	}
	// Several refreshes failed before modprobe; one warning.
	if n := strings.Count(string(r.File(t, "agent0.log")), "IPVS unreadable"); n != 1 {
		t.Errorf("IPVS unreadable logged %d times before modprobe, want once", n)
	}
	if n := strings.Count(agentLog, "IPVS unreadable"); n != 2 {
		t.Errorf("IPVS unreadable logged %d times over two outages, want 2", n)
	}
	for _, k := range []string{"loaded_served", "reloaded_served", "unloaded_seen"} {
		// Polls cost a lot in a loaded emulated guest; the agent itself needs
		// one cache TTL (1 s) and a read.
		if s := seconds(t, kv, k); s > 10 {
			t.Errorf("%s took %.1f s, want a few", k, s)
		}
	}
	before := parseWalk(t, string(r.File(t, "walk1.txt"))).rowIndexes()
	if len(before) != 9 {
		t.Errorf("after modprobe the walk has %d rows, want 3 services + 6 real servers: %v", len(before), before)
	}
	if n := len(parseWalk(t, string(r.File(t, "walk2.txt"))).rowIndexes()); n != 0 || kv["alive_unloaded"] != "yes" {
		t.Errorf("after rmmod: %d rows served, agent alive %q; want 0 and yes", n, kv["alive_unloaded"])
	}
	after := parseWalk(t, string(r.File(t, "walk3.txt"))).rowIndexes()
	for name, idx := range before {
		if after[name] != idx {
			t.Errorf("after rmmod and modprobe %s is %q, was %s", name, after[name], idx)
		}
	}
	if len(after) != 12 {
		t.Errorf("after reload the walk has %d rows, want 12: %v", len(after), after)
	}
	if kv["agent_exit"] != "0" {
		t.Errorf("agent exit after SIGTERM: %q", kv["agent_exit"])
	}
}

// churnScript changes the table about every 0.5 s for CHURN seconds: a
// service is deleted and re-created, another gains and loses a real server,
// and a new service appears. Every real server's address names its
// service (mksvc): service 10.9.0.S:80 only ever has real servers
// 10.10.S.R:8080. mksvc logs each service it creates to churn.log.
var churnScript = scriptOf("faults-churn-lib.sh")

// TestFaultChurnWhileWalking changes services and real servers twice a
// second while 8 managers bulk-walk the LVS-MIB through snmpd: every walk
// completes without error or duplicate, and every row's name belongs to its
// index and to a service that existed.
func TestFaultChurnWhileWalking(t *testing.T) {
	t.Parallel()
	r := testbed.MustRun(t, testbed.Scenario{
		Binaries: map[string]string{"lvs-agentx": agentPkg},
		Timeout:  4 * time.Minute,
		Script:   faultScript(churnScript + scriptOf("faults-churn.sh"))})
	kv := readKV(t, r, "kv.txt")
	if kv["alive"] != "yes" || kv["agent_exit"] != "0" {
		t.Errorf("agent alive %q, exit %q; want yes and 0\nagent log:\n%s", kv["alive"], kv["agent_exit"], r.File(t, "agent.log"))
	}
	created := map[string]bool{}
	for _, l := range strings.Fields(string(r.File(t, "churn.log"))) {
		created["TCP "+l] = true
	}
	walks, rows := checkChurnWalks(t, r.Dir, created)
	t.Logf("%d walks by 8 managers during %s churn rounds, %d rows checked", walks, kv["rounds"], rows)
	if walks < 8 {
		t.Errorf("only %d walks completed; want at least 1 per manager", walks)
	}
	if n, _ := strconv.Atoi(kv["rounds"]); n < 3 {
		t.Errorf("only %q churn rounds ran", kv["rounds"])
	}
}

var churnReal = regexp.MustCompile(`^10\.10\.(\d+)\.\d+:8080$`)

// checkChurnWalks checks every walk of a churn run (walks/wK-J.*) and
// returns how many walks and rows it checked. Indexes are never reused for
// another identity, so across all walks an index must always carry the
// same name.
func checkChurnWalks(t *testing.T, dir string, created map[string]bool) (walks, rows int) {
	t.Helper()
	rcs, _ := filepath.Glob(filepath.Join(dir, "walks", "*.rc"))
	svcName := map[string]string{}  // service index -> name, over all walks
	realName := map[string]string{} // real index -> address, over all walks
	bad := 0
	fail := func(format string, a ...any) {
		if bad++; bad <= 20 {
			t.Errorf(format, a...)
		}
	}
	for _, rc := range rcs {
		base := strings.TrimSuffix(rc, ".rc")
		code, _ := os.ReadFile(rc)
		errText, _ := os.ReadFile(base + ".err")
		text, _ := os.ReadFile(base + ".txt")
		name := filepath.Base(base)
		if strings.TrimSpace(string(code)) != "0" || len(errText) > 0 {
			fail("%s: exit %s, stderr %q", name, strings.TrimSpace(string(code)), errText)
			continue
		}
		walks++
		w := parseWalk(t, string(text))
		if len(w.order) != len(w.values) {
			fail("%s: %d varbinds but %d distinct OIDs", name, len(w.order), len(w.values))
		}
		if w.values[lvs+".9.0"] != "INTEGER: 1" {
			fail("%s: lvsIpvsAvailable %s", name, w.values[lvs+".9.0"])
		}
		for _, oid := range w.order {
			if idx, ok := strings.CutPrefix(oid, lvs+".17.1.34."); ok {
				n := unquote(w.values[oid])
				rows++
				if !created[n] {
					fail("%s: service %s named %q, never created", name, idx, n)
				}
				if prev, ok := svcName[idx]; ok && prev != n {
					fail("%s: service index %s is %q, elsewhere %q", name, idx, n, prev)
				}
				svcName[idx] = n
			}
			if idx, ok := strings.CutPrefix(oid, lvs+".18.1.31."); ok {
				a := unquote(w.values[oid])
				rows++
				if prev, ok := realName[idx]; ok && prev != a {
					fail("%s: real server index %s is %q, elsewhere %q", name, idx, a, prev)
				}
				realName[idx] = a
			}
		}
	}
	// A real server's address names its service; the service's index is
	// the first part of the real server's index.
	// A walk is not a snapshot: it can pass the service table before a
	// service exists and the real table after, so a real server's service
	// may never have shown its name; only a name that disagrees is torn.
	for idx, a := range realName {
		m := churnReal.FindStringSubmatch(a)
		svc, _, _ := strings.Cut(idx, ".")
		if m == nil || (svcName[svc] != "" && svcName[svc] != fmt.Sprintf("TCP 10.9.0.%s:80", m[1])) {
			fail("real server %s is %q, under service %s %q", idx, a, svc, svcName[svc])
		}
	}
	if bad > 20 {
		t.Errorf("... %d problems in all", bad)
	}
	return walks, rows
}

// TestFaultSnmpdRestarts starts the agent before snmpd, with a corrupt
// state file, then kills and restarts snmpd (KILL, TERM, KILL) while 8
// managers walk, and keeps snmpd away for 8 s: the agent never exits, does
// not spin, serves within 2 s (plus four of snmpd's own round trips) of
// snmpd answering again, moves the corrupt
// file aside, and on SIGTERM closes the session, saves its state and exits 0.
func TestFaultSnmpdRestarts(t *testing.T) {
	t.Parallel()
	r := testbed.MustRun(t, testbed.Scenario{
		Binaries: map[string]string{"lvs-agentx": agentPkg},
		Timeout:  4 * time.Minute,
		Script:   faultScript(scriptOf("faults-restarts.sh"))})
	kv := readKV(t, r, "kv.txt")
	agentLog := string(r.File(t, "agent.log"))
	t.Logf("guest measurements: %v", kv)
	for _, k := range []string{"alive_nosnmpd", "alive_end", "corrupt_aside"} {
		if kv[k] != "yes" {
			t.Errorf("%s: %q, want yes", k, kv[k])
		}
	}
	// From snmpd answering its own objects to answering ours: within the
	// agent's 1 s reconnection back-off, one more second, and four of
	// snmpd's own round trips as this kernel runs them (connect, Open,
	// Register, the probing get): a slow emulator does not fail the bound
	// and a fast host does not hide a slow agent. probe_X is one probe of
	// snmpd's own sysUpTime, timed right after.
	for _, k := range []string{"late", "1", "2", "3"} {
		probe := seconds(t, kv, "probe_"+k)
		bound := 2 + 4*probe
		if s := seconds(t, kv, "served_"+k); s > bound {
			t.Errorf("served_%s: the agent served %.2f s after snmpd was back, want <= %.2f s (2 s + 4 x %.2f s, snmpd's own round trip)", k, s, bound, probe)
		}
	}
	// USER_HZ is 100: 8 s away may cost the agent at most 0.5 s of CPU.
	if ticks, _ := strconv.Atoi(kv["down_ticks"]); kv["down_ticks"] == "" || ticks > 50 {
		t.Errorf("agent used %q ticks of CPU while snmpd was away 8 s", kv["down_ticks"])
	}
	if n, _ := strconv.Atoi(kv["walks_ok"]); n < 8 {
		t.Errorf("only %d walks succeeded around the restarts", n)
	}
	final := parseWalk(t, string(r.File(t, "final.txt"))).rowIndexes()
	if len(final) != 40 {
		t.Errorf("final walk has %d rows, want 40", len(final))
	}
	if kv["agent_exit"] != "0" {
		t.Errorf("agent exit after SIGTERM: %q", kv["agent_exit"])
	}
	for _, want := range []string{"corrupt index state", "state.json.corrupt", "agentx session closed", "lvs-agentx stopped"} {
		if !strings.Contains(agentLog, want) {
			t.Errorf("agent log lacks %q", want)
		}
	}
	// The state saved at exit numbers every row the final walk showed.
	var state map[string]any
	if err := json.Unmarshal(r.File(t, "state.json"), &state); err != nil {
		t.Errorf("state file after SIGTERM: %v", err)
	}
	if !strings.Contains(string(r.File(t, "state.json")), "10.9.0.10") {
		t.Errorf("state file lacks the services:\n%s", r.File(t, "state.json"))
	}
	if t.Failed() {
		t.Logf("agent log:\n%s\nsnmpd log:\n%s", agentLog, r.File(t, "snmpd.log"))
	}
}
