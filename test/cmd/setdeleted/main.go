// Command setdeleted is the real-kernel half of "a real server deleted
// between TestSet and CommitSet", which snmpd cannot time for a test: it
// serves IPVS as the agent does (ipvslive.Source, writable through the
// ipvsstats reader), runs TestSet of lvsServiceAdminState.S = drained for
// the service -service, deletes that service's last real server with
// ipvsadm, and runs CommitSet, UndoSet after a failure, and CleanupSet. It
// prints "testset=E", "deleted=REAL", "commit=E index=I" and "undo=E" (E
// an AgentX error status) and logs the agent's lines to standard error.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

func main() {
	service := flag.String("service", "", "the TCP service to drain, ADDR:PORT")
	flag.Parse()
	if err := run(*service); err != nil {
		fmt.Fprintln(os.Stderr, "setdeleted:", err)
		os.Exit(1)
	}
}

func run(service string) error {
	ap, err := netip.ParseAddrPort(service)
	if err != nil {
		return fmt.Errorf("-service: %w", err)
	}
	key := ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4, Protocol: ipvsstats.ProtoTCP, Addr: ap.Addr(), Port: ap.Port()}
	ctx := context.Background()
	reader, err := ipvsstats.Open(ipvsstats.Options{})
	if err != nil {
		return err
	}
	defer reader.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	idx := ipvslive.NewIndexes()
	src := ipvslive.New(ctx, ipvslive.Config{Reader: reader, Indexes: idx, Logger: log})
	src.Refresh(ctx)
	w := ipvslive.NewWritable(src, ipvslive.WritableConfig{Writer: reader, Logger: log})
	num, _ := idx.Lookup(key, nil)
	if num == 0 {
		return fmt.Errorf("no service %s", service)
	}
	oid := append(append(agentx.OID{}, mib.Root...), 17, 1, 35, uint32(num))
	txn, _, e := w.TestSet([]agentx.VarBind{{Name: oid, Type: agentx.Integer, Int: int32(mib.AdminDrained)}})
	fmt.Printf("testset=%d\n", e)
	if e != agentx.NoError {
		return nil
	}
	defer txn.Cleanup()
	// The last real server in the kernel's order: the commit writes the
	// others first, so the undo has something to put back.
	snap, err := reader.Read(ctx)
	if err != nil {
		return err
	}
	var last string
	for _, s := range snap.Services {
		if s.ServiceKey == key && len(s.Dests) > 0 {
			last = s.Dests[len(s.Dests)-1].Label()
		}
	}
	if out, err := exec.Command("ipvsadm", "-d", "-t", service, "-r", last).CombinedOutput(); err != nil {
		return fmt.Errorf("ipvsadm -d: %v: %s", err, out)
	}
	fmt.Printf("deleted=%s\n", last)
	i, e := txn.Commit()
	fmt.Printf("commit=%d index=%d\n", e, i)
	if e != agentx.NoError {
		_, e = txn.Undo()
		fmt.Printf("undo=%d\n", e)
	}
	return nil
}
