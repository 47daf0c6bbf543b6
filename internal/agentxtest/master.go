// Package agentxtest is a fake AgentX master under a test's control, for
// what snmpd will not send on demand: malformed or split packets, a
// master's sysUpTime of the test's choice, a Close at any moment, and
// notifications read one by one.
package agentxtest

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// Master listens on a Unix socket for the agent under test.
type Master struct {
	// Addr is the address to give the agent (unix:PATH).
	Addr  string
	conns chan net.Conn
}

// NewMaster starts listening; the test's cleanup stops it.
func NewMaster(t *testing.T) *Master {
	path := filepath.Join(t.TempDir(), "master")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	m := &Master{conns: make(chan net.Conn, 8), Addr: "unix:" + path}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			m.conns <- c
		}
	}()
	t.Cleanup(func() { l.Close() })
	return m
}

// Conn is one session of the agent's with the master.
type Conn struct {
	// SessionID is the id the master gave the session.
	SessionID uint32
	t         *testing.T
	c         net.Conn
	r         *agentx.Reader
	nextID    uint32
}

// Conn waits for the agent to connect, and gives its session sessID.
func (m *Master) Conn(t *testing.T, sessID uint32) *Conn {
	t.Helper()
	select {
	case c := <-m.conns:
		t.Cleanup(func() { c.Close() })
		return NewConn(t, c, sessID)
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not connect")
	}
	return nil
}

// NewConn is the master's side of a connection the test accepted itself,
// the agent's session to be sessID.
func NewConn(t *testing.T, c net.Conn, sessID uint32) *Conn {
	return &Conn{t: t, c: c, r: agentx.NewReader(c, 0), SessionID: sessID, nextID: 100}
}

// Accept waits for the agent to connect and completes its Open and its
// Register of subtree at priority, answering both with the master's
// sysUpTime uptime.
func (m *Master) Accept(t *testing.T, sessID uint32, subtree agentx.OID, priority uint8, uptime uint32) *Conn {
	t.Helper()
	c := m.Conn(t, sessID)
	open := c.Read()
	if _, ok := open.PDU.(*agentx.Open); !ok {
		t.Fatalf("first PDU is %s, want Open", open.PDU.Type())
	}
	c.RespondUptime(open, agentx.NoError, uptime)
	reg := c.Read()
	r, ok := reg.PDU.(*agentx.Register)
	if !ok || reg.SessionID != sessID || r.Subtree.Compare(subtree) != 0 || r.Priority != priority {
		t.Fatalf("second PDU %+v %+v, want Register of %s in session %d", reg, reg.PDU, subtree, sessID)
	}
	c.RespondUptime(reg, agentx.NoError, uptime)
	return c
}

// Read reads and decodes the agent's next packet, waiting at most 5 s.
func (c *Conn) Read() *agentx.Packet {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, payload, err := c.r.Next()
	if err != nil {
		c.t.Fatalf("fake master read: %v", err)
	}
	p, err := agentx.DecodePayload(h, payload)
	if err != nil {
		c.t.Fatalf("fake master decode %s: %v", h.Type, err)
	}
	return p
}

// Respond answers the agent's request req with error status e.
func (c *Conn) Respond(req *agentx.Packet, e agentx.ErrorStatus) { c.RespondUptime(req, e, 0) }

// RespondUptime answers req with error status e and the master's
// sysUpTime uptime, as RFC 2741 section 6.2.16 asks and snmpd does.
func (c *Conn) RespondUptime(req *agentx.Packet, e agentx.ErrorStatus, uptime uint32) {
	c.t.Helper()
	c.Send(&agentx.Packet{Flags: req.Flags & agentx.FlagNetworkByteOrder, SessionID: c.SessionID,
		TransactionID: req.TransactionID, PacketID: req.PacketID, PDU: &agentx.Response{Error: e, SysUpTime: uptime}})
}

// Request encodes a master request in this session with a fresh packet
// id, in network byte order when big.
func (c *Conn) Request(pdu agentx.PDU, big bool) (*agentx.Packet, []byte) {
	c.t.Helper()
	c.nextID++
	p := &agentx.Packet{SessionID: c.SessionID, TransactionID: c.nextID + 1000, PacketID: c.nextID, PDU: pdu}
	if big {
		p.Flags = agentx.FlagNetworkByteOrder
	}
	b, err := p.Encode()
	if err != nil {
		c.t.Fatal(err)
	}
	return p, b
}

// Send encodes and writes p.
func (c *Conn) Send(p *agentx.Packet) {
	c.t.Helper()
	b, err := p.Encode()
	if err != nil {
		c.t.Fatal(err)
	}
	c.Write(b)
}

// Write writes raw bytes to the agent.
func (c *Conn) Write(b []byte) {
	c.t.Helper()
	if _, err := c.c.Write(b); err != nil {
		c.t.Fatalf("fake master write: %v", err)
	}
}

// Response reads the agent's response to req and checks the ids and the
// byte order it echoes.
func (c *Conn) Response(req *agentx.Packet) *agentx.Response {
	c.t.Helper()
	p := c.Read()
	res, ok := p.PDU.(*agentx.Response)
	if !ok {
		c.t.Fatalf("got %s, want Response", p.PDU.Type())
	}
	if p.PacketID != req.PacketID || p.TransactionID != req.TransactionID || p.SessionID != req.SessionID {
		c.t.Fatalf("response ids s/t/p %d/%d/%d, want %d/%d/%d", p.SessionID, p.TransactionID, p.PacketID,
			req.SessionID, req.TransactionID, req.PacketID)
	}
	if p.Flags&agentx.FlagNetworkByteOrder != req.Flags&agentx.FlagNetworkByteOrder {
		c.t.Fatalf("response byte order flag %#x, request %#x", p.Flags, req.Flags)
	}
	return res
}

// RoundTrip sends a request and returns the agent's response.
func (c *Conn) RoundTrip(pdu agentx.PDU, big bool) *agentx.Response {
	c.t.Helper()
	p, b := c.Request(pdu, big)
	c.Write(b)
	return c.Response(p)
}

// Get is a Get of oids.
func Get(oids ...agentx.OID) *agentx.Get {
	g := &agentx.Get{}
	for _, o := range oids {
		g.Ranges = append(g.Ranges, agentx.SearchRange{Start: o})
	}
	return g
}

// Quiet reports whether the agent sends nothing for d.
func (c *Conn) Quiet(d time.Duration) bool {
	c.c.SetReadDeadline(time.Now().Add(d))
	_, _, err := c.r.Next()
	return err != nil
}

// OID parses an OID the test spells out; it panics on a syntax error.
func OID(s string) agentx.OID {
	o, err := agentx.ParseOID(s)
	if err != nil {
		panic(err)
	}
	return o
}
