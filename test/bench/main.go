// Command bench runs the scale benchmark on the test bed (test/testbed) for all the
// sizes given (SERVICESxDESTS, e.g. 1000x10) and prints one line per
// measurement, "SIZE KEY VALUE", as the guest wrote them; BENCHMARKS.md
// explains each key.
//
//	go run ./test/bench 1x1 100x4 1000x10
//	go run ./test/bench -soak 10    # the soak test: 10 minutes
//	go run ./test/bench -conns 0 100000 1000000   # the connection table's read
//	go run ./test/bench -metrics 1x1 1000x10 5000x10   # /metrics against snmp_exporter
//
// Environment: BENCH_WALK_MAX (default 400) skips the slow GetNext
// snmpwalk above that many real servers; BENCH_BULK_MAX (default 10000)
// bulk-walks only the real servers' address column above that many (a
// whole 5000x10 subtree is 1.7 million varbinds), and keepalived's too;
// BENCH_PAIRS (default 4) is how many pairs of walks, ours and
// keepalived's, the yardstick takes at each size (an even count: two
// pairs make a block);
// BENCH_TIMEOUT (default 60m) bounds the guest; BENCH_BASELINE names
// another lvs-agentx binary (an absolute path the guest can see, e.g. a
// build of an older commit) whose bulkwalk is measured after ours at each
// size, for a before/after ratio within one run; BENCH_REFS=0 leaves out
// the IF-MIB references (snmpd's own tables and net-snmp's C subagent).
package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var sizeRE = regexp.MustCompile(`^[0-9]+x[0-9]+$`)

func run(args []string) error {
	if len(args) == 2 && args[0] == "-soak" {
		return soak(args[1])
	}
	if len(args) > 1 && args[0] == "-conns" {
		return conns(args[1:])
	}
	if len(args) > 1 && args[0] == "-metrics" {
		return metricsBench(args[1:])
	}
	sizes := args
	if len(sizes) == 0 {
		return fmt.Errorf("usage: bench SERVICESxDESTS...")
	}
	for _, s := range sizes {
		if !sizeRE.MatchString(s) {
			return fmt.Errorf("bad size %q, want SERVICESxDESTS", s)
		}
	}
	timeout := 60 * time.Minute
	if v := os.Getenv("BENCH_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("BENCH_TIMEOUT: %w", err)
		}
		timeout = d
	}
	walkMax, bulkMax := os.Getenv("BENCH_WALK_MAX"), os.Getenv("BENCH_BULK_MAX")
	refs := "1"
	if os.Getenv("BENCH_REFS") == "0" {
		refs = "0"
	}
	baseline := os.Getenv("BENCH_BASELINE")
	if baseline != "" {
		if _, err := os.Stat(baseline); err != nil {
			return fmt.Errorf("BENCH_BASELINE: %w", err)
		}
	}
	pairs := os.Getenv("BENCH_PAIRS")
	if pairs == "" {
		pairs = "6" // the fewest that give the median a 95% confidence bound
	}
	if n, err := strconv.Atoi(pairs); err != nil || n < 1 {
		return fmt.Errorf("BENCH_PAIRS %q: want a count of at least 1", pairs)
	}
	if walkMax == "" {
		walkMax = "400"
	}
	if bulkMax == "" {
		bulkMax = "10000"
	}
	return boot("bench", testbed.Scenario{
		Timing: true,
		Binaries: map[string]string{
			"lvs-agentx": "github.com/lvs-agentx/lvs-agentx/cmd/lvs-agentx",
			"ipvsbench":  "github.com/lvs-agentx/lvs-agentx/test/cmd/ipvsbench",
			"walkloop":   "github.com/lvs-agentx/lvs-agentx/test/cmd/walkloop",
		},
		Modules: []string{"dummy"},
		Mem:     1024,
		Timeout: timeout,
		Script: scenario.Script(scenario.Setup{SNMPD: benchConf, Agent: benchAgent("$WORK/state-$SIZE.json", "", "")}, "SIZES='"+strings.Join(sizes, " ")+"'\nWALK_MAX="+walkMax+
			"\nBULK_MAX="+bulkMax+"\nBASELINE='"+baseline+"'\nREFS="+refs+"\nPAIRS="+pairs+"\n"+benchScript),
	})
}

// boot runs s in a fresh guest and prints what its script printed.
func boot(name string, s testbed.Scenario) error {
	if err := umlMaps(s); err != nil {
		return err
	}
	dir, err := testbed.NewWorkDir(name)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r, err := testbed.Boot(context.Background(), dir, s)
	if r != nil {
		fmt.Print(summarize(r.Stdout))
		if r.ExitCode != 0 || err != nil {
			fmt.Fprint(os.Stderr, r.Describe())
		}
	}
	if err != nil {
		return err
	}
	if r.ExitCode != 0 {
		return fmt.Errorf("guest script failed")
	}
	return nil
}

// umlMapsWanted is the host's vm.max_map_count a UML bench needs: the
// guest kernel maps its memory into the host's processes page by page;
// snmp_exporter's walk of 1000x10 ran out at the default 65530, and of
// 5000x10 at 262144 ("UML ran out of memory on the host side").
const umlMapsWanted = 1 << 20

// umlMaps refuses a UML run on a host whose vm.max_map_count is too low,
// saying how to raise it, rather than let the guest die midway.
func umlMaps(s testbed.Scenario) error {
	if backend, err := testbed.Choose(s); err != nil || backend != testbed.UML {
		return err
	}
	b, err := os.ReadFile("/proc/sys/vm/max_map_count")
	if err != nil {
		return fmt.Errorf("read vm.max_map_count: %w", err)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n < umlMapsWanted {
		return fmt.Errorf("vm.max_map_count is %d; a bench on UML needs %d: sysctl -w vm.max_map_count=%d", n, umlMapsWanted, umlMapsWanted)
	}
	return nil
}

// benchScript is bench.sh: the measurements, size by size.
//
//go:embed bench.sh
var benchScript string

// benchConf is the bench's snmpd.conf: an AgentX master with two
// communities whose views each leave out one agent's subtree (bench.sh
// walks keepalived and ours through them).
var benchConf = scenario.Master(
	"view lvsalone included .1",
	"view lvsalone excluded .1.3.6.1.4.1.9586",
	"view kaalone included .1",
	"view kaalone excluded .1.3.6.1.4.1.8225.4711",
	"rocommunity lvsalone 127.0.0.1 -V lvsalone",
	"rocommunity kaalone 127.0.0.1 -V kaalone",
)

// benchAgent is the agent of the bench and the soak; empty flags are left
// to the agent's defaults or to the script.
func benchAgent(stateFile, cacheTTL, logLevel string) scenario.Agent {
	a := scenario.DefaultAgent()
	a.StateFile, a.CacheTTL, a.LogLevel = stateFile, cacheTTL, logLevel
	return a
}
