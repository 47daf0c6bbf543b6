package agent_test

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/test/snmpd"
)

var updateSeeds = flag.Bool("update-seeds", false, "write the PDUs captured from snmpd to agentx/testdata/fuzz")

// TestSnmpdTrafficDecodes relays the agent's session with a real snmpd
// through a recorder and checks that every PDU either side sent decodes
// without error. With -update-seeds the PDUs become fuzz seeds.
func TestSnmpdTrafficDecodes(t *testing.T) {
	srv := snmpd.Start(t, snmpd.Options{Extra: []string{"rwcommunity private 127.0.0.1"}})
	proxy := filepath.Join(t.TempDir(), "proxy")
	l, err := net.Listen("unix", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var pdus [][]byte
	record := func(r io.Reader, w io.Writer) {
		for {
			b := make([]byte, agentx.HeaderSize)
			if _, err := io.ReadFull(r, b); err != nil {
				return
			}
			h, err := agentx.ParseHeader(b, 0)
			if err != nil {
				return
			}
			b = append(b, make([]byte, h.PayloadLength)...)
			if _, err := io.ReadFull(r, b[agentx.HeaderSize:]); err != nil {
				return
			}
			mu.Lock()
			pdus = append(pdus, b)
			mu.Unlock()
			if _, err := w.Write(b); err != nil {
				return
			}
		}
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			m, err := net.Dial("unix", srv.Socket)
			if err != nil {
				c.Close()
				return
			}
			go func() { record(c, m); m.Close() }()
			go func() { record(m, c); c.Close() }()
		}
	}()
	v := newTable(5)
	startAgent(t, "unix:"+proxy, agent.StaticView{V: v}, true)
	netsnmp(t, srv, "snmpget", cell(1, 1).String(), cell(2, 2).String(), cell(99, 1).String())
	netsnmp(t, srv, "snmpgetnext", cell(3, 1).String(), cell(16, 5).String())
	netsnmp(t, srv, "snmpbulkwalk", "-Cr5", base.String())
	exec.Command("snmpset", "-v2c", "-c", "private", "-t", "1", "-r", "0", srv.ManagerAddress(),
		cell(1, 1).String(), "i", "5").Run()
	mu.Lock()
	defer mu.Unlock()
	types := map[agentx.PDUType]int{}
	for _, b := range pdus {
		p, err := agentx.Decode(b, 0)
		if err != nil {
			t.Errorf("captured PDU %x: %v", b, err)
			continue
		}
		types[p.PDU.Type()]++
	}
	for _, want := range []agentx.PDUType{agentx.TypeOpen, agentx.TypeRegister, agentx.TypeGet,
		agentx.TypeGetNext, agentx.TypeTestSet, agentx.TypeResponse} {
		if types[want] == 0 {
			t.Errorf("no %s PDU captured (got %v)", want, types)
		}
	}
	if *updateSeeds {
		dir := filepath.Join("agentx", "testdata", "fuzz", "FuzzDecode")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		seen := map[agentx.PDUType]int{}
		for _, b := range pdus {
			ty := agentx.PDUType(b[1])
			if seen[ty]++; seen[ty] > 3 {
				continue
			}
			name := fmt.Sprintf("snmpd-%s-%x", ty, sha256.Sum256(b))[:40]
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
