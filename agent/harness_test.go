package agent_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/agent/internal/sliceview"
	"github.com/lvs-agentx/lvs-agentx/internal/agentxtest"
	"github.com/lvs-agentx/lvs-agentx/internal/snmptext"
	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
	"github.com/lvs-agentx/lvs-agentx/test/snmpd"
)

// base is the subtree the test agents register.
var base = agentxtest.OID("1.3.6.1.4.1.8225.4711")

// running is an agent started by startAgent.
type running struct {
	*agent.Agent
	states chan agent.State
	cancel context.CancelFunc // ends Run
	done   chan struct{}      // closed when Run has returned
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
	r := &running{Agent: a, states: states, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if err := a.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-r.done })
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
// output lines, with numeric OIDs and no MIB loaded, as format prints them.
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
	all := append([]string{"-v2c", "-c", snmpd.Community, "-On", "-m", "", "-t", "2", "-r", "1", srv.ManagerAddress()}, args...)
	out, err := exec.Command(tool, all...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s %v: %v\n%s\nsnmpd log:\n%s", tool, args, err, testutil.Tail(string(out), 10), testutil.Tail(srv.Log(), 20))
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n"), nil
}

// exceptions are how net-snmp prints the values that say there is none.
var exceptions = map[agentx.Type]string{
	agentx.NoSuchObject:   "No Such Object available on this agent at this OID",
	agentx.NoSuchInstance: "No Such Instance currently exists at this OID",
	agentx.EndOfMIBView:   "No more variables left in this MIB View (It is past the end of the MIB tree)",
}

// format renders vb as net-snmp's tools print it with -On -m "".
func format(vb agentx.VarBind) string {
	if e, ok := exceptions[vb.Type]; ok {
		return vb.Name.String() + " = " + e
	}
	s, err := snmptext.FormatVarBind(vb)
	if err != nil {
		return err.Error()
	}
	return s
}

func newTable(rows int) *sliceview.View { return sliceview.Table(base, rows) }

func oidArgs(oids []agentx.OID) []string {
	s := make([]string, len(oids))
	for i, o := range oids {
		s[i] = o.String()
	}
	return s
}
