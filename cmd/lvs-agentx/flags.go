package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/lvs-agentx/lvs-agentx/netns"
)

// errHelp is returned when --help was asked for and printed.
var errHelp = errors.New("help requested")

// flagSet is a command's flags; --help prints the synopsis and every flag.
type flagSet struct {
	*flag.FlagSet
	usage string // what --help prints before the flags
	out   io.Writer
}

// newFlagSet makes a flag set whose errors are returned, not printed;
// --help writes to out.
func newFlagSet(name, synopsis string, out io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // parseFlags prints help itself, once
	return &flagSet{FlagSet: fs, usage: "Usage: " + synopsis + "\n\nFlags (each also read from the environment variable shown):\n", out: out}
}

func (fs *flagSet) help() {
	fmt.Fprint(fs.out, fs.usage)
	fs.VisitAll(func(f *flag.Flag) {
		def := " (default: empty)"
		if f.DefValue != "" {
			def = fmt.Sprintf(" (default %q)", f.DefValue)
		}
		fmt.Fprintf(fs.out, "  --%s  [%s]\n      %s%s\n", f.Name, envName(f.Name), f.Usage, def)
	})
}

// envName is the environment variable for a flag: --cache-ttl is
// LVS_AGENTX_CACHE_TTL, --web.config.file LVS_AGENTX_WEB_CONFIG_FILE.
func envName(flagName string) string {
	return "LVS_AGENTX_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// parseFlags parses args and then, for every flag not given on the command
// line, the flag's environment variable, so that the command line wins over
// a systemd EnvironmentFile.
func parseFlags(fs *flagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.help()
			return errHelp
		}
		return usagef("%v (see --help)", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (see --help)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = usagef("%s=%q: %v", envName(f.Name), v, e)
		}
	})
	return err
}

// logFlags are the logging flags shared by the commands.
type logFlags struct {
	level  string
	format string
}

func (l *logFlags) register(fs *flagSet) {
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
}

// logger builds the slog logger the flags ask for, writing to w.
func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", l.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", l.format)
}

// checkNetNS makes sure a --netns path names a readable network namespace,
// so that a typo is reported before anything starts.
func checkNetNS(path string) error {
	if path == "" {
		return nil
	}
	if _, err := netns.Check("", path); err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return usagef("--netns: %v", err)
		}
		return usagef("--netns %v", err)
	}
	return nil
}
