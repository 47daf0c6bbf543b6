package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/snmptext"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
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
	switch *format {
	case "table":
		return ipvsstats.WriteTable(stdout, snap)
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(snap)
	}
	// The agent's numbering: its state file if there is one (a fresh start
	// numbers the same configuration the same way), never modified here.
	store, err := ipvslive.OpenIndexStoreReadOnly(*stateFile)
	if err != nil {
		fmt.Fprintf(stderr, "lvs-agentx dump: warning: %v\n", err)
	}
	return snmptext.WriteWalk(stdout, mib.Build(snap, store.Indexes(contextName), time.Now), mib.Root)
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
