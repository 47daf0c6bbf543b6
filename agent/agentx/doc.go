// Package agentx implements the AgentX wire format of RFC 2741: the header,
// the PDU payloads of section 6, object identifiers, search ranges and
// variable bindings, in both byte orders.
package agentx
