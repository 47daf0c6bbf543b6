package main

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// conns runs the connection-table bench at each size (entries, ascending):
// a backup sync daemon fed by syncgen makes the table, and conns.sh
// measures the agent's reads of it, its CPU share and RSS, and a walk's
// rate beside it.
func conns(sizes []string) error {
	prev := -1
	for _, s := range sizes {
		n, err := strconv.Atoi(s)
		if err != nil || n < prev {
			return fmt.Errorf("-conns sizes %q: want entry counts, ascending", strings.Join(sizes, " "))
		}
		prev = n
	}
	return boot("conns", testbed.Scenario{
		Timing: true,
		Binaries: map[string]string{
			"lvs-agentx": "github.com/lvs-agentx/lvs-agentx/cmd/lvs-agentx",
			"syncgen":    "github.com/lvs-agentx/lvs-agentx/test/cmd/syncgen",
			"walkloop":   "github.com/lvs-agentx/lvs-agentx/test/cmd/walkloop",
		},
		Mem:     2048,
		Timeout: 90 * time.Minute,
		Script: scenario.Script(scenario.Setup{SNMPD: scenario.Master(), Agent: benchAgent("$WORK/state.json", "1s", "debug")},
			"CONN_SIZES='"+strings.Join(sizes, " ")+"'\n"+connsScript),
	})
}

// connsScript is conns.sh: the connection-table bench's steps.
//
//go:embed conns.sh
var connsScript string
