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

// productionSetup runs snmpd the way the operator documentation says (the
// AgentX socket in a root-owned directory, group-accessible socket, a view
// for the LVS-MIB given to a v2c community and an SNMPv3 user; the socket is
// under /run, the scenario's own tmpfs, not the host's /var) and defines
// helpers: snmpd_start CONF, snmpd_stop, agent_as CAPS LOG [flags] (starts
// lvs-agentx as nobody:nogroup holding exactly CAPS, e.g. "+net_admin" or
// "" for none), agent_stop; waitserved (test/scenario) waits until snmpd
// serves the agent.
const productionSetup = `
export SNMP_PERSISTENT_DIR=$WORK/persist
mkdir -p $WORK/persist /run/lvs-agentx mibs
chown 65534:65534 /run/lvs-agentx
for f in /usr/lib/erlang/lib/snmp-*/mibs/{SNMPv2-SMI,SNMPv2-TC,SNMPv2-CONF,SNMPv2-MIB,INET-ADDRESS-MIB}.mib; do ln -sf "$f" mibs/; done
lvs-agentx mib --dir mibs
cat > snmpd-good.conf <<CONF
master agentx
agentXSocket /run/agentx/master
agentXPerms 0660 0755 root nogroup
view lvsview included .1.3.6.1.4.1.8225.4711
rocommunity public 127.0.0.1 -V lvsview
createUser u SHA authpass12 AES privpass12
rouser u priv -V lvsview
CONF
grep -v '^master agentx' snmpd-good.conf > snmpd-nomaster.conf
sed 's/^agentXPerms .*/agentXPerms 0600 0755 root root/' snmpd-good.conf > snmpd-perms.conf
snmpd_start() { # CONF [snmpd flags]; the log is on the guest's tmpfs (fast)
	conf=$1; shift
	snmpd -f -C -c "$conf" -Lf /run/snmpd.log "$@" -p /run/snmpd.pid udp:127.0.0.1:1161 &
	SNMPD=$!
	for i in $(seq 50); do
		snmpget -v2c -c public -t 0.2 -r 0 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711.9.0 2>&1 | grep -q 'Timeout' || break
		sleep 0.1
	done
}
snmpd_stop() { kill -TERM $SNMPD; wait $SNMPD; }
agent_as() {
	caps=$1 log=$2; shift 2
	LVS_AGENTX_AGENTX=/run/agentx/master setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all$caps --ambient-caps=-all$caps --bounding-set=-all$caps \
		lvs-agentx run --state-file /run/lvs-agentx/indexes.json --cache-ttl 1s "$@" 2>>"$log" &
	AGENT=$!
}
agent_stop() { kill -TERM $AGENT; wait $AGENT; echo "agent exit $?"; }
`

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
		Script: scenario.Script(scenario.Setup{}, scenarioSetup+`
set +e
for i in 1 2 3 4 5 6; do curl -sf -o /dev/null http://10.99.0.1/; done
sleep 3
`+productionSetup+`
# a. least privilege: nobody with CAP_NET_ADMIN only.
snmpd_start snmpd-good.conf
agent_as ,+net_admin agent.log
waitserved
grep Cap /proc/$AGENT/status > agent-caps.txt
ps -o user= -p $AGENT > agent-user.txt
snmpbulkwalk -v2c -c public -On -t 5 -Cr50 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711 > walk.txt
snmpbulkwalk -v2c -c public -t 5 -M +$WORK/mibs -m +LVS-MIB 127.0.0.1:1161 LVS-MIB::lvsServiceTable > named.txt 2> named.err

# b. check, v2c and v3, with traffic flowing meanwhile.
(for i in $(seq 20); do curl -sf -o /dev/null http://10.99.0.1/; sleep 0.2; done) &
TRAFFIC=$!
lvs-agentx check --snmp udp:127.0.0.1:1161 --community public > check-v2c.txt 2>&1; echo "exit $?" >> check-v2c.txt
lvs-agentx check --snmp udp:127.0.0.1:1161 --user u --auth-pass authpass12 --priv-pass privpass12 > check-v3.txt 2>&1; echo "exit $?" >> check-v3.txt
wait $TRAFFIC
snmpbulkwalk -v3 -l authPriv -u u -a SHA -A authpass12 -x AES -X privpass12 -On -t 5 -Cr50 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711 > walk-v3.txt 2> walk-v3.err
# c. a wrong community, and wrong SNMPv3 credentials.
lvs-agentx check --snmp udp:127.0.0.1:1161 --community private --timeout 1s > check-community.txt 2>&1; echo "exit $?" >> check-community.txt
lvs-agentx check --snmp udp:127.0.0.1:1161 --user u --auth-pass wrongpass12 --priv-pass privpass12 --timeout 1s > check-v3-wrong.txt 2>&1; echo "exit $?" >> check-v3-wrong.txt

agent_stop > /dev/null
rm -f /run/lvs-agentx/indexes.json

# c. no capability: the agent keeps running and says what is missing.
agent_as "" agent-nocap.log
waitserved
sleep 0.5
snmpget -v2c -c public -On 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711.9.0 > nocap-available.txt
lvs-agentx check --snmp udp:127.0.0.1:1161 > check-nocap.txt 2>&1; echo "exit $?" >> check-nocap.txt
kill -0 $AGENT && echo running > nocap-running.txt
agent_stop > /dev/null
snmpd_stop

# d. SIGTERM: exit 0, Close seen by snmpd (its AgentX debug log), state written.
snmpd_start snmpd-good.conf -Dagentx/master
agent_as ,+net_admin agent-term.log
waitserved
agent_stop > agent-exit.txt
sleep 0.5
grep -i 'close' /run/snmpd.log > snmpd-close.txt
cp /run/lvs-agentx/indexes.json state.json
snmpd_stop

# c. the socket is the master's alone (0600 root): the agent may not connect.
snmpd_start snmpd-perms.conf
ls -l /run/agentx/master > perms-socket.txt
agent_as ,+net_admin agent-perms.log
sleep 3
lvs-agentx check --snmp udp:127.0.0.1:1161 > check-perms.txt 2>&1; echo "exit $?" >> check-perms.txt
agent_stop > /dev/null
snmpd_stop

# c. snmpd without "master agentx".
snmpd_start snmpd-nomaster.conf
agent_as ,+net_admin agent-nomaster.log
sleep 2
lvs-agentx check --snmp udp:127.0.0.1:1161 > check-nomaster.txt 2>&1; echo "exit $?" >> check-nomaster.txt
agent_stop > /dev/null
snmpd_stop
exit 0
`)})
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
