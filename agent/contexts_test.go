package agent_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/agentxtest"
	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
	"github.com/lvs-agentx/lvs-agentx/test/snmpd"
)

// walkIn walks base through srv as a manager reaches context name: by its
// v2c community, or with SNMPv3 and -n name.
func walkIn(t *testing.T, srv *snmpd.Server, v3 bool, name string) []string {
	t.Helper()
	testutil.NeedTool(t, "snmpwalk", "apt-get install -y snmp")
	args := []string{"-v2c", "-c", snmpd.ContextCommunity(name)}
	if name == "" {
		args[2] = snmpd.Community
	}
	if v3 {
		args = []string{"-v3", "-l", "authPriv", "-u", snmpd.ContextUser, "-a", "SHA", "-A", snmpd.ContextPass,
			"-x", "AES", "-X", snmpd.ContextPass, "-n", name}
	}
	args = append(args, "-On", "-m", "", "-t", "2", "-r", "1", srv.ManagerAddress(), base.String())
	out, err := exec.Command("snmpwalk", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("snmpwalk %v: %v\n%s\nsnmpd log:\n%s", args, err, testutil.Tail(string(out), 10), testutil.Tail(srv.Log(), 20))
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	// A context holds nothing after our subtree, so its walk ends with
	// the end of the MIB view rather than the next subtree's first object.
	if last := len(lines) - 1; last > 0 && strings.HasSuffix(lines[last], exceptions[agentx.EndOfMIBView]) {
		lines = lines[:last]
	}
	return lines
}

// walkLines is what a walk of base returns from v, as snmpwalk prints it.
func walkLines(v agent.View) []string {
	var lines []string
	from, include := base, false
	end := append(append(agentx.OID{}, base[:len(base)-1]...), base[len(base)-1]+1)
	for {
		vb, ok := v.Next(nil, from, include, end)
		if !ok {
			return lines
		}
		lines = append(lines, format(vb))
		from, include = vb.Name, false
	}
}

// TestContextsThroughSnmpd serves a different table in the default context
// and in named ones through a real snmpd, reached by v2c community and by
// SNMPv3 context name, and adds and removes contexts while the session is
// open and across a restart of snmpd.
func TestContextsThroughSnmpd(t *testing.T) {
	srv := snmpd.Start(t, snmpd.Options{Extra: snmpd.ContextConfig("alpha", "beta", "gamma")})
	views := map[string]agent.View{"": newTable(2), "alpha": newTable(3), "beta": newTable(5), "gamma": newTable(7)}
	a := startAgent(t, srv.AgentXAddress(), agent.StaticView{V: views[""]}, false)
	ctx := context.Background()
	// Added before the session: registered when it opens.
	if err := a.AddContext(ctx, "alpha", agent.StaticView{V: views["alpha"]}); err != nil {
		t.Fatal(err)
	}
	a.waitState(t, agent.StateRegistered, 10*time.Second)
	// Added while the session is open.
	if err := a.AddContext(ctx, "beta", agent.StaticView{V: views["beta"]}); err != nil {
		t.Fatal(err)
	}
	check := func(served ...string) {
		t.Helper()
		for _, name := range served {
			want := walkLines(views[name])
			compareLines(t, fmt.Sprintf("v2c walk of context %q", name), walkIn(t, srv, false, name), want)
			if name != "" {
				compareLines(t, fmt.Sprintf("v3 walk of context %q", name), walkIn(t, srv, true, name), want)
			}
		}
	}
	check("", "alpha", "beta")

	// Removed: snmpd no longer asks us for it, the others stay.
	if err := a.RemoveContext(ctx, "alpha"); err != nil {
		t.Fatal(err)
	}
	for _, l := range walkIn(t, srv, true, "alpha") {
		if strings.HasPrefix(l, base.String()+".") {
			t.Errorf("v3 walk of the removed context: %q, want nothing from the agent", l)
		}
	}
	if err := a.AddContext(ctx, "gamma", agent.StaticView{V: views["gamma"]}); err != nil {
		t.Fatal(err)
	}
	check("", "beta", "gamma")
	if got, want := fmt.Sprint(a.Contexts()), "[beta gamma]"; got != want {
		t.Errorf("Contexts() = %s, want %s", got, want)
	}

	// A new snmpd: every context is registered again.
	if err := srv.Restart(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.waitState(t, agent.StateRegistered, 10*time.Second)
	check("", "beta", "gamma")
	checkLog(t, srv)
}

// TestFakeMasterContexts checks the PDUs: a context's Register and
// Unregister carry its name, requests are routed by context (and refused
// for a context not served, including the default one when it has no
// source), and a Notifier's notifications carry its context.
func TestFakeMasterContexts(t *testing.T) {
	f := agentxtest.NewMaster(t)
	a := startAgent(t, f.Addr, nil, false, noPing)
	ctx := context.Background()
	for _, bad := range []string{"", strings.Repeat("x", 33)} {
		if err := a.AddContext(ctx, bad, agent.StaticView{V: newTable(1)}); err == nil {
			t.Errorf("AddContext(%q) accepted", bad)
		}
	}
	// Registered by the session's opening or by AddContext itself,
	// whichever comes first: the master sees the same PDUs. (AddContext
	// waits while a session opens.)
	added := make(chan error, 1)
	go func() { added <- a.AddContext(ctx, "alpha", agent.StaticView{V: newTable(3)}) }()

	c := f.Conn(t, 5)
	open := c.Read()
	if _, ok := open.PDU.(*agentx.Open); !ok {
		t.Fatalf("first PDU %s, want Open", open.PDU.Type())
	}
	c.Respond(open, agentx.NoError)
	reg := c.Read()
	if r, ok := reg.PDU.(*agentx.Register); !ok || !reg.HasContext || string(reg.Context) != "alpha" || r.Subtree.Compare(base) != 0 {
		t.Fatalf("got %+v %+v, want Register of %s in context alpha (no default registration without a source)", reg, reg.PDU, base)
	}
	c.Respond(reg, agentx.NoError)
	if err := <-added; err != nil {
		t.Fatal(err)
	}
	for !a.Connected() {
		time.Sleep(time.Millisecond)
	}

	get := func(hasCtx bool, name string) *agentx.Response {
		t.Helper()
		p, _ := c.Request(agentxtest.Get(cell(1, 2)), true)
		p.HasContext, p.Context = hasCtx, []byte(name)
		c.Send(p)
		return c.Response(p)
	}
	if r := get(true, "alpha"); r.Error != agentx.NoError || format(r.VarBinds[0]) != format(newTable(3).Get(cell(1, 2))) {
		t.Errorf("Get in alpha: %+v", r)
	}
	for _, q := range []struct {
		has  bool
		name string
	}{{true, "beta"}, {false, ""}, {true, ""}} {
		if r := get(q.has, q.name); r.Error != agentx.UnsupportedContext {
			t.Errorf("Get in context %v %q: error %v, want unsupportedContext", q.has, q.name, r.Error)
		}
	}

	// A notification in the context.
	n := agent.NewNotifier(agent.NotifierConfig{Context: "alpha", Window: time.Hour})
	nctx, stop := context.WithCancel(ctx)
	defer stop()
	go n.Run(nctx, a.Agent, func(uint32) (agentx.OID, []agentx.VarBind) { return base, nil })
	n.Enqueue(append(append(agentx.OID{}, base...), 0, 1), nil)
	p := c.Read()
	if _, ok := p.PDU.(*agentx.Notify); !ok || !p.HasContext || string(p.Context) != "alpha" {
		t.Fatalf("got %+v %+v, want Notify in context alpha", p, p.PDU)
	}
	c.Respond(p, agentx.NoError)

	// Removing it unregisters it in its context.
	errc := make(chan error, 1)
	go func() { errc <- a.RemoveContext(ctx, "alpha") }()
	p = c.Read()
	if _, ok := p.PDU.(*agentx.Unregister); !ok || !p.HasContext || string(p.Context) != "alpha" {
		t.Fatalf("got %+v %+v, want Unregister in context alpha", p, p.PDU)
	}
	c.Respond(p, agentx.NoError)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if r := get(true, "alpha"); r.Error != agentx.UnsupportedContext {
		t.Errorf("Get in the removed context: error %v, want unsupportedContext", r.Error)
	}
}
