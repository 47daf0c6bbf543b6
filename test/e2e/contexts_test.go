package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/snmpd"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// contextsSetup makes three network namespaces with `ip netns`, each with
// its own services, real servers and traffic, and a service of the
// scenario's own namespace (the default context). In each, the estimator
// is stopped once the traffic is counted and ipvsadm's listings are saved
// as NAME-ln.txt, NAME-stats.txt and NAME-rate.txt (default-... for the
// scenario's own).
var contextsSetup = scriptOf("contexts-setup.sh")

// contextsRun starts snmpd (contexts reachable by v2c community and by
// SNMPv3 context name) and the agent serving /run/netns, walks every
// context both ways, then follows a namespace created and one deleted
// while the agent runs, restarts the agent and re-creates the deleted one.
var contextsRun = scriptOf("contexts-run.sh")

// TestContexts serves three network namespaces and the scenario's own
// through one agent: each context, walked through snmpd by SNMPv3 context
// name and by its v2c community, equals ipvsadm in that namespace column
// by column; a namespace created while the agent runs is served within
// seconds, a deleted one disappears, and every context keeps its indexes
// across an agent restart and a re-creation.
func TestContexts(t *testing.T) {
	t.Parallel()
	names := []string{"red", "green", "blue", "yellow"}
	conf := scenario.Master(snmpd.ContextConfig(names...)...)
	conf.PersistentDir = "$WORK/persist"
	agent := e2eAgent()
	agent.NetnsDir, agent.LogLevel = "/run/netns", "debug"
	run := fmt.Sprintf("CTX_USER=%s CTX_PASS=%s\n", snmpd.ContextUser, snmpd.ContextPass) + contextsRun
	r := testbed.MustRun(t, testbed.Scenario{
		Binaries: map[string]string{"lvs-agentx": agentPkg},
		Timeout:  8 * time.Minute,
		Script:   scenario.Script(scenario.Setup{SNMPD: conf, Agent: agent}, contextsSetup+run),
	})
	agentLog := string(r.File(t, "agent.log"))
	defer func() {
		if t.Failed() {
			t.Logf("agent log:\n%s", agentLog)
		}
	}()
	own := agentOwned()

	// Every context, both ways, equals ipvsadm in its namespace; the
	// default context serves the scenario's own namespace.
	walks := map[string]*walkResult{}
	for _, ns := range []string{"default", "red", "green", "blue"} {
		w := parseWalk(t, string(r.File(t, ns+"-v2c.txt")))
		checkRowsAgainstIpvsadm(t, ns+" (v2c)", r, w, ns+"-")
		if ns != "default" {
			v3 := parseWalk(t, string(r.File(t, ns+"-v3.txt")))
			checkRowsAgainstIpvsadm(t, ns+" (v3)", r, v3, ns+"-")
			sameWalk(t, ns+": v3 walk vs v2c walk", v3, w, own)
		}
		services := 0
		for name := range w.rowIndexes() {
			if !strings.Contains(name, " -> ") {
				services++
			}
		}
		if got := w.values[oidOf("lvsNumServices")+".0"]; got != "INTEGER: "+strconv.Itoa(services) {
			t.Errorf("%s: lvsNumServices.0 = %s, want %d", ns, got, services)
		}
		walks[ns] = w
	}
	// check and dump, per context.
	for _, f := range []string{"check-blue-v3.txt", "check-red-v2c.txt"} {
		if got := string(r.File(t, f)); !strings.HasPrefix(got, "OK: ") {
			t.Errorf("%s: %s", f, got)
		}
	}
	if got := string(r.File(t, "check-mismatch.txt")); !strings.HasPrefix(got, "PROBLEM") {
		t.Errorf("check of context red against namespace blue found nothing wrong: %s", got)
	}
	sameWalk(t, "dump --netns /run/netns/red", parseWalk(t, string(r.File(t, "red-dump.txt"))), walks["red"], own)
	if got := string(r.File(t, "default-v3-nocontext.txt")); strings.Contains(got, lvs+".") {
		t.Errorf("SNMPv3 context \"default\" is served, but no namespace has that name:\n%s", got)
	}

	// A namespace created while running: served within a few seconds (the
	// directory is looked at every 2 s; then one read, a registration, and
	// a probe every 0.2 s plus an snmpget's start-up, slow in an emulator).
	s := seconds(t, map[string]string{"t": strings.TrimSpace(string(r.File(t, "yellow-served.txt")))}, "t")
	t.Logf("a namespace created while the agent runs was served through snmpd %.1f s later", s)
	if s > 5 {
		t.Errorf("new namespace served after %.1f s, want within 5 s", s)
	}
	yellow := parseWalk(t, string(r.File(t, "yellow-v3.txt")))
	if got := fmt.Sprint(yellow.rowIndexes()); got != "map[TCP 10.4.0.1:80:1 TCP 10.4.0.1:80 -> 10.4.1.1:80:1.1]" {
		t.Errorf("new namespace's rows: %s", got)
	}
	s = seconds(t, map[string]string{"t": strings.TrimSpace(string(r.File(t, "green-gone.txt")))}, "t")
	t.Logf("a namespace deleted while the agent runs was gone from snmpd %.1f s later", s)
	if s > 5 {
		t.Errorf("deleted namespace still served %.1f s later, want within 5 s", s)
	}
	if !strings.Contains(agentLog, `"network namespace gone; its context is no longer served" context=green`) {
		t.Errorf("no log line for the deleted namespace")
	}
	if got := strings.TrimSpace(string(r.File(t, "agent-exit.txt"))); got != "agent exit 0" {
		t.Errorf("SIGTERM: %s", got)
	}

	// Indexes per context survive the restart and the re-creation.
	walks["yellow"] = yellow
	for _, ns := range []string{"red", "blue", "yellow"} {
		after := parseWalk(t, string(r.File(t, ns+"-restarted.txt"))).rowIndexes()
		if got, want := fmt.Sprint(after), fmt.Sprint(walks[ns].rowIndexes()); got != want {
			t.Errorf("%s after an agent restart: %s, was %s", ns, got, want)
		}
	}
	recreated := parseWalk(t, string(r.File(t, "green-recreated.txt"))).rowIndexes()
	if got, want := fmt.Sprint(recreated), fmt.Sprint(walks["green"].rowIndexes()); got != want {
		t.Errorf("green re-created after a restart: %s, was %s", got, want)
	}
}
