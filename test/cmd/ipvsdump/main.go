// Command ipvsdump prints what the kernel's IPVS holds, for the end-to-end
// tests: by default one ipvsstats.Snapshot as JSON; with -moby, what
// github.com/moby/ipvs reads of the same table, as JSON; with -table, the
// ipvsstats table. -count reads repeatedly, one JSON line per snapshot,
// and errors are printed as {"error": "..."} lines so a test sees each.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/test/internal/mobyview"
	"github.com/moby/ipvs"
)

func main() {
	netns := flag.String("netns", "", "network namespace path")
	useMoby := flag.Bool("moby", false, "print what github.com/moby/ipvs reads")
	table := flag.Bool("table", false, "print the ipvsadm-style table")
	count := flag.Int("count", 1, "number of reads (JSON lines)")
	flag.Parse()
	if err := run(*netns, *useMoby, *table, *count); err != nil {
		fmt.Fprintln(os.Stderr, "ipvsdump:", err)
		os.Exit(1)
	}
}

func run(netns string, useMoby, table bool, count int) error {
	enc := json.NewEncoder(os.Stdout)
	if useMoby {
		v, err := readMoby(netns)
		if err != nil {
			return err
		}
		return enc.Encode(v)
	}
	r, err := ipvsstats.Open(ipvsstats.Options{NetNS: netns})
	if err != nil {
		return err
	}
	defer r.Close()
	if table {
		s, err := read(r)
		if err != nil {
			return err
		}
		return ipvsstats.WriteTable(os.Stdout, s)
	}
	for range count {
		s, err := read(r)
		if err != nil {
			if count == 1 {
				return err
			}
			if err := enc.Encode(map[string]string{"error": err.Error()}); err != nil {
				return err
			}
			continue
		}
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	return nil
}

func read(r *ipvsstats.Reader) (*ipvsstats.Snapshot, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return r.Read(ctx)
}

func readMoby(netns string) (*mobyview.View, error) {
	h, err := ipvs.New(netns)
	if err != nil {
		return nil, fmt.Errorf("moby/ipvs: %w", err)
	}
	defer h.Close()
	cfg, err := h.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("moby/ipvs config: %w", err)
	}
	v := &mobyview.View{
		TimeoutTCP:    int64(cfg.TimeoutTCP / time.Second),
		TimeoutTCPFin: int64(cfg.TimeoutTCPFin / time.Second),
		TimeoutUDP:    int64(cfg.TimeoutUDP / time.Second),
		Services:      []mobyview.Service{},
	}
	svcs, err := h.GetServices()
	if err != nil {
		return nil, fmt.Errorf("moby/ipvs services: %w", err)
	}
	for _, s := range svcs {
		ms := mobyview.Service{
			Family: s.AddressFamily, Protocol: s.Protocol, Port: s.Port,
			Addr: ipString(s.Address), FWMark: s.FWMark, Scheduler: s.SchedName,
			Flags: s.Flags, Timeout: s.Timeout, Netmask: s.Netmask, PEName: s.PEName,
			Stats: s.Stats, Dests: []mobyview.Dest{},
		}
		ds, err := h.GetDestinations(s)
		if err != nil {
			return nil, fmt.Errorf("moby/ipvs destinations: %w", err)
		}
		for _, d := range ds {
			ms.Dests = append(ms.Dests, mobyview.Dest{
				Addr: ipString(d.Address), Port: d.Port, Family: d.AddressFamily,
				Weight: d.Weight, ConnectionFlags: d.ConnectionFlags,
				UpperThreshold: d.UpperThreshold, LowerThreshold: d.LowerThreshold,
				ActiveConns: d.ActiveConnections, InactiveConns: d.InactiveConnections,
				Stats: ipvs.SvcStats(d.Stats),
			})
		}
		v.Services = append(v.Services, ms)
	}
	return v, nil
}

// ipString formats an address as netip does, so that it compares equal to
// the ipvsstats JSON ("" for none, IPv4 without the ::ffff: prefix).
func ipString(ip []byte) string {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return ""
	}
	return a.Unmap().String()
}
