package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lvs-agentx/lvs-agentx/mib"
)

// runMIB is the "mib" command: print the MIB modules, or write them as
// separate files into a directory such as /usr/share/snmp/mibs.
func runMIB(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("mib", "lvs-agentx mib [--dir DIR]", stdout)
	dir := fs.String("dir", "", "write OC-MIB.txt and LVS-MIB.txt into this directory instead of printing them")
	if err := parseFlags(fs, args, os.Getenv); err != nil {
		return err
	}
	for _, f := range mib.Files() {
		if *dir != "" {
			if err := os.WriteFile(filepath.Join(*dir, f.Name), f.Content, 0o644); err != nil {
				return fmt.Errorf("write MIB: %w", err)
			}
			continue
		}
		if _, err := stdout.Write(f.Content); err != nil {
			return fmt.Errorf("write %s: %w", f.Name, err)
		}
	}
	return nil
}
