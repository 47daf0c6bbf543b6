// Command walkloop bulk-walks subtrees over SNMPv2c again and again from one
// process, as a long-running poller (snmp_exporter, a Zabbix or Cacti
// poller) does, until a minimum time has passed, and prints the name of
// every varbind it got, one per line. The bench times it to measure an
// agent's sustained throughput: at small tables a walk by snmpbulkwalk is
// mostly the manager starting.
//
// Given more than one subtree, each walked through its own community and
// socket, it interleaves them request by request and writes, to the file
// -summary names, each one's varbinds, walks and the time its requests
// took: one GetBulk's time runs from sending it to sending the next
// subtree's, so it holds the manager's handling of the answer too, and the
// times add up to the whole. Two agents compared that way see the same
// machine to the millisecond: a drift of an emulated guest's speed, which
// moves one walk's rate by a fifth from the next, falls on both alike.
//
//	walkloop -target 127.0.0.1:1161 -for 10s .1.3.6.1.4.1.8225.4711
//	walkloop -for 10s -summary sum.txt ours@.1.3.6.1.4.1.8225.4711.18.1.18 theirs@.1.3.6.1.4.1.9586.100.5.3.4.1.4
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

func main() {
	target := flag.String("target", "127.0.0.1:161", "agent address, HOST:PORT")
	community := flag.String("community", "public", "SNMPv2c community of a subtree given without one")
	minTime := flag.Duration("for", 10*time.Second, "walk until this much time per subtree has passed in all")
	reps := flag.Uint("r", 50, "max-repetitions of each GetBulk")
	timeout := flag.Duration("t", 30*time.Second, "timeout of each request")
	summary := flag.String("summary", "", "write each subtree's varbinds, walks and seconds to this file")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: walkloop [flags] [COMMUNITY@]OID...")
		os.Exit(2)
	}
	if err := run(*target, *community, flag.Args(), *minTime, uint32(*reps), *timeout, *summary); err != nil {
		fmt.Fprintln(os.Stderr, "walkloop:", err)
		os.Exit(1)
	}
}

func run(target, community string, args []string, minTime time.Duration, reps uint32, timeout time.Duration, summary string) error {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return fmt.Errorf("target %q: %w", target, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return fmt.Errorf("target %q: port: %w", target, err)
	}
	var subtrees []*subtree
	for _, arg := range args {
		c, root := community, arg
		if i := strings.LastIndexByte(arg, '@'); i >= 0 {
			c, root = arg[:i], arg[i+1:]
		}
		g := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Community: c, Version: gosnmp.Version2c,
			Timeout: timeout, MaxRepetitions: reps}
		if err := g.Connect(); err != nil {
			return fmt.Errorf("connect %s: %w", target, err)
		}
		defer g.Conn.Close()
		subtrees = append(subtrees, newSubtree(g, root))
	}
	w := bufio.NewWriter(os.Stdout)
	if err := walk(subtrees, reps, minTime, time.Now, w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if summary == "" {
		return nil
	}
	var b strings.Builder
	for _, s := range subtrees {
		fmt.Fprintf(&b, "%s %d %d %.6f\n", s.root, s.varbinds, s.walks, s.took.Seconds())
	}
	if err := os.WriteFile(summary, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return nil
}

// walk sends GetBulks to the subtrees in turn, one each per round, until
// len(subtrees) times minTime has passed and each subtree has ended a walk,
// so that the time covers each one's whole table (an agent's cost per
// varbind may grow along its table). A subtree alone stops at the end of a
// walk, as a poller does; interleaved ones stop together at the end of a
// round, so that none walks alone at the end, the others' unfinished walks
// counted as far as they went (walks of the same length end in the same
// round).
func walk(subtrees []*subtree, reps uint32, minTime time.Duration, now func() time.Time, w io.Writer) error {
	start := now()
	for {
		for _, s := range subtrees {
			t0 := now()
			if err := s.step(reps, w); err != nil {
				return err
			}
			s.took += now().Sub(t0)
		}
		if now().Sub(start) >= time.Duration(len(subtrees))*minTime && walked(subtrees) {
			return nil
		}
	}
}

// walked reports whether every subtree has ended a walk, and a subtree
// alone is at the end of one.
func walked(subtrees []*subtree) bool {
	for _, s := range subtrees {
		if s.walks == 0 || len(subtrees) == 1 && s.next != s.root {
			return false
		}
	}
	return true
}

// bulker sends one GetBulk; *gosnmp.GoSNMP is one.
type bulker interface {
	GetBulk(oids []string, nonRepeaters uint8, maxRepetitions uint32) (*gosnmp.SnmpPacket, error)
}

// subtree is one subtree's walk, again and again.
type subtree struct {
	g    bulker
	root string // as given, with a leading dot
	next string // where the next GetBulk starts: root at a walk's start

	varbinds int           // varbinds got inside the subtree
	walks    int           // walks ended
	took     time.Duration // time of its GetBulks, see walk
}

func newSubtree(g bulker, root string) *subtree {
	if !strings.HasPrefix(root, ".") {
		root = "." + root
	}
	return &subtree{g: g, root: root, next: root}
}

// step sends one GetBulk, prints the names it got inside the subtree, and
// starts the walk again where it left the subtree.
func (s *subtree) step(reps uint32, w io.Writer) error {
	res, err := s.g.GetBulk([]string{s.next}, 0, reps)
	if err != nil {
		return fmt.Errorf("walk %d of %s, after %s: %w", s.walks+1, s.root, s.next, err)
	}
	if len(res.Variables) == 0 {
		return fmt.Errorf("walk %d of %s, after %s: empty response", s.walks+1, s.root, s.next)
	}
	for _, v := range res.Variables {
		if v.Type == gosnmp.EndOfMibView || v.Type == gosnmp.NoSuchObject || v.Type == gosnmp.NoSuchInstance ||
			!strings.HasPrefix(v.Name, s.root+".") {
			s.restart()
			return nil
		}
		if v.Name == s.next {
			return fmt.Errorf("walk %d of %s: %s returned again", s.walks+1, s.root, v.Name)
		}
		s.varbinds++
		s.next = v.Name
		if _, err := fmt.Fprintln(w, v.Name); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	return nil
}

func (s *subtree) restart() {
	s.walks++
	s.next = s.root
}
