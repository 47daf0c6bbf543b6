package agent_test

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/test/snmpd"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBulkwalkSnmpd walks a 10,000-row x 16-column view (160k
// varbinds) with snmpbulkwalk through a real snmpd and reports varbinds/s
// and the agent's CPU time as a share of the walk's wall time (this test
// process runs only the agent while the walk runs).
func BenchmarkBulkwalkSnmpd(b *testing.B) {
	srv := snmpd.Start(b, snmpd.Options{})
	v := newTable(10000)
	startAgent(b, srv.AgentXAddress(), agent.StaticView{V: v}, true)
	var varbinds int
	var wall, cpu time.Duration
	for b.Loop() {
		c0, t0 := cpuTime(), time.Now()
		out, err := exec.Command("snmpbulkwalk", "-v2c", "-c", snmpd.Community, "-On", "-Cr50", "-t", "5",
			srv.ManagerAddress(), base.String()).Output()
		wall += time.Since(t0)
		cpu += cpuTime() - c0
		if err != nil {
			b.Fatalf("snmpbulkwalk: %v", err)
		}
		n := strings.Count(string(out), "\n")
		if n != len(v.VarBinds()) {
			b.Fatalf("walk returned %d varbinds, want %d", n, len(v.VarBinds()))
		}
		varbinds += n
	}
	b.ReportMetric(float64(varbinds)/wall.Seconds(), "varbinds/s")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "agent-cpu-%")
}
