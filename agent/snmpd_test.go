package agent_test

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/agent/internal/sliceview"
	"github.com/lvs-agentx/lvs-agentx/internal/snmpvb"
	"github.com/lvs-agentx/lvs-agentx/test/snmpd"
)

func cell(c, r int) agentx.OID { return append(append(agentx.OID{}, base...), 1, uint32(c), uint32(r)) }

// expectGet is what a Get of oids must return, formatted.
func expectGet(v agent.View, oids []agentx.OID) []string {
	want := make([]string, len(oids))
	for i, o := range oids {
		want[i] = format(v.Get(o))
	}
	return want
}

func compareLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d lines, want %d\nfirst got: %q\nfirst want: %q", what, len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: line %d: got %q, want %q", what, i, got[i], want[i])
		}
	}
}

// badLog matches snmpd log lines that mean a request or session was lost.
var badLog = regexp.MustCompile(`(?i)resend|timeout|timed out|illegal|bailing|clos(e|ing) .*session|disconnect`)

func checkLog(t *testing.T, srv *snmpd.Server) {
	t.Helper()
	for _, l := range strings.Split(srv.Log(), "\n") {
		if badLog.MatchString(l) {
			t.Errorf("snmpd log: %s", l)
		}
	}
}

func TestSnmpGet(t *testing.T) {
	srv := snmpd.Start(t, snmpd.Options{})
	v := newTable(100)
	startAgent(t, srv.AgentXAddress(), agent.StaticView{V: v}, true)

	three := []agentx.OID{cell(1, 1), cell(2, 50), cell(16, 100)}
	compareLines(t, "get of 3", netsnmp(t, srv, "snmpget", oidArgs(three)...), expectGet(v, three))

	var fifty []agentx.OID
	for i := range 50 {
		switch i % 10 {
		case 7:
			fifty = append(fifty, cell(i%16+1, 100000+i)) // no such instance
		case 9:
			fifty = append(fifty, append(append(agentx.OID{}, base...), 2, uint32(i))) // no such object
		default:
			fifty = append(fifty, cell(i%16+1, i+1))
		}
	}
	compareLines(t, "get of 50", netsnmp(t, srv, "snmpget", oidArgs(fifty)...), expectGet(v, fifty))
	checkLog(t, srv)
}

func TestSnmpGetNext(t *testing.T) {
	// Over TCP, to cover the other transport.
	srv := snmpd.Start(t, snmpd.Options{TCP: true})
	v := newTable(200)
	startAgent(t, "tcp:"+srv.TCPAddr, agent.StaticView{V: v}, true)
	var oids []agentx.OID
	var want []string
	for i := range 100 {
		o := cell(i%16+1, i*2) // rows 0..198: row 0 precedes the column
		if i%5 == 0 {
			o = append(o, 7) // between rows
		}
		oids = append(oids, o)
		vb, _ := v.Next(nil, o, false, nil)
		want = append(want, format(vb))
	}
	// A request of 100 OIDs is an AgentX PDU of more than 4 KB.
	compareLines(t, "getnext of 100", netsnmp(t, srv, "snmpgetnext", oidArgs(oids)...), want)
	checkLog(t, srv)
}

func TestWalks(t *testing.T) {
	rows := 10000
	if testing.Short() {
		rows = 1000
	}
	srv := snmpd.Start(t, snmpd.Options{})
	v := newTable(rows)
	startAgent(t, srv.AgentXAddress(), agent.StaticView{V: v}, true)
	want := formatAll(v)
	// Both walks at once: snmpd is the bottleneck and serves them
	// interleaved, which also keeps two requests in flight on the session.
	var wg sync.WaitGroup
	for _, args := range [][]string{{"snmpbulkwalk", "-Cr50"}, {"snmpwalk"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			got, err := netsnmpErr(srv, args[0], append(args[1:], base.String())...)
			if err == nil {
				err = sameLines(got, want)
			}
			if err != nil {
				t.Errorf("%s: %v", args[0], err)
				return
			}
			t.Logf("%s of %d varbinds: %v", args[0], len(got), time.Since(start))
		}()
	}
	wg.Wait()
	checkLog(t, srv)
}

// formatAll formats every variable of v.
func formatAll(v *sliceview.View) []string {
	out := make([]string, 0, len(v.VarBinds()))
	for _, vb := range v.VarBinds() {
		out = append(out, format(vb))
	}
	return out
}

// gsClient returns a gosnmp manager for srv.
func gsClient(t testing.TB, srv *snmpd.Server) *gosnmp.GoSNMP {
	t.Helper()
	var port uint16
	fmt.Sscanf(srv.UDPAddr[strings.LastIndex(srv.UDPAddr, ":")+1:], "%d", &port)
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: port, Community: snmpd.Community,
		Version: gosnmp.Version2c, Timeout: 2 * time.Second, Retries: 1, MaxRepetitions: 25}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Conn.Close() })
	return g
}

// gsFormat renders a gosnmp result like format.
func gsFormat(p gosnmp.SnmpPDU) string {
	vb, err := snmpvb.FromPDU(p)
	if err != nil {
		return err.Error()
	}
	return format(vb)
}

func gsWalk(g *gosnmp.GoSNMP) ([]string, error) {
	pdus, err := g.BulkWalkAll(base.String())
	out := make([]string, len(pdus))
	for i, p := range pdus {
		out[i] = gsFormat(p)
	}
	return out, err
}

func sameLines(got, want []string) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d varbinds, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Errorf("varbind %d: %q, want %q", i, got[i], want[i])
		}
	}
	return nil
}

func TestConcurrentBulkwalks(t *testing.T) {
	srv := snmpd.Start(t, snmpd.Options{})
	v := newTable(300)
	startAgent(t, srv.AgentXAddress(), agent.StaticView{V: v}, true)
	want := formatAll(v)
	const managers, rounds = 8, 3
	var wg sync.WaitGroup
	errs := make(chan error, managers*rounds)
	for m := range managers {
		g := gsClient(t, srv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				got, err := gsWalk(g)
				if err == nil {
					err = sameLines(got, want)
				}
				if err != nil {
					errs <- fmt.Errorf("manager %d round %d: %w", m, r, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkLog(t, srv)
}

func TestSnmpSetNotWritable(t *testing.T) {
	// With only a read-only community snmpd refuses the set itself; a
	// writable one makes it ask the subagent with TestSet.
	srv := snmpd.Start(t, snmpd.Options{Extra: []string{"rwcommunity private 127.0.0.1"}})
	v := newTable(10)
	startAgent(t, srv.AgentXAddress(), agent.StaticView{V: v}, true)
	for range 2 {
		out, err := exec.Command("snmpset", "-v2c", "-c", "private", "-t", "2", "-r", "0", srv.ManagerAddress(),
			cell(1, 1).String(), "i", "5", cell(4, 1).String(), "u", "5").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "notWritable") {
			t.Fatalf("snmpset: err %v, output:\n%s", err, out)
		}
		compareLines(t, "get after set", netsnmp(t, srv, "snmpget", cell(1, 1).String()), expectGet(v, []agentx.OID{cell(1, 1)}))
	}
	checkLog(t, srv)
}

// walker walks until stopped, recording the time of each complete and
// correct walk.
type walker struct {
	mu   sync.Mutex
	good []time.Time
	stop chan struct{}
	done chan struct{}
}

func startWalker(t *testing.T, srv *snmpd.Server, want []string) *walker {
	g := gsClient(t, srv)
	g.Timeout, g.Retries = 300*time.Millisecond, 0
	w := &walker{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			if got, err := gsWalk(g); err == nil && sameLines(got, want) == nil {
				w.mu.Lock()
				w.good = append(w.good, time.Now())
				w.mu.Unlock()
			} else {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}()
	t.Cleanup(w.halt)
	return w
}

func (w *walker) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// firstGoodAfter waits up to d for a correct walk that started after t0.
func (w *walker) firstGoodAfter(t0 time.Time, d time.Duration) (time.Duration, bool) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		for _, g := range w.good {
			if g.After(t0) {
				w.mu.Unlock()
				return g.Sub(t0), true
			}
		}
		w.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	return 0, false
}

// recoveryBound is how soon after snmpd is up walks must work again.
const recoveryBound = 2 * time.Second

func defaultBackoff(c *agent.Config) { c.BackoffMin, c.BackoffMax = 0, 0 }

func TestSnmpdRestart(t *testing.T) {
	srv := snmpd.Start(t, snmpd.Options{})
	v := newTable(20)
	want := formatAll(v)
	a := startAgent(t, srv.AgentXAddress(), agent.StaticView{V: v}, true, defaultBackoff)
	w := startWalker(t, srv, want)
	if _, ok := w.firstGoodAfter(time.Now(), 5*time.Second); !ok {
		t.Fatal("no walk succeeded before the restart")
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		stop := srv.Stop
		if sig == syscall.SIGKILL {
			stop = srv.Kill
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		a.waitState(t, agent.StateLost, 5*time.Second)
		time.Sleep(1500 * time.Millisecond) // let the backoff grow to its cap
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		up := time.Now()
		d, ok := w.firstGoodAfter(up, 10*time.Second)
		if !ok {
			t.Fatalf("after %v: no correct walk within 10s of snmpd being up", sig)
		}
		t.Logf("after %v: walks work again %v after snmpd is up", sig, d)
		if d > recoveryBound {
			t.Errorf("after %v: recovery took %v, want at most %v", sig, d, recoveryBound)
		}
	}
}

func TestAgentStartsBeforeSnmpd(t *testing.T) {
	srv := snmpd.New(t, snmpd.Options{})
	v := newTable(20)
	want := formatAll(v)
	a := startAgent(t, srv.AgentXAddress(), agent.StaticView{V: v}, false, defaultBackoff)
	a.waitState(t, agent.StateUnreachable, 5*time.Second)
	time.Sleep(2 * time.Second)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	w := startWalker(t, srv, want)
	d, ok := w.firstGoodAfter(up, 10*time.Second)
	if !ok {
		t.Fatal("no correct walk within 10s of snmpd being up")
	}
	t.Logf("walks work %v after snmpd is up", d)
	if d > recoveryBound {
		t.Errorf("recovery took %v, want at most %v", d, recoveryBound)
	}
}
