package main

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// metricsBench runs the metrics endpoint's bench (metrics.sh) at each
// size: a scrape of /metrics against one of snmp_exporter through snmpd,
// and SNMP walk rates beside 8 looping scrapers. Environment:
// BENCH_SNMPEXP_MAX (default 10000) is the most real servers snmp_exporter
// walks (its walk of 5000x10 takes many minutes in an emulated guest);
// BENCH_CONC_SIZE (default the first size) is where the walks beside the
// scrapers are measured, BENCH_PAIRS (default 3) how many pairs;
// BENCH_SCRAPES (default 5) how many rendered scrapes each median takes.
func metricsBench(sizes []string) error {
	for _, s := range sizes {
		if !sizeRE.MatchString(s) {
			return fmt.Errorf("bad size %q, want SERVICESxDESTS", s)
		}
	}
	snmpYml, err := os.ReadFile(filepath.Join("contrib", "prometheus", "snmp.yml"))
	if err != nil {
		return fmt.Errorf("run from the repository's root: %w", err)
	}
	env := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	vars := fmt.Sprintf("SIZES='%s'\nSNMPEXP_MAX=%s\nCONC_SIZE=%s\nPAIRS=%s\nSCRAPES=%s\n", strings.Join(sizes, " "),
		env("BENCH_SNMPEXP_MAX", "10000"), env("BENCH_CONC_SIZE", sizes[0]), env("BENCH_PAIRS", "3"), env("BENCH_SCRAPES", "5"))
	return boot("metrics", testbed.Scenario{
		Timing: true,
		Binaries: map[string]string{
			"lvs-agentx": "github.com/lvs-agentx/lvs-agentx/cmd/lvs-agentx",
			"ipvsbench":  "github.com/lvs-agentx/lvs-agentx/test/cmd/ipvsbench",
			"walkloop":   "github.com/lvs-agentx/lvs-agentx/test/cmd/walkloop",
			"scrapeloop": "github.com/lvs-agentx/lvs-agentx/test/cmd/scrapeloop",
		},
		Files:   map[string][]byte{"snmp.yml": snmpYml},
		Mem:     4096, // snmp_exporter holds a whole walk in memory: room for the largest tables
		Timeout: 3 * time.Hour,
		Script:  scenario.Script(scenario.Setup{SNMPD: scenario.Master(), Agent: benchAgent("$WORK/state.json", "", "")}, vars+metricsScript),
	})
}

// metricsScript is metrics.sh: the metrics bench's steps.
//
//go:embed metrics.sh
var metricsScript string
