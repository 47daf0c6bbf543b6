// Command walkloop bulk-walks one subtree over SNMPv2c again and again from
// one process, as a long-running poller (snmp_exporter, a Zabbix or Cacti
// poller) does, until a minimum time has passed, and prints the name of
// every varbind it got, one per line. The bench times it to measure an
// agent's sustained throughput: at small tables a walk by snmpbulkwalk is
// mostly the manager starting.
//
//	walkloop -target 127.0.0.1:1161 -for 10s .1.3.6.1.4.1.8225.4711
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/gosnmp/gosnmp"
)

func main() {
	target := flag.String("target", "127.0.0.1:161", "agent address, HOST:PORT")
	community := flag.String("community", "public", "SNMPv2c community")
	minTime := flag.Duration("for", 10*time.Second, "walk again until this much time has passed (at least one walk)")
	reps := flag.Uint("r", 50, "max-repetitions of each GetBulk")
	timeout := flag.Duration("t", 30*time.Second, "timeout of each request")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: walkloop [flags] OID")
		os.Exit(2)
	}
	if err := run(*target, *community, flag.Arg(0), *minTime, uint32(*reps), *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "walkloop:", err)
		os.Exit(1)
	}
}

func run(target, community, root string, minTime time.Duration, reps uint32, timeout time.Duration) error {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return fmt.Errorf("target %q: %w", target, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return fmt.Errorf("target %q: port: %w", target, err)
	}
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Community: community, Version: gosnmp.Version2c,
		Timeout: timeout, MaxRepetitions: reps}
	if err := g.Connect(); err != nil {
		return fmt.Errorf("connect %s: %w", target, err)
	}
	defer g.Conn.Close()
	w := bufio.NewWriter(os.Stdout)
	start := time.Now()
	for walks := 0; walks == 0 || time.Since(start) < minTime; walks++ {
		err := g.BulkWalk(root, func(v gosnmp.SnmpPDU) error {
			_, err := fmt.Fprintln(w, v.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("walk %d of %s: %w", walks+1, root, err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
