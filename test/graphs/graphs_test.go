// Package graphs tests the graphing integrations users install (Cacti's
// data queries and templates, the RRDtool script) against the real agent:
// Cacti, MariaDB and RRDtool run on the host, the director with real IPVS
// in a scenario of its own (test/testbed), natively or in a guest.
package graphs

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/snmpd"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// trafficSetup is bash for a scenario (or the demo): two virtual services NATed
// to local busybox web servers, each serving one file of a known size.
// Service 10.99.0.1:80 balances over two real servers, 10.99.0.2:80 has
// one.
const trafficSetup = `
ip addr add 10.99.0.1/32 dev lo
ip addr add 10.99.0.2/32 dev lo
mkdir -p /tmp/www1 /tmp/www2
head -c 20000 /dev/urandom > /tmp/www1/f
head -c 50000 /dev/urandom > /tmp/www2/f
busybox httpd -p 127.0.0.1:8080 -h /tmp/www1
busybox httpd -p 127.0.0.1:8081 -h /tmp/www1
busybox httpd -p 127.0.0.1:8082 -h /tmp/www2
ipvsadm -A -t 10.99.0.1:80 -s rr
ipvsadm -a -t 10.99.0.1:80 -r 127.0.0.1:8080 -m
ipvsadm -a -t 10.99.0.1:80 -r 127.0.0.1:8081 -m
ipvsadm -A -t 10.99.0.2:80 -s rr
ipvsadm -a -t 10.99.0.2:80 -r 127.0.0.1:8082 -m
`

// File sizes served by trafficSetup, by service name.
var trafficFileSize = map[string]int{"TCP 10.99.0.1:80": 20000, "TCP 10.99.0.2:80": 50000}

// directorScript is the script of a director whose snmpd listens on
// addr:161 and answers community public from anywhere, its AgentX socket
// in /run, the agent with a 1 s cache TTL: scenario.Script's prelude, then
// body.
func directorScript(addr, body string) string {
	agent := scenario.DefaultAgent()
	agent.AgentX, agent.CacheTTL = "unix:/run/agentx.sock", "1s"
	return scenario.Script(scenario.Setup{
		SNMPD:  &snmpd.ConfigParams{AgentXSocket: "/run/agentx.sock", AnySource: true},
		Listen: "udp:" + addr + ":161", Target: addr, Agent: agent,
	}, body)
}

// agentSetup starts snmpd as AgentX master and lvs-agentx as its subagent,
// and waits until the LVS-MIB serves the first service.
const agentSetup = `
startsnmpd
startagent
waitserved 100 $LVS.17.1.34.1 TCP || { echo "LVS-MIB not served through snmpd"; cat "$WORK/agent.log" "$WORK/snmpd.log"; exit 1; }
`

// trafficRun drives HTTP requests at both services for TRAFFIC_SECONDS,
// 10.99.0.1 about three times as often as 10.99.0.2, logging the time of
// every completed request to $WORK/req-<service ip>.log. It uses bash
// builtins and busybox wget: process start-up is slow in an emulated guest.
const trafficRun = `
end=$(( EPOCHSECONDS + TRAFFIC_SECONDS ))
drive() { # ip pause
	while (( EPOCHSECONDS < end )); do
		busybox wget -q -O /dev/null "http://$1/f" && echo "$EPOCHREALTIME" >> "$WORK/req-$1.log"
		sleep "$2"
	done
}
drive 10.99.0.1 0.1 & d1=$!
drive 10.99.0.2 0.5 & d2=$!
wait $d1 $d2
`

// TestGraphsRRDtool runs contrib/rrdtool/lvs-rrd.sh against the real agent
// in a scenario while known traffic flows through two services, then checks
// with rrdtool fetch that the stored rates account for every connection
// and byte sent, the director's totals too, and that the graphs were
// rendered.
func TestGraphsRRDtool(t *testing.T) {
	t.Parallel()
	testutil.NeedTool(t, "rrdtool", "apt-get install -y rrdtool")
	testutil.NeedTool(t, "snmpbulkwalk", "apt-get install -y snmp")
	script, err := os.ReadFile("../../contrib/rrdtool/lvs-rrd.sh")
	if err != nil {
		t.Fatal(err)
	}
	// A 10 s step, and a heartbeat that tolerates late walks on a loaded
	// machine: rrdtool spreads a late update's increase over the gap.
	const step = 10
	// The rate check needs three whole steps between the first and last
	// request, trimmed by a step each side: 60 s of traffic gave two when
	// the first request fell just after a step boundary (seen in CI).
	const trafficSeconds = 8 * step
	r := testbed.MustRun(t, testbed.Scenario{
		Timeout:  8 * time.Minute,
		Binaries: map[string]string{"lvs-agentx": "github.com/lvs-agentx/lvs-agentx/cmd/lvs-agentx"},
		Files:    map[string][]byte{"lvs-rrd.sh": script},
		Script: directorScript("127.0.0.1", "set -eu\n"+trafficSetup+agentSetup+fmt.Sprintf(`
rrd() { bash "$WORK/lvs-rrd.sh" -H 127.0.0.1 -s %d -b 60 -d "$WORK/rrd" "$@"; }
rrd run & poller=$!
sleep %d # two updates before any traffic: the first only sets the baseline
%s
sleep %d # the kernel's 2 s estimator tick, then two more updates
kill $poller
wait $poller || true
rrd -S end-180s -e now graph
ipvsadm -Ln --stats --exact
`, step, 2*step+1, strings.Replace(trafficRun, "TRAFFIC_SECONDS", strconv.Itoa(trafficSeconds), 1), 2*step+3)),
	})
	rrdDir := filepath.Join(r.Dir, "rrd")
	names := readNames(t, rrdDir)
	t.Logf("RRDs: %v", names)
	if len(names) != 6 || names["totals"] == "" {
		t.Fatalf("want the totals', 2 service and 3 real-server RRDs, got %v\n%s", names, r.Describe())
	}
	for base, name := range names {
		last := "active"
		if base == "totals" {
			last = "table"
		}
		for _, g := range []string{"conns", "packets", "bits", last} {
			fi, err := os.Stat(filepath.Join(rrdDir, base+"-"+g+".png"))
			if err != nil || fi.Size() < 2000 {
				t.Errorf("graph %s-%s.png (%s) missing or empty: %v", base, g, name, err)
			}
		}
	}
	if dst := os.Getenv("LVS_GRAPHS_OUT"); dst != "" {
		copyPNGs(t, rrdDir, dst)
	}

	reqs := map[string][]float64{
		"TCP 10.99.0.1:80": requestTimes(t, r, "req-10.99.0.1.log"),
		"TCP 10.99.0.2:80": requestTimes(t, r, "req-10.99.0.2.log"),
	}
	realConns := map[string]float64{} // per service, summed over its real servers
	var svcOutBytes float64
	for base, name := range names {
		series := fetchRRD(t, filepath.Join(rrdDir, base+".rrd"), step)
		if base == "totals" {
			continue
		}
		if strings.HasPrefix(base, "service-") {
			svcOutBytes += series.integral("outbytes")
			times, ok := reqs[name]
			if !ok {
				t.Errorf("unexpected service %q in %s", name, base)
				continue
			}
			checkServiceSeries(t, name, series, times, trafficFileSize[name])
			continue
		}
		svc := names["service-"+strings.SplitN(strings.TrimPrefix(base, "real-"), "-", 2)[0]]
		realConns[svc] += series.integral("conns")
	}
	for svc, times := range reqs {
		checkWithin(t, svc+" conns summed over its real servers", realConns[svc], float64(len(times)), 0.10)
	}
	// The namespace's totals: every request, every byte the services sent.
	totals := fetchRRD(t, filepath.Join(rrdDir, "totals.rrd"), step)
	checkWithin(t, "total conns (totals.rrd)", totals.integral("conns"), float64(len(reqs["TCP 10.99.0.1:80"])+len(reqs["TCP 10.99.0.2:80"])), 0.10)
	checkWithin(t, "total outbytes (totals.rrd) / the services' sum", totals.integral("outbytes"), svcOutBytes, 0.02)
}

// checkServiceSeries compares one service's RRD with the requests sent:
// the whole-run integral of the connection and byte rates against the
// totals, and the mean connection rate over the steady middle of the run.
func checkServiceSeries(t *testing.T, name string, s *rrdSeries, times []float64, size int) {
	t.Helper()
	n := float64(len(times))
	if n < 30 {
		t.Fatalf("%s: only %v requests logged", name, n)
	}
	checkWithin(t, name+" connections (integral of conns/s)", s.integral("conns"), n, 0.10)
	// Out bytes: the file plus HTTP and TCP/IP headers, a few percent more.
	checkWithin(t, name+" outbytes (integral of bytes/s) / (requests*file size)", s.integral("outbytes")/(n*float64(size)), 1.04, 0.06)
	for _, ds := range []string{"inpkts", "outpkts", "inbytes"} {
		if s.integral(ds) <= 0 {
			t.Errorf("%s: %s never moved", name, ds)
		}
	}
	// Rate: rows fully inside the traffic, trimmed by a step each side.
	from, to := times[0]+float64(s.step), times[len(times)-1]-float64(s.step)
	var sum, rows float64
	var lo, hi float64 = math.Inf(1), math.Inf(-1)
	for _, row := range s.rows {
		start := float64(row.time - s.step)
		if start < from || float64(row.time) > to || math.IsNaN(row.values["conns"]) {
			continue
		}
		sum += row.values["conns"]
		rows++
		lo, hi = math.Min(lo, start), math.Max(hi, float64(row.time))
	}
	if rows < 3 {
		t.Fatalf("%s: only %v RRD rows inside the traffic window", name, rows)
	}
	var sent float64
	for _, ts := range times {
		if ts >= lo && ts < hi {
			sent++
		}
	}
	checkWithin(t, name+" mean conns/s in the steady window", sum/rows, sent/(hi-lo), 0.10)
}

func checkWithin(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if want == 0 || math.Abs(got-want)/want > tol {
		t.Errorf("%s = %.3f, want %.3f within %.0f%%", what, got, want, tol*100)
		return
	}
	t.Logf("%s = %.3f, want %.3f: ok", what, got, want)
}

// rrdSeries is the output of rrdtool fetch at one resolution.
type rrdSeries struct {
	step int64
	rows []rrdRow
}

type rrdRow struct {
	time   int64 // end of the interval the values average over
	values map[string]float64
}

// integral sums rate*step over the known rows: for a COUNTER data source,
// the counter's increase over the stored period.
func (s *rrdSeries) integral(ds string) float64 {
	var sum float64
	for _, r := range s.rows {
		if v, ok := r.values[ds]; ok && !math.IsNaN(v) {
			sum += v * float64(s.step)
		}
	}
	return sum
}

// fetchRRD reads the AVERAGE consolidation at the given step for the last
// hour with rrdtool fetch.
func fetchRRD(t *testing.T, file string, step int64) *rrdSeries {
	t.Helper()
	out, err := exec.Command("rrdtool", "fetch", file, "AVERAGE", "-r", strconv.FormatInt(step, 10), "-s", "end-3600", "-e", "now").CombinedOutput()
	if err != nil {
		t.Fatalf("rrdtool fetch %s: %v\n%s", file, err, out)
	}
	s := &rrdSeries{step: step}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if names == nil {
			names = strings.Fields(line)
			continue
		}
		ts, rest, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("rrdtool fetch %s: bad line %q", file, line)
		}
		tm, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			t.Fatalf("rrdtool fetch %s: bad time in %q", file, line)
		}
		vals := strings.Fields(rest)
		if len(vals) != len(names) {
			t.Fatalf("rrdtool fetch %s: %d values for %d data sources: %q", file, len(vals), len(names), line)
		}
		row := rrdRow{time: tm, values: map[string]float64{}}
		for i, v := range vals {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				f = math.NaN() // "-nan" and "nan" for unknown
			}
			row.values[names[i]] = f
		}
		s.rows = append(s.rows, row)
	}
	if len(s.rows) < 2 {
		t.Fatalf("rrdtool fetch %s: no rows\n%s", file, out)
	}
	return s
}

// readNames maps each RRD's base name (service-N, real-N-M) to the Name
// column lvs-rrd.sh stored next to it.
func readNames(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.name"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		names[strings.TrimSuffix(filepath.Base(f), ".name")] = strings.TrimSpace(string(b))
	}
	return names
}

// requestTimes reads a log of completed request times (seconds, one a line).
func requestTimes(t *testing.T, r *testbed.Result, name string) []float64 {
	t.Helper()
	var times []float64
	for _, line := range strings.Fields(string(r.File(t, name))) {
		f, err := strconv.ParseFloat(line, 64)
		if err != nil {
			t.Fatalf("%s: bad time %q", name, line)
		}
		times = append(times, f)
	}
	sort.Float64s(times)
	return times
}

func copyPNGs(t *testing.T, from, to string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(from, "*.png"))
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("graphs copied to %s", to)
}
