// Command lvs-agentx is an SNMP AgentX subagent that serves Linux Virtual
// Server (IPVS) statistics, the LVS-MIB, to net-snmp's snmpd.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "lvs-agentx: not implemented yet")
	os.Exit(2)
}
