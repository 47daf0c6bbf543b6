package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/snmptext"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/ipvsproc"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/mib"
	"github.com/lvs-agentx/lvs-agentx/netns"
)

// runDump is the "dump" command: read IPVS once and print it.
func runDump(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dump", "lvs-agentx dump [--format table|json|oids] [flags]", stdout)
	format := fs.String("format", "table", "output: table (like ipvsadm -Ln --stats), json, or oids (what the agent serves, as snmpwalk -On lines)")
	nsFlag := fs.String("netns", "", "read IPVS in the network namespace at PATH, numbering rows as the agent does in the SNMP context NAME (default: the path's last element): [NAME=]PATH; empty: this process's namespace and the default context")
	contextFlag := fs.String("context", "", "with --format oids: number rows as the agent does in this context instead (--context= for the default context, e.g. for a namespace the agent serves with --default-netns)")
	stateFile := fs.String("state-file", DefaultStateFile, "the agent's index state, read (never written) to number rows as the agent does, for --format oids")
	if err := parseFlags(fs, args, os.Getenv); err != nil {
		return err
	}
	switch *format {
	case "table", "json", "oids":
	default:
		return usagef("--format %q: want table, json or oids", *format)
	}
	var spec netns.Spec
	if *nsFlag != "" {
		var err error
		if spec, err = netns.ParseSpec(*nsFlag); err != nil {
			return usagef("--netns: %v", err)
		}
		if err := checkNetNS(spec.Path); err != nil {
			return err
		}
	}
	contextName := spec.Name
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "context" {
			contextName = *contextFlag
		}
	})
	snap, err := readOnce(ctx, spec.Path)
	if err != nil {
		return err
	}
	health, err := readHealthOnce(spec.Path)
	if err != nil {
		fmt.Fprintf(stderr, "lvs-agentx dump: warning: %v\n", err)
	}
	switch *format {
	case "table":
		if err := ipvsstats.WriteTable(stdout, snap); err != nil {
			return err
		}
		return writeHealth(stdout, health)
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		// The snapshot's fields stay at the top, as before the health.
		return enc.Encode(struct {
			*ipvsstats.Snapshot
			Health *mib.Health `json:",omitempty"`
		}{snap, jsonHealth(health)})
	}
	// The agent's numbering: its state file if there is one (a fresh start
	// numbers the same configuration the same way), never modified here.
	store, err := ipvslive.OpenIndexStoreReadOnly(*stateFile)
	if err != nil {
		fmt.Fprintf(stderr, "lvs-agentx dump: warning: %v\n", err)
	}
	v := mib.Build(snap, store.Indexes(contextName), time.Now)
	v.SetHealth(health)
	return snmptext.WriteWalk(stdout, v, mib.Root)
}

// readHealthOnce reads the totals, the connection table and the settings
// of the namespace at netns.
func readHealthOnce(netns string) (mib.Health, error) {
	f, err := ipvsproc.Open(netns)
	if err != nil {
		return mib.Health{}, fmt.Errorf("read IPVS /proc files: %w", err)
	}
	defer f.Close()
	totals, err := f.Totals()
	if err != nil {
		return mib.Health{}, err
	}
	settings, err := f.Settings()
	if err != nil {
		return mib.Health{}, err
	}
	conns, err := f.Conns()
	if err != nil {
		return mib.Health{}, err
	}
	return mib.Health{Totals: &totals, Settings: settings, Conns: &conns, ConnsReadAt: time.Now()}, nil
}

func jsonHealth(h mib.Health) *mib.Health {
	if h.Totals == nil {
		return nil
	}
	return &h
}

// writeHealth prints the health after dump's table: the totals as
// /proc/net/ip_vs_stats has them, the connection table by state as
// `ipvsadm -Lnc` would count it, and the settings; nothing when they
// could not be read.
func writeHealth(w io.Writer, h mib.Health) error {
	if h.Totals == nil {
		return nil
	}
	t, c := h.Totals, h.Conns
	var b strings.Builder
	fmt.Fprintf(&b, "\nTotals of the namespace (/proc/net/ip_vs_stats):\n")
	fmt.Fprintf(&b, "  %10s %10s %10s %12s %12s\n", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes")
	fmt.Fprintf(&b, "  %10d %10d %10d %12d %12d\n", t.Conns, t.InPkts, t.OutPkts, t.InBytes, t.OutBytes)
	fmt.Fprintf(&b, "  %10s %10s %10s %12s %12s\n", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
	fmt.Fprintf(&b, "  %10d %10d %10d %12d %12d\n", t.CPS, t.InPPS, t.OutPPS, t.InBPS, t.OutBPS)
	fmt.Fprintf(&b, "\nConnection table: %d entries, %d persistence templates, %d from a sync daemon\n",
		c.Entries, c.Templates, c.FromSync)
	for _, st := range c.States {
		fmt.Fprintf(&b, "  %-5s %-12s %d\n", st.Proto, st.State, st.Count)
	}
	fmt.Fprintf(&b, "\nSettings (/proc/sys/net/ipv4/vs):\n")
	for _, st := range h.Settings {
		fmt.Fprintf(&b, "  %-26s %s\n", st.Name, st.Value)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// readOnce reads one IPVS snapshot in the namespace at netns.
func readOnce(ctx context.Context, netns string) (*ipvsstats.Snapshot, error) {
	r, err := ipvsstats.Open(ipvsstats.Options{NetNS: netns})
	if err != nil {
		return nil, fmt.Errorf("read IPVS: %w", err)
	}
	defer r.Close()
	snap, err := r.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("read IPVS: %w", err)
	}
	return snap, nil
}
