package agent_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/agentxtest"
	"github.com/lvs-agentx/lvs-agentx/test/snmpd"
)

// A storm through a real session: the Notifier sends Max Notify-PDUs and,
// after the window, one summary; every Notify carries the master's
// sysUpTime, not the subagent's age.
func TestFakeMasterNotifierStorm(t *testing.T) {
	f := agentxtest.NewMaster(t)
	uptime := agent.NewUptime()
	a, err := agent.New(agent.Config{Address: f.Addr, Subtree: base, Source: agent.StaticView{V: newTable(1)},
		PingInterval: -1, Timeout: time.Second, Uptime: uptime})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Add(1)
	go func() { defer wg.Done(); a.Run(ctx) }()
	const masterUptime = 8_640_000 // one day
	c := f.Accept(t, 4, base, agent.DefaultPriority, masterUptime)
	for !a.Connected() {
		time.Sleep(time.Millisecond)
	}
	if got := uptime.At(time.Now()); got < masterUptime || got > masterUptime+500 {
		t.Fatalf("uptime %d after the Open response, want the master's %d", got, masterUptime)
	}

	trap := append(append(agentx.OID{}, base...), 0, 7)
	summary := append(append(agentx.OID{}, base...), 0, 15)
	window := 300 * time.Millisecond
	n := agent.NewNotifier(agent.NotifierConfig{Max: 20, Window: window})
	for i := range 2000 {
		n.Enqueue(trap, []agentx.VarBind{{Name: cell(1, 1), Type: agentx.Integer, Int: int32(i)}})
	}
	start := time.Now()
	wg.Add(1)
	go func() {
		defer wg.Done()
		n.Run(ctx, a, func(left uint32) (agentx.OID, []agentx.VarBind) {
			return summary, []agentx.VarBind{{Name: cell(2, 1), Type: agentx.Gauge32, Uint: uint64(left)}}
		})
	}()
	for i := range 21 {
		p := c.Read()
		nt, ok := p.PDU.(*agentx.Notify)
		if !ok || len(nt.VarBinds) != 3 {
			t.Fatalf("PDU %d: %+v, want a Notify of 3 varbinds", i, p.PDU)
		}
		up, oid, vb := nt.VarBinds[0], nt.VarBinds[1], nt.VarBinds[2]
		if up.Name.String() != ".1.3.6.1.2.1.1.3.0" || up.Type != agentx.TimeTicks ||
			up.Uint < masterUptime || up.Uint > masterUptime+1000 {
			t.Errorf("PDU %d: sysUpTime %v %v %d, want about %d", i, up.Name, up.Type, up.Uint, masterUptime)
		}
		if oid.Name.String() != ".1.3.6.1.6.3.1.1.4.1.0" || oid.Type != agentx.ObjectIdentifier {
			t.Fatalf("PDU %d: second varbind %v %v, want snmpTrapOID.0", i, oid.Name, oid.Type)
		}
		switch {
		case i < 20 && (oid.OID.Compare(trap) != 0 || vb.Int != int32(i)):
			t.Fatalf("PDU %d: %v %d, want notification %d", i, oid.OID, vb.Int, i)
		case i == 20 && (oid.OID.Compare(summary) != 0 || vb.Uint != 1980 || vb.Type != agentx.Gauge32):
			t.Fatalf("PDU 21: %v %v %d, want the summary of 1980", oid.OID, vb.Type, vb.Uint)
		case i == 20 && time.Since(start) < window:
			t.Errorf("summary after %v, before the window of %v ended", time.Since(start), window)
		}
		c.Respond(p, agentx.NoError)
	}
	// Nothing else: the read times out when the agent sends nothing.
	if !c.Quiet(2 * window) {
		t.Fatal("more than 20 notifications and one summary")
	}
}

// snmpd forwards the agent's Notify-PDUs to its trap2sink and informsink
// destinations, with the agent's varbinds in order and a sysUpTime.0 that
// is snmpd's own.
func TestSnmpdForwardsNotifications(t *testing.T) {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	port := sink.LocalAddr().(*net.UDPAddr).Port
	srv := snmpd.Start(t, snmpd.Options{Extra: []string{
		fmt.Sprintf("trap2sink 127.0.0.1:%d %s", port, snmpd.Community),
		fmt.Sprintf("informsink 127.0.0.1:%d %s", port, snmpd.Community),
	}})
	time.Sleep(2 * time.Second) // snmpd's own uptime, which the agent's must match
	a := startAgent(t, srv.AgentXAddress(), agent.StaticView{V: newTable(1)}, true)

	trap := append(append(agentx.OID{}, base...), 0, 13)
	vbs := []agentx.VarBind{
		{Name: append(append(agentx.OID{}, base...), 17, 1, 34, 2), Type: agentx.OctetString, Bytes: []byte("TCP 10.99.0.1:80")},
		{Name: append(append(agentx.OID{}, base...), 17, 1, 20, 2), Type: agentx.Integer, Int: 1},
		{Name: append(append(agentx.OID{}, base...), 17, 1, 31, 2), Type: agentx.Gauge32, Uint: 0},
		{Name: append(append(agentx.OID{}, base...), 11, 0), Type: agentx.Counter32, Uint: 3},
		{Name: append(append(agentx.OID{}, base...), 12, 0), Type: agentx.TimeTicks, Uint: 250},
	}
	if err := a.Notify(context.Background(), trap, vbs); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	up := netsnmp(t, srv, "snmpget", ".1.3.6.1.2.1.1.3.0")
	var snmpdUptime uint64
	if _, err := fmt.Sscanf(up[0], ".1.3.6.1.2.1.1.3.0 = Timeticks: (%d)", &snmpdUptime); err != nil {
		t.Fatalf("sysUpTime.0 from snmpd: %q", up[0])
	}

	params := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: snmpd.Community,
		Logger: gosnmp.NewLogger(log.New(io.Discard, "", 0))}
	got := map[gosnmp.PDUType]*gosnmp.SnmpPacket{}
	buf := make([]byte, 65536)
	sink.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(got) < 2 {
		n, from, err := sink.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("have %d of a trap and an inform: %v\nsnmpd log:\n%s", len(got), err, srv.Log())
		}
		p, err := params.UnmarshalTrap(buf[:n], false)
		if err != nil {
			t.Fatalf("unreadable notification from snmpd: %v", err)
		}
		if p.PDUType == gosnmp.InformRequest { // acknowledge, or snmpd sends it again
			p.PDUType = gosnmp.GetResponse
			b, err := p.MarshalMsg()
			if err != nil {
				t.Fatal(err)
			}
			sink.WriteToUDP(b, from)
			p.PDUType = gosnmp.InformRequest
		}
		if len(p.Variables) > 1 && p.Variables[1].Value == trap.String() {
			got[p.PDUType] = p
		}
	}
	for _, typ := range []gosnmp.PDUType{gosnmp.SNMPv2Trap, gosnmp.InformRequest} {
		p := got[typ]
		if p == nil {
			t.Fatalf("no %v with our trap", typ)
		}
		if len(p.Variables) != 2+len(vbs) {
			t.Fatalf("%v: %d varbinds, want %d", typ, len(p.Variables), 2+len(vbs))
		}
		upVB := p.Variables[0]
		if upVB.Name != ".1.3.6.1.2.1.1.3.0" || upVB.Type != gosnmp.TimeTicks {
			t.Fatalf("%v: first varbind %s %v, want sysUpTime.0", typ, upVB.Name, upVB.Type)
		}
		if u := uint64(upVB.Value.(uint32)); u > snmpdUptime || u+100 < snmpdUptime {
			t.Errorf("%v: sysUpTime.0 %d, snmpd's own %d just after", typ, u, snmpdUptime)
		}
		for i, vb := range vbs {
			g := p.Variables[2+i]
			if g.Name != vb.Name.String() || fmt.Sprint(g.Value) != fmt.Sprint(goValue(vb)) {
				t.Errorf("%v varbind %d: %s %v, want %s %v", typ, i, g.Name, g.Value, vb.Name, goValue(vb))
			}
		}
	}
	checkLog(t, srv)
}

// goValue is how gosnmp decodes vb's value.
func goValue(vb agentx.VarBind) any {
	switch vb.Type {
	case agentx.Integer:
		return int(vb.Int)
	case agentx.OctetString:
		return vb.Bytes
	case agentx.TimeTicks:
		return uint32(vb.Uint)
	}
	return uint(vb.Uint)
}
