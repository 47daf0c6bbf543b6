package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// setdeletedPkg deletes a real server between a SET's TestSet and its
// CommitSet in the real kernel.
const setdeletedPkg = "github.com/lvs-agentx/lvs-agentx/test/cmd/setdeleted"

// The SNMPv3 user allowed to write, as snmpd.conf.example names it.
const (
	opUser = "operator"
	opAuth = "opauthpass1"
	opPriv = "oppriv12345"
)

// maintenanceConf is snmpd.conf as dist/snmpd.conf.example documents
// maintenance by SET: its lvsview and lvswrite views and its operator group
// and access lines, uncommented, with the operator user created; the v2c
// community stays read-only.
func maintenanceConf(t *testing.T) []string {
	b, err := os.ReadFile("../../dist/snmpd.conf.example")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimPrefix(l, "#")
		if strings.HasPrefix(l, "view lvs") || strings.HasPrefix(l, "group lvsoperators ") ||
			strings.HasPrefix(l, "access lvsoperators ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 6 {
		t.Fatalf("snmpd.conf.example: %d lines of maintenance by SET, want 6 (lvsview, 3 x lvswrite, group, access): %q", len(lines), lines)
	}
	return append(lines, fmt.Sprintf("createUser %s SHA %s AES %s", opUser, opAuth, opPriv))
}

// kernelWeights parses ipvsadm -Ln into "VIP REAL" -> weight.
func kernelWeights(text string) map[string]int {
	out := map[string]int{}
	vip := ""
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 3 && (f[0] == "TCP" || f[0] == "UDP"):
			vip = f[1]
		case len(f) >= 4 && f[0] == "->" && f[1] != "RemoteAddress:Port":
			w, _ := strconv.Atoi(f[3])
			out[vip+" "+f[1]] = w
		}
	}
	return out
}

// TestMaintenanceBySET drains and restores real servers and a whole service
// with net-snmp's snmpset through a real snmpd configured as
// snmpd.conf.example says, against real IPVS: refused without --writable,
// by the v2c community, by the SNMPv3 user without privacy, for a wrong
// type, an out-of-range weight, a row that does not exist, a read-only
// column and one invalid varbind among valid ones, each with the kernel
// unchanged; a drain sets the kernel's weight to 0 while a connection open
// through it finishes and new ones go elsewhere; enabled brings the weights
// back after an agent restart; check passes after the drains; lvsChanges and
// the log show each change; 20 managers setting at once leave one whole
// SET's weights while GETs go on.
func TestMaintenanceBySET(t *testing.T) {
	t.Parallel()
	conf := scenario.Master(maintenanceConf(t)...)
	conf.PersistentDir = "$WORK/persist"
	agent := e2eAgent()
	agent.LogLevel = "debug" // each change the reads see
	vars := fmt.Sprintf("OP_USER=%s OP_AUTH=%s OP_PRIV=%s\n", opUser, opAuth, opPriv)
	r := testbed.MustRun(t, testbed.Scenario{
		Binaries: map[string]string{"lvs-agentx": agentPkg, "setdeleted": setdeletedPkg},
		Timeout:  8 * time.Minute,
		Script:   scenario.Script(scenario.Setup{SNMPD: conf, Agent: agent}, vars+scriptOf("maintenance.sh")),
	})
	defer func() {
		if t.Failed() {
			t.Logf("agent log:\n%s", r.File(t, "agent.log"))
		}
	}()
	start := kernelWeights(string(r.File(t, "start-ln.txt")))
	want := map[string]int{"10.98.0.1:80 127.0.0.1:8081": 3, "10.98.0.1:80 127.0.0.1:8082": 5,
		"10.98.0.2:80 10.96.1.1:80": 2, "10.98.0.2:80 10.96.1.2:80": 4}
	if !equalWeights(start, want) {
		t.Fatalf("start: %v, want %v", start, want)
	}
	if a, b := string(r.File(t, "ipvsadm-65535.out")), string(r.File(t, "ipvsadm-65536.out")); a != "rc=0\n" || strings.Contains(b, "rc=0") {
		t.Errorf("ipvsadm -w 65535: %q, -w 65536: %q; want the first accepted, the second refused", a, b)
	}
	names := string(r.File(t, "names.txt"))
	for _, n := range []string{`18.1.31.1.1 = STRING: "127.0.0.1:8081"`, `18.1.31.1.2 = STRING: "127.0.0.1:8082"`,
		`18.1.31.2.1 = STRING: "10.96.1.1:80"`, `18.1.31.2.2 = STRING: "10.96.1.2:80"`, `17.1.34.2 = STRING: "TCP 10.98.0.2:80"`} {
		if !strings.Contains(names, n) {
			t.Errorf("rows are not numbered as the script assumes: no %s in\n%s", n, names)
		}
	}

	// snmpd refuses the community and the user without privacy itself
	// (its VACM: noAccess or authorizationError); the rest are the
	// agent's answers, passed on.
	refusals := []struct{ step, want string }{
		{"nowrite", "notWritable"},
		{"v2c", "access"},
		{"authnopriv", "access"},
		{"wrongtype", "wrongType"},
		{"range", "wrongValue"},
		{"negative", "wrongValue"},
		{"norow", "noCreation"},
		{"oneinvalid", "wrongValue"},
		{"readonly", "access"}, // not in the user's write view
	}
	for _, rf := range refusals {
		out := string(r.File(t, rf.step+".out"))
		if strings.Contains(out, "rc=0") || !strings.Contains(strings.ToLower(out), strings.ToLower(rf.want)) {
			t.Errorf("%s: snmpset said %q, want a refusal with %s", rf.step, out, rf.want)
		}
		if got := kernelWeights(string(r.File(t, rf.step+"-ln.txt"))); !equalWeights(got, want) {
			t.Errorf("%s: kernel %v after the refusal, want it unchanged %v", rf.step, got, want)
		}
	}
	if out := string(r.File(t, "oneinvalid.out")); !strings.Contains(out, "Failed object: .1.3.6.1.4.1.8225.4711.18.1.6.2.2") {
		t.Errorf("one invalid varbind: the failed object is not the invalid one: %q", out)
	}

	kv := readKV(t, r, "kv.txt")
	held := kv["held"] // the real server the held connection went to
	other := map[string]string{"127.0.0.1:8081": "127.0.0.1:8082", "127.0.0.1:8082": "127.0.0.1:8081"}[held]
	if other == "" {
		t.Fatalf("the held connection went to %q, not a real server of 10.98.0.1:80:\n%s", held, r.File(t, "held-conns.txt"))
	}
	drained := copyWeights(want)
	drained["10.98.0.1:80 "+held] = 0
	steps := []struct {
		step string
		want map[string]int
	}{
		{"drain", drained},
		{"svcdrain", with(drained, "10.98.0.2:80 10.96.1.1:80", 0, "10.98.0.2:80 10.96.1.2:80", 0)},
		{"enable", want}, // after an agent restart
	}
	for _, s := range steps {
		if out := string(r.File(t, s.step+".out")); !strings.Contains(out, "rc=0") {
			t.Errorf("%s: snmpset failed: %q", s.step, out)
		}
		if got := kernelWeights(string(r.File(t, s.step+"-ln.txt"))); !equalWeights(got, s.want) {
			t.Errorf("%s: kernel %v, want %v", s.step, got, s.want)
		}
	}
	R := strings.TrimPrefix(held, "127.0.0.1:808")
	for file, lines := range map[string][]string{
		"drain-get.txt":    {"18.1.33.1." + R + " = INTEGER: 2", "18.1.6.1." + R + " = INTEGER: 0"},
		"svcdrain-get.txt": {"17.1.35.2 = INTEGER: 2", "18.1.6.2.1 = INTEGER: 0", "18.1.6.2.2 = INTEGER: 0"},
	} {
		got := string(r.File(t, file))
		for _, l := range lines {
			if !strings.Contains(got, l) {
				t.Errorf("GET right after the SET: no %q in %q", l, got)
			}
		}
	}
	heldPort := strings.TrimPrefix(held, "127.0.0.1:")
	if got := string(r.File(t, "held.txt")); !strings.Contains(got, "200 OK") || !strings.Contains(got, "r"+heldPort) {
		t.Errorf("the connection open through the drained %s did not finish there: %q", held, got)
	}
	otherPort := strings.TrimPrefix(other, "127.0.0.1:")
	if got := strings.Fields(string(r.File(t, "new.txt"))); len(got) != 10 || strings.Count(strings.Join(got, " "), "r"+otherPort) != 10 {
		t.Errorf("new connections after the drain: %q, want 10 answers from %s", got, other)
	}
	for _, f := range []string{"check-drained.txt", "check-enabled.txt"} {
		if got := string(r.File(t, f)); !strings.HasPrefix(got, "OK: ") || !strings.Contains(got, "rc=0") {
			t.Errorf("lvs-agentx check (%s): %q", f, got)
		}
	}
	if !strings.Contains(string(r.File(t, "state-drained.json")), `"drained_weight"`) {
		t.Errorf("the state file keeps no drained weight: %s", r.File(t, "state-drained.json"))
	}
	checkChangesCounted(t, r, kv, held)
	checkManyManagers(t, r)
	checkDeletedBeforeCommit(t, r)
}

// checkDeletedBeforeCommit: a real server deleted between TestSet and
// CommitSet (the last one the commit writes) fails the commit
// (commitFailed, 14) at the service's varbind after two writes, the undo
// puts both back, and the kernel keeps the other real servers' weights.
func checkDeletedBeforeCommit(t *testing.T, r *testbed.Result) {
	out := string(r.File(t, "deleted.out"))
	for _, l := range []string{"testset=0\n", "commit=14 index=0\n", "undo=0\n", "rc=0\n"} {
		if !strings.Contains(out, l) {
			t.Errorf("deleted between TestSet and CommitSet: no %q in %q\n%s", l, out, r.File(t, "deleted.log"))
		}
	}
	m := regexp.MustCompile(`deleted=(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no real server deleted: %q", out)
	}
	want := map[string]int{"10.98.0.3:80 10.96.3.1:80": 2, "10.98.0.3:80 10.96.3.2:80": 3, "10.98.0.3:80 10.96.3.3:80": 4}
	delete(want, "10.98.0.3:80 "+m[1])
	got := kernelWeights(string(r.File(t, "deleted-ln.txt")))
	for k := range got {
		if !strings.HasPrefix(k, "10.98.0.3:80 ") {
			delete(got, k)
		}
	}
	if !equalWeights(got, want) {
		t.Errorf("after the failed commit and its undo: %v, want %v", got, want)
	}
	if log := string(r.File(t, "deleted.log")); strings.Count(log, "SET undone") != 2 || !strings.Contains(log, "SET failed") {
		t.Errorf("setdeleted's log: want SET failed and 2 x SET undone:\n%s", log)
	}
}

// checkChangesCounted: lvsChanges grew by the three changes the drains made
// and the four the reads saw in them (held quiesced; the two real servers
// of service 2 quiesced and service 2 down), and the log has a line per
// change.
func checkChangesCounted(t *testing.T, r *testbed.Result, kv map[string]string, held string) {
	count := func(k string) int {
		n, err := strconv.Atoi(kv[k][strings.LastIndex(kv[k], " ")+1:])
		if err != nil {
			t.Fatalf("%s: %q", k, kv[k])
		}
		return n
	}
	if d := count("changes1") - count("changes0"); d != 7 {
		t.Errorf("lvsChanges grew by %d over the drains, want 7 (3 SET changes, 4 changes read)", d)
	}
	log := string(r.File(t, "set-log.txt"))
	for _, l := range []string{
		`msg="SET committed" context="" service="TCP 10.98.0.1:80" real=` + held + ` object=lvsRealServerAdminState old_weight=` +
			map[string]string{"127.0.0.1:8081": "3", "127.0.0.1:8082": "5"}[held] + ` new_weight=0`,
		`msg="SET committed" context="" service="TCP 10.98.0.2:80" real=10.96.1.1:80 object=lvsServiceAdminState old_weight=2 new_weight=0`,
		`msg="SET committed" context="" service="TCP 10.98.0.2:80" real=10.96.1.2:80 object=lvsServiceAdminState old_weight=4 new_weight=0`,
		`msg="SET committed" context="" service="TCP 10.98.0.2:80" real=10.96.1.2:80 object=lvsServiceAdminState old_weight=0 new_weight=4`,
	} {
		if !strings.Contains(log, l) {
			t.Errorf("log lacks %s", l)
		}
	}
}

var getLine = regexp.MustCompile(`18\.1\.6\.1\.1 = INTEGER: (\d+) .*18\.1\.6\.1\.2 = INTEGER: (\d+) .*18\.1\.6\.2\.1 = INTEGER: (\d+)`)

// checkManyManagers: after 20 concurrent SETs of (10+i, 100+i, 200+i) the
// kernel holds one i's three weights, at least one SET succeeded, and the
// GETs made meanwhile were all answered, each with one SET's weights or
// those before.
func checkManyManagers(t *testing.T, r *testbed.Result) {
	k := kernelWeights(string(r.File(t, "many-ln.txt")))
	i := k["10.98.0.1:80 127.0.0.1:8081"] - 10
	if i < 1 || i > 20 || k["10.98.0.1:80 127.0.0.1:8082"] != 100+i || k["10.98.0.2:80 10.96.1.1:80"] != 200+i {
		t.Errorf("after 20 managers: %v, want one SET's (10+i, 100+i, 200+i)", k)
	}
	out := string(r.File(t, "many.out"))
	if ok := strings.Count(out, "rc=0"); ok < 1 {
		t.Errorf("no SET of the 20 succeeded:\n%s", out)
	} else {
		t.Logf("%d of 20 concurrent SETs succeeded", ok)
	}
	gets := strings.Split(strings.TrimSpace(string(r.File(t, "gets.txt"))), "\n")
	answered := 0
	for _, g := range gets {
		m := getLine.FindStringSubmatch(g)
		if m == nil {
			t.Errorf("GET during the SETs not answered: %q", g)
			continue
		}
		answered++
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		c, _ := strconv.Atoi(m[3])
		if (a != 3 || b != 5 || c != 2) && (b != a+90 || c != a+190) {
			t.Errorf("GET during the SETs saw %d %d %d: no one SET's weights", a, b, c)
		}
	}
	if answered != 200 {
		t.Errorf("%d of 200 GETs answered during the SETs", answered)
	}
}

func equalWeights(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func copyWeights(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func with(m map[string]int, kv ...any) map[string]int {
	out := copyWeights(m)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1].(int)
	}
	return out
}
