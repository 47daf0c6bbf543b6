// Command ipvsbench compares, in one run on one table, the time
// ipvsstats takes to read a snapshot with the time `ipvsadm -Ln --stats
// --exact` takes to list the same table.
//
//	ipvsbench -rules 1000 10 | ipvsadm -R   # build 1000 services x 10 real servers
//	ipvsbench -n 20                        # time 20 reads of each, print JSON
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

func main() {
	rules := flag.Bool("rules", false, "print ipvsadm -R rules for SERVICES DESTS and exit")
	n := flag.Int("n", 20, "reads of each kind")
	flag.Parse()
	var err error
	if *rules {
		err = printRules(flag.Args())
	} else {
		err = bench(*n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ipvsbench:", err)
		os.Exit(1)
	}
}

func printRules(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("-rules needs SERVICES DESTS")
	}
	svcs, err1 := strconv.Atoi(args[0])
	dests, err2 := strconv.Atoi(args[1])
	if err1 != nil || err2 != nil || svcs > 65000 || dests > 250 {
		return fmt.Errorf("bad counts %q", args)
	}
	for i := range svcs {
		vip := fmt.Sprintf("10.%d.%d.%d:80", 100+i/65536, i/256%256, i%256)
		fmt.Printf("-A -t %s -s wlc\n", vip)
		for j := range dests {
			fmt.Printf("-a -t %s -r 10.200.%d.%d:8080 -m -w %d\n", vip, i%250, j+1, j+1)
		}
	}
	return nil
}

type result struct {
	Services, Dests int
	Reads           int
	IpvsstatsMs     float64 // mean per read
	IpvsadmMs       float64 // mean per ipvsadm -Ln --stats --exact
	Ratio           float64 // ipvsstats / ipvsadm
}

func bench(n int) error {
	r, err := ipvsstats.Open(ipvsstats.Options{})
	if err != nil {
		return err
	}
	defer r.Close()
	ctx := context.Background()
	s, err := r.Read(ctx) // warm up, and size the table
	if err != nil {
		return err
	}
	res := result{Services: len(s.Services), Reads: n}
	for i := range s.Services {
		res.Dests += len(s.Services[i].Dests)
	}
	start := time.Now()
	for range n {
		if _, err := r.Read(ctx); err != nil {
			return err
		}
	}
	res.IpvsstatsMs = ms(time.Since(start)) / float64(n)

	start = time.Now()
	for range n {
		cmd := exec.Command("ipvsadm", "-Ln", "--stats", "--exact")
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("ipvsadm: %w", err)
		}
	}
	res.IpvsadmMs = ms(time.Since(start)) / float64(n)
	res.Ratio = res.IpvsstatsMs / res.IpvsadmMs
	return json.NewEncoder(os.Stdout).Encode(res)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
