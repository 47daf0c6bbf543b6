package main

import (
	_ "embed"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// soak runs the soak scenario for the given number of minutes, then keeps
// snmpd away for SOAK_OUTAGE_MINUTES (default 5).
func soak(minutes string) error {
	m, err := strconv.Atoi(minutes)
	if err != nil || m < 1 {
		return fmt.Errorf("-soak %q: want whole minutes", minutes)
	}
	outage := 5
	if v := os.Getenv("SOAK_OUTAGE_MINUTES"); v != "" {
		if outage, err = strconv.Atoi(v); err != nil || outage < 0 {
			return fmt.Errorf("SOAK_OUTAGE_MINUTES %q: want whole minutes", v)
		}
	}
	return boot("soak", testbed.Scenario{
		Timing:   true,
		Binaries: map[string]string{"lvs-agentx": "github.com/lvs-agentx/lvs-agentx/cmd/lvs-agentx"},
		Mem:      1024,
		Timeout:  time.Duration(m+outage+10) * time.Minute,
		Script:   scenario.Script(scenario.Setup{SNMPD: scenario.Master(), Agent: benchAgent("$WORK/state.json", "1s", "debug")}, fmt.Sprintf("MINUTES=%d\nOUTAGE_MINUTES=%d\n", m, outage)+soakScript),
	})
}

// soakScript is soak.sh: the soak's steps and checks.
//
//go:embed soak.sh
var soakScript string
