// Command demo is what `make demo` runs: in a network namespace of its own
// on a kernel with IPVS (this one, or a QEMU guest's where this one has
// none), it sets up a few virtual services carrying traffic, and prints
// what the kernel and lvs-agentx report about them.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

//go:embed demo.sh
var script string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	dir, err := testbed.NewWorkDir("demo")
	if err != nil {
		return err
	}
	repo, err := os.Getwd() // make demo runs from the repository's top
	if err != nil {
		return err
	}
	if _, err := os.Stat(repo + "/contrib/rrdtool/lvs-rrd.sh"); err != nil {
		return fmt.Errorf("run the demo from the repository's top directory (make demo): %w", err)
	}
	s := testbed.Scenario{
		Script:   fmt.Sprintf("REPO=%q\n", repo) + script,
		Binaries: map[string]string{"lvs-agentx": "github.com/lvs-agentx/lvs-agentx/cmd/lvs-agentx"},
		Modules:  []string{"ip_vs_sh"},
		Timeout:  10 * time.Minute,
	}
	backend, err := testbed.Choose(s)
	if err != nil {
		return err
	}
	switch backend {
	case testbed.Native:
		fmt.Printf("This kernel has IPVS: the demo runs in a network namespace of its own (work directory %s)...\n", dir)
	case testbed.UML:
		fmt.Printf("This kernel has no IPVS: booting Debian's User-mode Linux kernel to run it (work directory %s)...\n", dir)
	default:
		fmt.Printf("This kernel has no IPVS: booting Debian's stock kernel in QEMU (%s) to run it (work directory %s)...\n", backend, dir)
	}
	r, err := testbed.Boot(ctx, dir, s)
	if err != nil {
		if r != nil {
			fmt.Fprintln(os.Stderr, r.Describe())
		}
		return err
	}
	fmt.Print(r.Stdout)
	if r.ExitCode != 0 {
		return fmt.Errorf("the guest scenario failed (exit %d):\n%s", r.ExitCode, r.Stderr)
	}
	fmt.Printf("\nGraphs (PNG): %s/graphs\nEverything the guest wrote is in %s\n", dir, dir)
	return nil
}
