package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
)

// version is the version "lvs-agentx version" prints. make build sets it
// with -ldflags "-X main.version=..." to what dist/version.sh computes: the
// VERSION file's release version, or VERSION+gitYYYYMMDD.N.HASH for a build
// of later commits. A build without it (go build, go install) takes the
// module version Go recorded, else "dev".
var version = ""

func init() {
	if version == "" {
		version = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = strings.TrimPrefix(bi.Main.Version, "v")
		}
	}
}

// usageError is a mistake on the command line: one line, exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	// Kept to one line whatever the errors it quotes hold: yaml's, from a
	// bad --web.config.file, span several.
	lines := strings.Split(fmt.Sprintf(format, args...), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return usageError{strings.Join(slices.DeleteFunc(lines, func(l string) bool { return l == "" }), " ")}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, rest, named := "run", args, false
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, rest, named = args[0], args[1:], true
	}
	var err error
	switch cmd {
	case "run":
		err = runAgent(ctx, rest, named, stdout, stderr)
	case "dump":
		err = runDump(ctx, rest, stdout, stderr)
	case "check":
		err = runCheck(ctx, rest, stdout, stderr)
	case "mib":
		err = runMIB(rest, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "lvs-agentx %s\n", version)
	case "help":
		err = runAgent(ctx, []string{"--help"}, false, stdout, stderr)
	default:
		err = usagef("unknown command %q (commands: run, dump, check, mib, version)", cmd)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "lvs-agentx %s: %v\n", cmd, err)
		return 2
	default:
		fmt.Fprintf(stderr, "lvs-agentx %s: %v\n", cmd, err)
		return 1
	}
}

// topUsage introduces the commands; "lvs-agentx --help" and "lvs-agentx
// help" print it before the flags of run.
const topUsage = `Usage: lvs-agentx [COMMAND] [flags]

lvs-agentx serves Linux Virtual Server (IPVS) statistics, the LVS-MIB
(.1.3.6.1.4.1.8225.4711), to net-snmp's snmpd over AgentX.

Commands:
  lvs-agentx [run] [flags]   serve the LVS-MIB to snmpd (the default command)
  lvs-agentx dump [flags]    print one IPVS snapshot: --format table|json|oids
  lvs-agentx check [flags]   walk the LVS-MIB through snmpd and compare it with IPVS
  lvs-agentx mib             print the MIB files (LVS-MIB, OC-MIB)
  lvs-agentx version         print the version
  lvs-agentx help            print this

Run "lvs-agentx COMMAND --help" for a command's flags. Every flag can also be
set with an environment variable LVS_AGENTX_<FLAG> (e.g. LVS_AGENTX_CACHE_TTL=2s).
`
