package agent_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/agentxtest"
)

// stillServes checks that the session answers a Get of row after what
// happened to it.
func stillServes(t *testing.T, c *agentxtest.Conn, what string, row int) {
	t.Helper()
	if res := c.RoundTrip(agentxtest.Get(cell(1, row)), false); len(res.VarBinds) != 1 || res.VarBinds[0].Int != int32(row) {
		t.Fatalf("get after %s: %+v", what, res)
	}
}

// accept waits for the agent to connect and completes Open and Register
// of base at the default priority.
func accept(t *testing.T, f *agentxtest.Master, sessID uint32) *agentxtest.Conn {
	t.Helper()
	return f.Accept(t, sessID, base, agent.DefaultPriority, 0)
}

func noPing(c *agent.Config) { c.PingInterval = -1 }

func sameVarBinds(t *testing.T, what string, got []agentx.VarBind, want []agentx.VarBind) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d varbinds, want %d", what, len(got), len(want))
	}
	for i := range got {
		if g, w := format(got[i]), format(want[i]); g != w {
			t.Fatalf("%s: varbind %d: %s, want %s", what, i, g, w)
		}
	}
}

func TestFakeMasterRequests(t *testing.T) {
	f := agentxtest.NewMaster(t)
	v := newTable(10)
	startAgent(t, f.Addr, agent.StaticView{V: v}, false, noPing)
	c := accept(t, f, 42)
	end := append(append(agentx.OID{}, base...), 1, 3)
	end4 := append(append(agentx.OID{}, base...), 1, 4)

	for _, big := range []bool{false, true} {
		res := c.RoundTrip(agentxtest.Get(cell(1, 1), cell(1, 99), cell(99, 1)), big)
		sameVarBinds(t, "get", res.VarBinds, []agentx.VarBind{v.Get(cell(1, 1)),
			{Name: cell(1, 99), Type: agentx.NoSuchInstance}, {Name: cell(99, 1), Type: agentx.NoSuchObject}})

		res = c.RoundTrip(&agentx.GetNext{Ranges: []agentx.SearchRange{
			{Start: cell(1, 1), Include: true},
			{Start: cell(1, 1)},
			{Start: cell(2, 10), End: end},
			{Start: cell(16, 10)},
		}}, big)
		sameVarBinds(t, "getnext", res.VarBinds, []agentx.VarBind{v.Get(cell(1, 1)), v.Get(cell(1, 2)),
			{Name: cell(2, 10), Type: agentx.EndOfMIBView}, {Name: cell(16, 10), Type: agentx.EndOfMIBView}})

		res = c.RoundTrip(&agentx.GetBulk{NonRepeaters: 1, MaxRepetitions: 3, Ranges: []agentx.SearchRange{
			{Start: cell(1, 5)}, {Start: cell(2, 8)}, {Start: cell(3, 9), End: end4}}}, big)
		sameVarBinds(t, "getbulk", res.VarBinds, []agentx.VarBind{v.Get(cell(1, 6)),
			v.Get(cell(2, 9)), v.Get(cell(3, 10)),
			v.Get(cell(2, 10)), {Name: cell(3, 10), Type: agentx.EndOfMIBView},
			v.Get(cell(3, 1)), {Name: cell(3, 10), Type: agentx.EndOfMIBView}})
	}

	res := c.RoundTrip(&agentx.TestSet{VarBinds: []agentx.VarBind{{Name: cell(1, 1), Type: agentx.Integer, Int: 3}}}, false)
	if res.Error != agentx.NotWritable || res.Index != 1 {
		t.Errorf("TestSet: error %d index %d, want notWritable index 1", res.Error, res.Index)
	}
	if res := c.RoundTrip(&agentx.CommitSet{}, false); res.Error != agentx.CommitFailed {
		t.Errorf("CommitSet: error %d", res.Error)
	}
	if res := c.RoundTrip(&agentx.UndoSet{}, false); res.Error != agentx.NoError {
		t.Errorf("UndoSet: error %d", res.Error)
	}
	// CleanupSet is not answered: the next response is the Get's.
	_, b := c.Request(&agentx.CleanupSet{}, false)
	c.Write(b)
	stillServes(t, c, "CleanupSet", 2)
	if res := c.RoundTrip(&agentx.Ping{}, true); res.Error != agentx.NoError {
		t.Errorf("Ping: error %d", res.Error)
	}
	if res := c.RoundTrip(&agentx.Register{Subtree: base}, false); res.Error != agentx.ProcessingError {
		t.Errorf("Register sent to subagent: error %d", res.Error)
	}

	// A non-default context is refused, and the session carries on.
	p, _ := c.Request(agentxtest.Get(cell(1, 1)), true)
	p.HasContext, p.Context = true, []byte("other")
	c.Send(p)
	if res := c.Response(p); res.Error != agentx.UnsupportedContext {
		t.Errorf("get in context: error %d, want unsupportedContext", res.Error)
	}
	// A request in another session is refused.
	p, _ = c.Request(agentxtest.Get(cell(1, 1)), false)
	p.SessionID = 7
	c.Send(p)
	if res := c.Response(p); res.Error != agentx.NotOpen {
		t.Errorf("get in session 7: error %d, want notOpen", res.Error)
	}
	stillServes(t, c, "refusals", 3)
}

func TestFakeMasterFraming(t *testing.T) {
	f := agentxtest.NewMaster(t)
	v := newTable(10)
	startAgent(t, f.Addr, agent.StaticView{V: v}, false, noPing)
	c := accept(t, f, 1)

	// A header split across writes.
	p, b := c.Request(agentxtest.Get(cell(1, 1)), true)
	for _, part := range [][]byte{b[:3], b[3:11], b[11:20], b[20:]} {
		c.Write(part)
		time.Sleep(5 * time.Millisecond)
	}
	if res := c.Response(p); len(res.VarBinds) != 1 || res.VarBinds[0].Int != 1 {
		t.Fatalf("split header: %+v", res)
	}

	// Several PDUs in one write, mixed byte orders, answered in order.
	var batch []byte
	var reqs []*agentx.Packet
	for i := range 5 {
		p, b := c.Request(agentxtest.Get(cell(1, i+1)), i%2 == 0)
		batch = append(batch, b...)
		reqs = append(reqs, p)
	}
	c.Write(batch)
	for i, p := range reqs {
		if res := c.Response(p); len(res.VarBinds) != 1 || res.VarBinds[0].Int != int32(i+1) {
			t.Fatalf("batched request %d: %+v", i, res)
		}
	}

	// A malformed payload behind a readable header: parseError, session kept.
	p, b = c.Request(agentxtest.Get(cell(1, 1)), false)
	b[agentx.HeaderSize] = 100 // n_subid beyond the payload
	c.Write(b)
	if res := c.Response(p); res.Error != agentx.ParseError {
		t.Fatalf("malformed get: error %d, want parseError", res.Error)
	}
	// An unknown PDU type: an error response, session kept.
	p, b = c.Request(&agentx.Ping{}, false)
	b[1] = 99
	c.Write(b)
	if res := c.Response(p); res.Error != agentx.ParseError {
		t.Fatalf("unknown type: error %d, want parseError", res.Error)
	}
	stillServes(t, c, "errors", 4)
}

func TestFakeMasterUnframeableReconnects(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"oversized length", []byte{1, 5, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xf0}},
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
	}
	f := agentxtest.NewMaster(t)
	v := newTable(3)
	a := startAgent(t, f.Addr, agent.StaticView{V: v}, false, noPing)
	c := accept(t, f, 1)
	for i, tt := range tests {
		c.Write(tt.b)
		a.waitState(t, agent.StateLost, 5*time.Second)
		c = accept(t, f, uint32(i+2))
		stillServes(t, c, tt.name, 2)
	}
	// A Close from the master also leads to a new session.
	c.Send(&agentx.Packet{SessionID: c.SessionID, PDU: &agentx.Close{Reason: agentx.ReasonShutdown}})
	a.waitState(t, agent.StateLost, 5*time.Second)
	accept(t, f, 9)
}

func TestFakeMasterPingTimeout(t *testing.T) {
	f := agentxtest.NewMaster(t)
	a := startAgent(t, f.Addr, agent.StaticView{V: newTable(1)}, false, func(c *agent.Config) {
		c.PingInterval, c.Timeout = 50*time.Millisecond, time.Second
	})
	c := accept(t, f, 5)
	p := c.Read()
	if _, ok := p.PDU.(*agentx.Ping); !ok || p.SessionID != 5 {
		t.Fatalf("got %s in session %d, want Ping in 5", p.PDU.Type(), p.SessionID)
	}
	c.Respond(p, agentx.NoError)
	// Ignore the next ping: the agent must give up on this master.
	if p := c.Read(); p.PDU.Type() != agentx.TypePing {
		t.Fatalf("got %s, want Ping", p.PDU.Type())
	}
	a.waitState(t, agent.StateLost, 5*time.Second)
	accept(t, f, 6)
}

func TestFakeMasterNotifyAndShutdown(t *testing.T) {
	f := agentxtest.NewMaster(t)
	// Not connected until the fake master answers Open and Register.
	a := startAgent(t, f.Addr, agent.StaticView{V: newTable(1)}, false, noPing)
	if err := a.Notify(context.Background(), base, nil); !errors.Is(err, agent.ErrNotConnected) {
		t.Fatalf("Notify before connecting: %v", err)
	}
	c := accept(t, f, 3)
	for !a.Connected() {
		time.Sleep(time.Millisecond)
	}
	trap := append(append(agentx.OID{}, base...), 0, 1)
	extra := agentx.VarBind{Name: cell(1, 1), Type: agentx.Integer, Int: 1}
	errc := make(chan error, 1)
	go func() { errc <- a.Notify(context.Background(), trap, []agentx.VarBind{extra}) }()
	p := c.Read()
	n, ok := p.PDU.(*agentx.Notify)
	if !ok || len(n.VarBinds) != 3 {
		t.Fatalf("got %+v, want Notify of 3 varbinds", p.PDU)
	}
	if n.VarBinds[0].Name.String() != ".1.3.6.1.2.1.1.3.0" || n.VarBinds[0].Type != agentx.TimeTicks ||
		n.VarBinds[1].Name.String() != ".1.3.6.1.6.3.1.1.4.1.0" || n.VarBinds[1].OID.Compare(trap) != 0 ||
		format(n.VarBinds[2]) != format(extra) {
		t.Fatalf("notify varbinds %+v", n.VarBinds)
	}
	c.Respond(p, agentx.NoError)
	if err := <-errc; err != nil {
		t.Fatalf("Notify: %v", err)
	}

	a.cancel()
	p = c.Read()
	if u, ok := p.PDU.(*agentx.Unregister); !ok || u.Subtree.Compare(base) != 0 {
		t.Fatalf("got %+v, want Unregister", p.PDU)
	}
	c.Respond(p, agentx.NoError)
	p = c.Read()
	if cl, ok := p.PDU.(*agentx.Close); !ok || cl.Reason != agentx.ReasonShutdown {
		t.Fatalf("got %+v, want Close(shutdown)", p.PDU)
	}
	c.Respond(p, agentx.NoError)
	<-a.done
	if a.Connected() {
		t.Error("still connected after Run returned")
	}
}

func TestConfigValidation(t *testing.T) {
	src := agent.StaticView{V: newTable(1)}
	tests := []struct {
		name string
		cfg  agent.Config
	}{
		{"no subtree", agent.Config{Source: src}},
		{"bad address", agent.Config{Subtree: base, Source: src, Address: "udp:1.2.3.4:5"}},
		{"tcp without port", agent.Config{Subtree: base, Source: src, Address: "tcp:localhost"}},
		{"timeout too short", agent.Config{Subtree: base, Source: src, Timeout: time.Millisecond}},
		{"backoff inverted", agent.Config{Subtree: base, Source: src, BackoffMin: time.Second, BackoffMax: time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := agent.New(tt.cfg); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestParseAddress(t *testing.T) {
	tests := []struct{ in, network, addr string }{
		{"", "unix", "/var/agentx/master"},
		{"/run/agentx", "unix", "/run/agentx"},
		{"unix:/run/agentx", "unix", "/run/agentx"},
		{"tcp:127.0.0.1:705", "tcp", "127.0.0.1:705"},
		{"tcp:[::1]:705", "tcp", "[::1]:705"},
		{"tcp::705", "tcp", "localhost:705"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, a, err := agent.ParseAddress(tt.in)
			if err != nil || n != tt.network || a != tt.addr {
				t.Errorf("ParseAddress(%q) = %q, %q, %v; want %q, %q", tt.in, n, a, err, tt.network, tt.addr)
			}
		})
	}
	for _, bad := range []string{"udp:1.2.3.4:161", "unix:", "tcp:nohost", "relative/path"} {
		if _, _, err := agent.ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q): no error", bad)
		}
	}
}

// badView serves one IpAddress of 16 bytes, which cannot be encoded.
type badView struct{}

func (badView) Get(oid agentx.OID) agentx.VarBind {
	return agentx.VarBind{Name: oid, Type: agentx.IPAddress, Bytes: make([]byte, 16)}
}

func (badView) Next(_, from agentx.OID, _ bool, _ agentx.OID) (agentx.VarBind, bool) {
	return agentx.VarBind{Name: append(append(agentx.OID{}, from...), 1), Type: agentx.IPAddress, Bytes: make([]byte, 16)}, true
}

func TestFakeMasterUnencodableValueAndUptime(t *testing.T) {
	f := agentxtest.NewMaster(t)
	startAgent(t, f.Addr, agent.StaticView{V: badView{}}, false, noPing)
	c := accept(t, f, 1)
	time.Sleep(30 * time.Millisecond)
	res := c.RoundTrip(agentxtest.Get(cell(1, 1), cell(1, 2)), false)
	if res.Error != agentx.GenErr || res.Index != 1 || len(res.VarBinds) != 0 {
		t.Fatalf("get of unencodable value: %+v, want genErr at index 1", res)
	}
	// RFC 2741 6.2.16: a subagent's res.sysUpTime means nothing to the master.
	if res.SysUpTime != 0 {
		t.Errorf("sysUpTime %d in a response to the master, want 0", res.SysUpTime)
	}
	res = c.RoundTrip(&agentx.GetNext{Ranges: []agentx.SearchRange{{Start: cell(1, 1)}}}, true)
	if res.Error != agentx.GenErr {
		t.Fatalf("getnext of unencodable value: %+v", res)
	}
}
