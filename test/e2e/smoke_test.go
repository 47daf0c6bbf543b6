package e2e

import (
	"strings"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// TestSmokeIPVSCountersMove checks the test bed itself: a TCP virtual
// service NATed to a local web server counts the requests sent through it.
func TestSmokeIPVSCountersMove(t *testing.T) {
	t.Parallel()
	r := testbed.MustRun(t, testbed.Scenario{Script: `
set -e
ip addr add 10.99.0.1/32 dev lo
ipvsadm -A -t 10.99.0.1:80 -s rr
ipvsadm -a -t 10.99.0.1:80 -r 127.0.0.1:8080 -m
mkdir -p /tmp/www && head -c 1000 /dev/zero > /tmp/www/index.html
busybox httpd -p 127.0.0.1:8080 -h /tmp/www
for i in 1 2 3 4 5; do curl -sf -o /dev/null http://10.99.0.1/; done
# The kernel folds per-CPU counters into the totals on its estimator tick
# (every 2 s), so totals lag traffic by up to 2 s.
sleep 3
ipvsadm -Ln --stats --exact
`})
	var found bool
	for _, line := range strings.Split(r.Stdout, "\n") {
		f := strings.Fields(line)
		if len(f) != 7 || f[0] != "TCP" || f[1] != "10.99.0.1:80" {
			continue
		}
		found = true
		for i, name := range []string{"Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"} {
			if f[2+i] == "0" {
				t.Errorf("%s did not move: %q", name, line)
			}
		}
		if f[2] != "5" {
			t.Errorf("Conns = %s, want 5 (five requests): %q", f[2], line)
		}
	}
	if !found {
		t.Fatalf("no TCP 10.99.0.1:80 line in ipvsadm output:\n%s", r.Describe())
	}
}
