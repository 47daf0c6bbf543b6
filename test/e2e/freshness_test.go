package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// TestFreshAfterIdleGap is the poller's view of freshness: one poll, then
// traffic and an idle gap longer than the cache TTL, then one get. With the
// agent's default flags the get must return the kernel's value of now, not
// the value of the previous poll.
func TestFreshAfterIdleGap(t *testing.T) {
	t.Parallel()
	r := testbed.MustRun(t, testbed.Scenario{
		Binaries: map[string]string{"lvs-agentx": agentPkg},
		Timeout:  3 * time.Minute,
		// The agent's default flags: the freshness a poller gets.
		Script: scenario.Script(scenario.Setup{SNMPD: scenario.Master(), Agent: scenario.DefaultAgent()}, `
set -eu
ip addr add 10.98.0.1/32 dev lo
ipvsadm -A -t 10.98.0.1:80 -s rr
ipvsadm -a -t 10.98.0.1:80 -r 127.0.0.1:8080 -m
mkdir -p /tmp/www && head -c 1000 /dev/zero > /tmp/www/index.html
busybox httpd -p 127.0.0.1:8080 -h /tmp/www
startsnmpd
startagent
CONNS=.1.3.6.1.4.1.8225.4711.17.1.25.1
get() { snmpget -v2c -c public -On -m '' -Oqv 127.0.0.1:1161 $CONNS; }
for i in $(seq 100); do [ "$(get 2>/dev/null)" = 0 ] && break; sleep 0.2; done
echo "poll $(get)" > kv.txt
for i in $(seq 25); do curl -sf -o /dev/null http://10.98.0.1/; done
sleep 15 # idle: the kernel's estimator folds the counters, the agent's data ages past its TTL
echo "first_get $(get)" >> kv.txt
ipvsadm -Ln --stats --exact -t 10.98.0.1:80 | awk '$1 == "TCP" { print "kernel", $3 }' >> kv.txt
echo "second_get $(get)" >> kv.txt
`)})
	kv := readKV(t, r, "kv.txt")
	t.Logf("measurements: %v", kv)
	if kv["poll"] != "0" {
		t.Errorf("first poll = %q, want 0 (no traffic yet)", kv["poll"])
	}
	if kv["kernel"] != "25" {
		t.Fatalf("kernel counted %q connections, want 25\n%s", kv["kernel"], r.Describe())
	}
	if got := strings.TrimSpace(kv["first_get"]); got != kv["kernel"] {
		t.Errorf("first get after the idle gap = %q, kernel says %q: a stale answer", got, kv["kernel"])
	}
	if kv["second_get"] != kv["kernel"] {
		t.Errorf("second get = %q, kernel says %q", kv["second_get"], kv["kernel"])
	}
}
