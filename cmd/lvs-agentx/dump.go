package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// runDump is the "dump" command: read IPVS once and print it.
func runDump(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dump", "lvs-agentx dump [--format table|json|oids] [flags]", stdout)
	format := fs.String("format", "table", "output: table (like ipvsadm -Ln --stats), json, or oids (what the agent serves, as snmpwalk -On lines)")
	netns := fs.String("netns", "", "read IPVS in the network namespace at this path; empty: this process's")
	stateFile := fs.String("state-file", DefaultStateFile, "the agent's index state, read (never written) to number rows as the agent does, for --format oids")
	if err := parseFlags(fs, args, os.Getenv); err != nil {
		return err
	}
	switch *format {
	case "table", "json", "oids":
	default:
		return usagef("--format %q: want table, json or oids", *format)
	}
	if err := checkNetNS(*netns); err != nil {
		return err
	}
	snap, err := readOnce(ctx, *netns)
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
	idx, err := mib.OpenIndexesReadOnly(*stateFile)
	if err != nil {
		fmt.Fprintf(stderr, "lvs-agentx dump: warning: %v\n", err)
	}
	return mib.WriteOIDs(stdout, mib.Build(snap, idx, time.Now))
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
