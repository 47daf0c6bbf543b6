package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// TestProduction runs the agent as an operator would, with real IPVS and a real
// snmpd configured as the operator documentation says: an unprivileged
// agent holding only CAP_NET_ADMIN serves an SNMPv2c community and an
// SNMPv3 user, "check" agrees, SIGTERM closes the session cleanly, and each
// misconfiguration (no capability, no "master agentx", a socket the agent
// may not use, a wrong community) is named by check or the agent's log.
func TestProduction(t *testing.T) {
	t.Parallel()
	r := testbed.Run(t, testbed.Scenario{
		Binaries: map[string]string{"lvs-agentx": agentPkg},
		Timeout:  6 * time.Minute,
		Script:   scenario.Script(scenario.Setup{}, scenarioSetup+scriptOf("production.sh"))})
	if r.ExitCode != 0 {
		t.Fatalf("guest: %s", r.Describe())
	}
	file := func(name string) string { return string(r.File(t, name)) }
	t.Logf("agent log:\n%s", file("agent.log"))
	if os.Getenv("LVS_PRODUCTION_SHOW") != "" {
		t.Logf("named walk:\n%s", file("named.txt"))
	}

	// a. nobody, holding CAP_NET_ADMIN (bit 12) and nothing else.
	if u := strings.TrimSpace(file("agent-user.txt")); u != "nobody" {
		t.Errorf("agent runs as %q, want nobody", u)
	}
	for _, l := range strings.Split(strings.TrimSpace(file("agent-caps.txt")), "\n") {
		if !strings.HasSuffix(l, "0000000000001000") {
			t.Errorf("agent capabilities: %q, want CAP_NET_ADMIN only", l)
		}
	}
	walk := parseWalk(t, file("walk.txt"))
	rows := walk.rowIndexes()
	if len(rows) < 20 || rows["TCP 10.99.0.1:80"] == "" {
		t.Errorf("unprivileged agent serves %d rows (%v), want the scenario's", len(rows), rows)
	}
	if v := walk.values[lvs+".9.0"]; v != "INTEGER: 1" {
		t.Errorf("lvsIpvsAvailable = %q with CAP_NET_ADMIN, want 1", v)
	}
	named := file("named.txt")
	if !strings.Contains(named, `LVS-MIB::lvsServiceName`) || !regexp.MustCompile(`LVS-MIB::lvsServiceName\.\d+ = STRING: TCP 10\.99\.0\.1:80\n`).MatchString(named) {
		t.Errorf("walk by name does not show the service names:\n%s", named)
	}
	// -m +LVS-MIB also loads the default modules, absent here without
	// snmp-mibs-downloader; only complaints about ours and what they import
	// count.
	for _, l := range strings.Split(file("named.err"), "\n") {
		if regexp.MustCompile(`LVS-MIB|OC-MIB|INET-ADDRESS-MIB|SNMPv2-(SMI|TC|CONF)`).MatchString(l) {
			t.Errorf("snmpwalk -m +LVS-MIB: %s", l)
		}
	}

	// b. check says OK with v2c and v3; a v3 walk works.
	for _, f := range []string{"check-v2c.txt", "check-v3.txt"} {
		out := file(f)
		if !strings.HasPrefix(out, "OK: ") || !strings.HasSuffix(out, "exit 0\n") {
			t.Errorf("%s:\n%s", f, out)
		}
	}
	v3 := parseWalk(t, file("walk-v3.txt"))
	if len(v3.order) != len(walk.order) || v3.values[lvs+".9.0"] != "INTEGER: 1" {
		t.Errorf("SNMPv3 walk has %d varbinds, v2c %d; stderr %s", len(v3.order), len(walk.order), file("walk-v3.err"))
	}

	// c. misconfigurations are named.
	mustSay(t, "wrong community: check", file("check-community.txt"), `(?s)PROBLEM.*does not answer.*community.*exit [1-9]`)
	mustSay(t, "wrong SNMPv3 password: check", file("check-v3-wrong.txt"), `(?s)PROBLEM.*refused the SNMPv3 credentials.*exit [1-9]`)
	mustSay(t, "no capability: lvsIpvsAvailable", file("nocap-available.txt"), `INTEGER: 2`)
	mustSay(t, "no capability: agent log", file("agent-nocap.log"), `IPVS unreadable.*CAP_NET_ADMIN`)
	mustSay(t, "no capability: check", file("check-nocap.txt"), `(?s)^PROBLEM: 1 finding.*IPVS unavailable.*CAP_NET_ADMIN.*exit [1-9]`)
	if strings.TrimSpace(file("nocap-running.txt")) != "running" {
		t.Errorf("the agent without CAP_NET_ADMIN did not keep running:\n%s", file("agent-nocap.log"))
	}
	t.Logf("socket with agentXPerms 0600: %s", file("perms-socket.txt"))
	mustSay(t, "socket permissions: agent log", file("agent-perms.log"), `permission denied on snmpd's AgentX socket: set agentXPerms`)
	mustSay(t, "socket permissions: check", file("check-perms.txt"), `(?s)PROBLEM.*not registered.*agentXPerms.*exit [1-9]`)
	mustSay(t, "no master agentx: check", file("check-nomaster.txt"), `(?s)PROBLEM.*master agentx.*exit [1-9]`)
	mustSay(t, "no master agentx: agent log", file("agent-nomaster.log"), `not accepting AgentX connections.*'master agentx'`)

	// d. SIGTERM: exit 0, snmpd saw the Close, the state file is there.
	if got := strings.TrimSpace(file("agent-exit.txt")); got != "agent exit 0" {
		t.Errorf("SIGTERM: %s", got)
	}
	mustSay(t, "SIGTERM: snmpd's AgentX debug log", file("snmpd-close.txt"), `agentx/master: close`)
	state := file("state.json")
	if !strings.Contains(state, "10.99.0.1") {
		t.Errorf("state file after SIGTERM lacks the services:\n%s", state)
	}
}

// mustSay fails unless text matches the regular expression.
func mustSay(t *testing.T, what, text, re string) {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(text) {
		t.Errorf("%s does not match %s:\n%s", what, re, text)
	}
}
