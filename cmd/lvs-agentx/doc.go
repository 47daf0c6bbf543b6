// Command lvs-agentx is an SNMP AgentX subagent that serves Linux Virtual
// Server (IPVS) statistics, the LVS-MIB, to net-snmp's snmpd.
//
// Usage:
//
//	lvs-agentx [run] [flags]   serve the LVS-MIB to snmpd (the default)
//	lvs-agentx dump [flags]    print one IPVS snapshot (table, json or oids)
//	lvs-agentx check [flags]   walk the LVS-MIB through snmpd and compare it with IPVS
//	lvs-agentx mib             print the MIB files
//	lvs-agentx version         print the version
package main
