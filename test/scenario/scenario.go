// Package scenario writes the scripts of the test bed's scenarios
// (test/testbed) that run snmpd and the agent: what varies between them is
// Go data here (snmpd's configuration, the agent's flags, the addresses),
// and every shell helper they share is defined once, in lib.sh. A
// scenario's script is Script(setup, its own steps).
package scenario

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/lvs-agentx/lvs-agentx/test/snmpd"
)

// Lib is lib.sh: the helpers every script gets (startsnmpd, startagent,
// waitserved, get1, walk, bulkwalk, walker, waitfor, nap, secs, ...), each
// described there.
//
//go:embed lib.sh
var Lib string

// Agent is the flags of `lvs-agentx run` that scenarios set; an empty
// field leaves its flag out (the agent's default). Values are shell words,
// expanded when the agent starts, so "$WORK/state-$SIZE.json" names the
// file of the size being run.
type Agent struct {
	AgentX        string // --agentx
	StateFile     string // --state-file
	NetnsDir      string // --netns-dir
	CacheTTL      string // --cache-ttl
	WatchInterval string // --watch-interval
	LogLevel      string // --log-level
}

// DefaultAgent is the agent most scenarios run: snmpd's AgentX socket and
// the state file in the work directory, the agent's defaults otherwise.
func DefaultAgent() Agent {
	return Agent{AgentX: "$WORK/agentx.sock", StateFile: "$WORK/state.json"}
}

// Args returns the flags in the order they are rendered.
func (a Agent) Args() []string {
	var args []string
	for _, f := range []struct{ flag, value string }{
		{"--agentx", a.AgentX}, {"--state-file", a.StateFile}, {"--netns-dir", a.NetnsDir},
		{"--cache-ttl", a.CacheTTL}, {"--watch-interval", a.WatchInterval}, {"--log-level", a.LogLevel},
	} {
		if f.value != "" {
			args = append(args, f.flag, f.value)
		}
	}
	return args
}

// Setup is what a scenario's script starts from.
type Setup struct {
	// SNMPD is written to snmpd.conf (startsnmpd's config); nil writes
	// none.
	SNMPD *snmpd.ConfigParams
	// Listen is snmpd's listening address (default udp:127.0.0.1:1161)
	// and Target the address managers reach it at (default
	// 127.0.0.1:1161).
	Listen, Target string
	// Agent is the flags startagent starts the agent with.
	Agent Agent
}

// Master is the snmpd.conf of most scenarios: an AgentX master on
// $WORK/agentx.sock answering community public from 127.0.0.1, with extra
// lines appended.
func Master(extra ...string) *snmpd.ConfigParams {
	return &snmpd.ConfigParams{AgentXSocket: "$WORK/agentx.sock", Extra: extra}
}

// Script returns the scenario's whole script: the variables rendered from
// s, snmpd.conf, lib.sh, then body.
func Script(s Setup, body string) string {
	listen, target := s.Listen, s.Target
	if listen == "" {
		listen = "udp:127.0.0.1:1161"
	}
	if target == "" {
		target = "127.0.0.1:1161"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "SNMPD_LISTEN=%s\nSNMP_TARGET=%s\n", word(listen), word(target))
	// A function, so that its words are expanded each time an agent starts.
	b.WriteString("agentflags() { AGENT_FLAGS=(")
	for i, a := range s.Agent.Args() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(word(a))
	}
	b.WriteString("); }\n")
	if s.SNMPD != nil {
		b.WriteString("cat > snmpd.conf <<CONF\n" + snmpd.RenderConfig(*s.SNMPD) + "CONF\n")
	}
	b.WriteString(Lib)
	b.WriteString(body)
	return b.String()
}

// word quotes v for bash in double quotes: $ still expands, nothing else
// does.
func word(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`").Replace(v) + `"`
}
