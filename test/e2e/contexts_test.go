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
const contextsSetup = `
set -e
mkdir -p /tmp/www && head -c 1500 /dev/zero > /tmp/www/index.html
# inns NS CMD...: CMD in the namespace NS; "default" is the scenario's own.
inns() { if [ "$1" = default ]; then shift; "$@"; else ip netns exec "$@"; fi; }
# nsweb NS VIP PORT... : a web service at VIP:80 in NS, masqueraded to
# busybox httpd real servers on 127.0.0.1:PORT.
nsweb() {
	ns=$1 vip=$2; shift 2
	inns "$ns" ip addr add "$vip/32" dev lo
	inns "$ns" ipvsadm -A -t "$vip:80" -s rr
	for p in "$@"; do
		inns "$ns" busybox httpd -p "127.0.0.1:$p" -h /tmp/www
		inns "$ns" ipvsadm -a -t "$vip:80" -r "127.0.0.1:$p" -m
	done
}
# traffic NS URL N: N requests.
traffic() { for i in $(seq "$3"); do inns "$1" curl -sf -o /dev/null "$2"; done; }
listings() { # NS
	inns "$1" ipvsadm -Ln > "$1-ln.txt"
	inns "$1" ipvsadm -Ln --stats --exact > "$1-stats.txt"
	inns "$1" ipvsadm -Ln --rate --exact > "$1-rate.txt"
}
for ns in red green blue; do ip netns add $ns; ip -n $ns link set lo up; done

nsweb default 10.9.0.1 8090
nsweb red 10.1.0.1 8081 8082
ip netns exec red ipvsadm -A -u 10.1.0.2:53 -s wrr
ip netns exec red ipvsadm -a -u 10.1.0.2:53 -r 10.1.1.1:53 -g -w 4
nsweb green 10.2.0.1 8081
ip netns exec green ipvsadm -A -f 7 -s rr
ip netns exec green ipvsadm -a -f 7 -r 10.2.1.1 -g -w 0
ip netns exec green ipvsadm -A -t 10.2.0.9:25 -s lc
ip netns exec green ipvsadm -a -t 10.2.0.9:25 -r 10.2.1.2:25 -g
ip -n blue -6 addr add fd00::3/128 dev lo
nsweb blue 10.3.0.1 8081 8082 8083
ip netns exec blue ipvsadm -A -t [fd00::3]:443 -s mh
ip netns exec blue ipvsadm -a -t [fd00::3]:443 -r [fd00::30]:443 -g -w 2

traffic default http://10.9.0.1/ 2
traffic red http://10.1.0.1/ 4
traffic green http://10.2.0.1/ 3
traffic blue http://10.3.0.1/ 6
sleep 3 # the estimator's 2 s tick folds the traffic in
for ns in default red green blue; do inns $ns sysctl -qw net.ipv4.vs.run_estimation=0; done
sleep 1
for ns in default red green blue; do listings $ns; done
`

// contextsRun starts snmpd (contexts reachable by v2c community and by
// SNMPv3 context name) and the agent serving /run/netns, walks every
// context both ways, then follows a namespace created and one deleted
// while the agent runs, restarts the agent and re-creates the deleted one.
const contextsRun = `
mkdir -p persist
startsnmpd
v2c() { # CONTEXT TOOL ARGS...: a net-snmp tool reaching CONTEXT by its community
	c=public; [ "$1" = default ] || c=pub$1
	shift; tool=$1; shift
	$tool -v2c -c "$c" -On -m '' -t 5 -r 1 127.0.0.1:1161 "$@"
}
v3() { # CONTEXT TOOL ARGS...
	ctx=$1; shift; tool=$1; shift
	$tool -v3 -l authPriv -u CTX_USER -a SHA -A CTX_PASS -x AES -X CTX_PASS -n "$ctx" -On -m '' -t 5 -r 1 127.0.0.1:1161 "$@"
}
# ctxserved CONTEXT: the agent answers in it (lvsIpvsAvailable.0 = true(1)).
# One quick try: snmpd drops a v2c request for a context nobody serves, and
# the default timeout would make each miss cost seconds.
ctxserved() {
	c=public; [ "$1" = default ] || c=pub$1
	snmpget -v2c -c "$c" -On -m '' -t 0.5 -r 0 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711.9.0 2>/dev/null | grep -q 'INTEGER: 1'
}
# waitfor polls every 0.2 s here, at most 60 s; it prints the seconds since
# $T0 (when set) or since it began.
POLL=0.2
startagent
waitfor 60 ctxserved default > /dev/null
for ns in default red green blue; do
	waitfor 60 ctxserved $ns > /dev/null
	v2c $ns snmpwalk .1.3.6.1.4.1.8225.4711 > $ns-v2c.txt
done
for ns in red green blue; do v3 $ns snmpwalk .1.3.6.1.4.1.8225.4711 > $ns-v3.txt; done
# What an operator runs: check one context against its namespace (by v3
# context name, and by v2c community), and dump what the agent serves there.
lvs-agentx check --snmp udp:127.0.0.1:1161 --user CTX_USER --auth-pass CTX_PASS --priv-pass CTX_PASS \
	--context blue --netns /run/netns/blue > check-blue-v3.txt 2>&1 || true
lvs-agentx check --snmp udp:127.0.0.1:1161 --community pubred --netns /run/netns/red > check-red-v2c.txt 2>&1 || true
lvs-agentx check --snmp udp:127.0.0.1:1161 --community pubred --netns /run/netns/blue > check-mismatch.txt 2>&1 || true
lvs-agentx dump --format oids --netns /run/netns/red --state-file "$WORK/state.json" > red-dump.txt
v3 default snmpwalk .1.3.6.1.4.1.8225.4711 > default-v3-nocontext.txt || true

# A fourth namespace while the agent runs: the time from its creation until
# it is served through snmpd.
T0=${EPOCHREALTIME/./}; ip netns add yellow
waitfor 60 ctxserved yellow > yellow-served.txt
ip -n yellow link set lo up
ip netns exec yellow ipvsadm -A -t 10.4.0.1:80 -s rr
ip netns exec yellow ipvsadm -a -t 10.4.0.1:80 -r 10.4.1.1:80 -g
sleep 1.5 # past the cache TTL
v3 yellow snmpwalk .1.3.6.1.4.1.8225.4711 > /dev/null # starts the re-read
v3 yellow snmpwalk .1.3.6.1.4.1.8225.4711 > yellow-v3.txt

# One deleted while the agent runs: its context goes.
gone() { ! snmpget -v3 -l authPriv -u CTX_USER -a SHA -A CTX_PASS -x AES -X CTX_PASS -n green -On -m '' -t 0.5 -r 0 \
	127.0.0.1:1161 .1.3.6.1.4.1.8225.4711.9.0 2>/dev/null | grep -q 'INTEGER'; }
T0=${EPOCHREALTIME/./}; ip netns del green
waitfor 60 gone > green-gone.txt
unset T0

# An agent restart, then green re-created with its services in another
# order: each context keeps its numbers.
stopagent; echo "agent exit $?" > agent-exit.txt
startagent
for ns in red blue yellow; do waitfor 60 ctxserved $ns > /dev/null; v3 $ns snmpwalk .1.3.6.1.4.1.8225.4711 > $ns-restarted.txt; done
ip netns add green; ip -n green link set lo up
ip netns exec green ipvsadm -A -t 10.2.0.9:25 -s lc
ip netns exec green ipvsadm -a -t 10.2.0.9:25 -r 10.2.1.2:25 -g
ip netns exec green ipvsadm -A -f 7 -s rr
ip netns exec green ipvsadm -a -f 7 -r 10.2.1.1 -g -w 0
ip netns exec green ipvsadm -A -t 10.2.0.1:80 -s rr
ip netns exec green ipvsadm -a -t 10.2.0.1:80 -r 127.0.0.1:8081 -m
waitfor 60 ctxserved green > /dev/null
v3 green snmpwalk .1.3.6.1.4.1.8225.4711 > green-recreated.txt
stopagent
`

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
	run := strings.NewReplacer("CTX_USER", snmpd.ContextUser, "CTX_PASS", snmpd.ContextPass).Replace(contextsRun)
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
