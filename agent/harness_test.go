package agent_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/agent/internal/sliceview"
	"github.com/lvs-agentx/lvs-agentx/test/snmpd"
)

// base is the subtree the test agents register.
var base = agentx.MustParseOID("1.3.6.1.4.1.8225.4711")

// running is an agent started by startAgent.
type running struct {
	*agent.Agent
	states chan agent.State
}

// startAgent runs an agent against addr until the test ends and, unless
// wait is false, waits for it to register.
func startAgent(t testing.TB, addr string, src agent.ViewSource, wait bool, mod ...func(*agent.Config)) *running {
	t.Helper()
	states := make(chan agent.State, 64)
	cfg := agent.Config{
		Address: addr, Subtree: base, Description: "lvs-agentx test", Source: src,
		BackoffMin: 50 * time.Millisecond, BackoffMax: 500 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnState: func(s agent.State, _ error) {
			select {
			case states <- s:
			default:
			}
		},
	}
	for _, m := range mod {
		m(&cfg)
	}
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := a.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	r := &running{Agent: a, states: states}
	if wait {
		r.waitState(t, agent.StateRegistered, 10*time.Second)
	}
	return r
}

func (r *running) waitState(t testing.TB, want agent.State, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case s := <-r.states:
			if s == want {
				return
			}
		case <-timeout:
			t.Fatalf("agent did not reach state %v within %v", want, d)
		}
	}
}

// netsnmp runs a net-snmp command line tool against srv and returns its
// output lines, in the format "OID value" with numeric OIDs and timeticks.
func netsnmp(t testing.TB, srv *snmpd.Server, tool string, args ...string) []string {
	t.Helper()
	lines, err := netsnmpErr(srv, tool, args...)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func netsnmpErr(srv *snmpd.Server, tool string, args ...string) ([]string, error) {
	if _, err := exec.LookPath(tool); err != nil {
		return nil, fmt.Errorf("%s not found: apt-get install -y snmp", tool)
	}
	all := append([]string{"-v2c", "-c", snmpd.Community, "-On", "-Oq", "-Ot", "-Oe", "-t", "2", "-r", "1", srv.ManagerAddress()}, args...)
	out, err := exec.Command(tool, all...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s %v: %v\n%s\nsnmpd log:\n%s", tool, args, err, lastLines(string(out), 10), lastLines(srv.Log(), 20))
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n"), nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// format renders vb as net-snmp prints it with -On -Oq -Ot -Oe.
func format(vb agentx.VarBind) string {
	var v string
	switch vb.Type {
	case agentx.Integer:
		v = fmt.Sprint(vb.Int)
	case agentx.OctetString:
		v = fmt.Sprintf("%q", vb.Bytes)
	case agentx.IPAddress:
		v = fmt.Sprintf("%d.%d.%d.%d", vb.Bytes[0], vb.Bytes[1], vb.Bytes[2], vb.Bytes[3])
	case agentx.Counter32, agentx.Gauge32, agentx.TimeTicks, agentx.Counter64:
		v = fmt.Sprint(vb.Uint)
	case agentx.ObjectIdentifier:
		v = vb.OID.String()
	case agentx.NoSuchObject:
		v = "No Such Object available on this agent at this OID"
	case agentx.NoSuchInstance:
		v = "No Such Instance currently exists at this OID"
	case agentx.EndOfMIBView:
		v = "No more variables left in this MIB View (It is past the end of the MIB tree)"
	default:
		v = fmt.Sprintf("<type %d>", vb.Type)
	}
	return vb.Name.String() + " " + v
}

func newTable(rows int) *sliceview.View { return sliceview.Table(base, rows) }

func oidArgs(oids []agentx.OID) []string {
	s := make([]string, len(oids))
	for i, o := range oids {
		s[i] = o.String()
	}
	return s
}
