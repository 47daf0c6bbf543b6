// Package agent is an AgentX subagent (RFC 2741): it connects to a master
// agent such as net-snmp's snmpd, registers one subtree, in the default
// context and in any number of named SNMP contexts, and answers the
// master's requests from each context's View, reconnecting by itself when
// the master goes away.
package agent
