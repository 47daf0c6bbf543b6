package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gosnmp/gosnmp"
	"golang.org/x/sys/unix"

	"github.com/lvs-agentx/lvs-agentx/mib"
)

// invoke runs one command line the way main does and returns its exit
// status and output.
func invoke(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestUsageErrors: every command line mistake is one line on stderr naming
// the problem, and exit status 2, before anything is started.
func TestUsageErrors(t *testing.T) {
	notNS := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(notNS, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // in the one line on stderr
	}{
		{"unknown command", []string{"serve"}, nil, `unknown command "serve"`},
		{"unknown flag", []string{"run", "--bogus"}, nil, "flag provided but not defined: -bogus"},
		{"unknown flag, default command", []string{"--bogus"}, nil, "-bogus"},
		{"stray argument", []string{"dump", "extra"}, nil, `unexpected argument "extra"`},
		{"bad duration", []string{"run", "--cache-ttl", "soon"}, nil, "cache-ttl"},
		{"zero ttl", []string{"run", "--cache-ttl", "0s"}, nil, "--cache-ttl 0s: want a positive duration"},
		{"priority out of range", []string{"run", "--priority", "0"}, nil, "--priority 0: want 1 to 255"},
		{"negative watch interval", []string{"run", "--watch-interval", "-1s"}, nil, "--watch-interval -1s: want 0 (no watch) or a positive duration"},
		{"unknown notification kind", []string{"run", "--notify", "reals,trains"}, nil, `--notify "reals,trains": unknown kind of change "trains": want all, none, or a list of ipvs, services, availability, reals, weights, thresholds, sync`},
		{"notify-max 0", []string{"run", "--notify-max", "0"}, nil, "--notify-max 0: want 1 or more"},
		{"agentx none without metrics", []string{"run", "--agentx", "none"}, nil, "--agentx none: with no --metrics-listen there is nothing to serve"},
		{"agentx none writable", []string{"run", "--agentx", "none", "--metrics-listen", ":0", "--writable"}, nil, "--writable: maintenance is by SNMP SET"},
		{"metrics-listen no port", []string{"run", "--metrics-listen", "localhost"}, nil, `--metrics-listen "localhost": want host:port`},
		{"metrics-real-servers", []string{"run", "--metrics-real-servers", "some"}, nil, `--metrics-real-servers "some": want one of full, names, none`},
		{"web config without endpoint", []string{"run", "--web.config.file", "/etc/passwd"}, nil, "without --metrics-listen"},
		{"web config missing", []string{"run", "--metrics-listen", ":0", "--web.config.file", "/nonexistent/web.yml"}, nil, "--web.config.file: web config /nonexistent/web.yml"},
		{"bad env notify", []string{"run"}, map[string]string{"LVS_AGENTX_NOTIFY": "everything"}, `--notify "everything"`},
		{"agentx udp", []string{"run", "--agentx", "udp:127.0.0.1:705"}, nil, `--agentx: agentx address "udp:127.0.0.1:705"`},
		{"agentx tcp no port", []string{"run", "--agentx", "tcp:localhost"}, nil, "--agentx: agentx address"},
		{"agentx empty unix", []string{"run", "--agentx", "unix:"}, nil, "want /path, unix:/path or tcp:host:port"},
		{"netns missing", []string{"run", "--netns", "/nonexistent/netns/lb"}, nil, "--netns: open /nonexistent/netns/lb: no such file"},
		{"netns not a namespace", []string{"dump", "--netns", notNS}, nil, "not a network namespace"},
		{"netns of another kind", []string{"check", "--netns", "/proc/self/ns/mnt"}, nil, "not a network namespace"},
		{"netns one of several missing", []string{"run", "--netns", "/proc/self/ns/net", "--netns", "/nonexistent/b"}, nil, "--netns: open /nonexistent/b"},
		{"netns names clash", []string{"run", "--netns", "/proc/self/ns/net", "--netns", "/proc/1/ns/net"}, nil, `context name "net" given twice`},
		{"netns env list", []string{"run"}, map[string]string{"LVS_AGENTX_NETNS": "a=/proc/self/ns/net,b=/nonexistent"}, "--netns: open /nonexistent"},
		{"netns name too long", []string{"run", "--netns", strings.Repeat("n", 33) + "=/proc/self/ns/net"}, nil, "longer than SNMP's 32 octets"},
		{"netns empty name", []string{"run", "--netns", "=/proc/self/ns/net"}, nil, "want PATH or NAME=PATH"},
		{"netns-dir missing", []string{"run", "--netns-dir", "/nonexistent/netns"}, nil, "--netns-dir /nonexistent/netns: not a directory"},
		{"default-netns none alone", []string{"run", "--default-netns", "none"}, nil, "nothing to serve"},
		{"default-netns not a namespace", []string{"run", "--default-netns", notNS}, nil, "not a network namespace"},
		{"dump netns empty name", []string{"dump", "--netns", "=/x"}, nil, "want PATH or NAME=PATH"},
		{"check context without v3", []string{"check", "--context", "lb"}, nil, `--context "lb" needs SNMPv3 (--user)`},
		{"bad log level", []string{"run", "--log-level", "loud"}, nil, `--log-level "loud"`},
		{"bad log format", []string{"run", "--log-format", "xml"}, nil, `--log-format "xml": want text or json`},
		{"bad dump format", []string{"dump", "--format", "yaml"}, nil, `--format "yaml": want table, json or oids`},
		{"bad snmp target", []string{"check", "--snmp", "udp:127.0.0.1:notaport"}, nil, `--snmp "127.0.0.1:notaport"`},
		{"bad auth proto", []string{"check", "--user", "u", "--auth-pass", "x12345678", "--auth-proto", "ROT13"}, nil, `--auth-proto "ROT13"`},
		{"priv without auth", []string{"check", "--user", "u", "--priv-pass", "x12345678"}, nil, "--priv-pass needs --auth-pass"},
		{"bad env duration", []string{"run"}, map[string]string{"LVS_AGENTX_CACHE_TTL": "soon"}, `LVS_AGENTX_CACHE_TTL="soon"`},
		{"bad env number", []string{"run"}, map[string]string{"LVS_AGENTX_PRIORITY": "high"}, `LVS_AGENTX_PRIORITY="high"`},
		{"bad env value checked", []string{"run"}, map[string]string{"LVS_AGENTX_PRIORITY": "300"}, "--priority 300"},
		{"bad env format", []string{"dump"}, map[string]string{"LVS_AGENTX_FORMAT": "yaml"}, `--format "yaml"`},
		{"bad env agentx", []string{"run"}, map[string]string{"LVS_AGENTX_AGENTX": "udp:x:1"}, "--agentx"},
		{"mib stray argument", []string{"mib", "LVS-MIB"}, nil, `unexpected argument "LVS-MIB"`},
		{"writable not a boolean", []string{"run"}, map[string]string{"LVS_AGENTX_WRITABLE": "maybe"}, `LVS_AGENTX_WRITABLE="maybe"`},
		{"writable context empty", []string{"run", "--writable-contexts", "lb,"}, nil, `context name "": want 1 to 32 octets`},
		{"writable context too long", []string{"run", "--writable-contexts", strings.Repeat("n", 33)}, nil, "want 1 to 32 octets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := invoke(t, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("stderr is not one line: %q", stderr)
			}
			if !strings.HasPrefix(stderr, "lvs-agentx ") || !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tt.want)
			}
		})
	}
}

// TestUsagefOneLine: a usage error is one line even when what it quotes
// is several, as yaml's errors are.
func TestUsagefOneLine(t *testing.T) {
	for _, tt := range []struct {
		format string
		args   []any
		want   string
	}{
		{"--x %q: want y", []any{"z"}, `--x "z": want y`},
		{"--x: %v", []any{errors.New("yaml: unmarshal errors:\n  line 1: field f not found")}, "--x: yaml: unmarshal errors: line 1: field f not found"},
		{"%v", []any{"a\n\n  b\n"}, "a b"},
		{"--x %q", []any{"two  spaces"}, `--x "two  spaces"`},
	} {
		if got := usagef(tt.format, tt.args...).Error(); got != tt.want {
			t.Errorf("usagef(%q, %q) = %q, want %q", tt.format, tt.args, got, tt.want)
		}
	}
}

// TestHelp: --help of every command exits 0 and lists every flag with its
// environment variable and its default.
func TestHelp(t *testing.T) {
	tests := []struct {
		cmd   []string
		flags map[string]string // flag -> default as shown
	}{
		{[]string{"run"}, map[string]string{
			"agentx": `"/var/agentx/master"`, "cache-ttl": `"1s"`, "state-file": `"/var/lib/lvs-agentx/indexes.json"`,
			"netns": "empty", "netns-dir": "empty", "default-netns": "empty",
			"priority": `"127"`, "ping-interval": `"15s"`, "log-level": `"info"`, "log-format": `"text"`,
			"refresh-wait": `"250ms"`, "watch-interval": `"5s"`, "notify": `"all"`, "notify-max": `"20"`,
			"writable": `"false"`, "writable-contexts": "empty",
			"metrics-listen": "empty", "web.config.file": "empty", "metrics-real-servers": `"full"`}},
		{nil, map[string]string{"agentx": `"/var/agentx/master"`, "priority": `"127"`}}, // run is the default
		{[]string{"dump"}, map[string]string{"format": `"table"`, "netns": "empty", "context": "empty", "state-file": `"/var/lib/lvs-agentx/indexes.json"`}},
		{[]string{"check"}, map[string]string{
			"snmp": `"udp:127.0.0.1:161"`, "community": `"public"`, "user": "empty", "auth-proto": `"SHA"`,
			"auth-pass": "empty", "priv-proto": `"AES"`, "priv-pass": "empty", "timeout": `"3s"`, "netns": "empty", "context": "empty",
			"metrics": "empty", "metrics-ca-file": "empty"}},
		{[]string{"mib"}, map[string]string{"dir": "empty"}},
	}
	for _, tt := range tests {
		for _, h := range []string{"--help", "-h"} {
			args := append(append([]string(nil), tt.cmd...), h)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, stdout, stderr := invoke(t, args...)
				if code != 0 || stderr != "" {
					t.Fatalf("exit %d, stderr %q", code, stderr)
				}
				if !strings.HasPrefix(stdout, "Usage: lvs-agentx") {
					t.Errorf("no synopsis:\n%s", stdout)
				}
				for name, def := range tt.flags {
					line := "  --" + name + "  [" + envName(name) + "]\n"
					i := strings.Index(stdout, line)
					if i < 0 {
						t.Errorf("flag --%s with %s not listed:\n%s", name, envName(name), stdout)
						continue
					}
					desc, _, _ := strings.Cut(stdout[i+len(line):], "\n")
					if !strings.Contains(desc, "(default "+def+")") && !strings.Contains(desc, "(default: "+def+")") {
						t.Errorf("--%s: description %q does not give the default %s", name, desc, def)
					}
				}
				if n := strings.Count(stdout, "\n  --"); n != len(tt.flags) && len(tt.cmd) > 0 {
					t.Errorf("%d flags listed, test knows %d: update the test\n%s", n, len(tt.flags), stdout)
				}
			})
		}
	}
}

// TestEnvironment: a flag's environment variable is used when the flag is
// absent, and the command line wins over it. The run command validates
// --priority before --agentx, so which error comes out shows which value
// was used.
func TestEnvironment(t *testing.T) {
	tests := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"env used", "300", []string{"run", "--agentx", "udp:x:1"}, "--priority 300"},
		{"flag wins", "300", []string{"run", "--priority", "5", "--agentx", "udp:x:1"}, "--agentx"},
		{"flag wins, equals form", "300", []string{"run", "--priority=5", "--agentx=udp:x:1"}, "--agentx"},
		{"empty env ignored", "", []string{"run", "--agentx", "udp:x:1"}, "--agentx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LVS_AGENTX_PRIORITY", tt.env)
			code, _, stderr := invoke(t, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}

	// A valid environment value reaches the command: mib --dir from the
	// environment writes there, and --dir on the command line wins.
	envDir, flagDir := t.TempDir(), t.TempDir()
	t.Setenv("LVS_AGENTX_DIR", envDir)
	if code, _, stderr := invoke(t, "mib"); code != 0 {
		t.Fatalf("mib with LVS_AGENTX_DIR: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(envDir, "LVS-MIB.txt")); err != nil {
		t.Errorf("LVS_AGENTX_DIR not used: %v", err)
	}
	if code, _, stderr := invoke(t, "mib", "--dir", flagDir); code != 0 {
		t.Fatalf("mib --dir: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(flagDir, "LVS-MIB.txt")); err != nil {
		t.Errorf("--dir did not win over LVS_AGENTX_DIR: %v", err)
	}
}

// TestTopHelp: --help without a command, and the help command, list the
// commands and then the flags of run, the default command.
func TestTopHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := invoke(t, args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			flags := strings.Index(stdout, "\n  --agentx  [LVS_AGENTX_AGENTX]\n")
			if flags < 0 {
				t.Fatalf("the flags of run are not listed:\n%s", stdout)
			}
			for _, cmd := range []string{"[run]", "dump", "check", "mib", "version"} {
				if i := strings.Index(stdout, "\n  lvs-agentx "+cmd); i < 0 || i > flags {
					t.Errorf("command %s not listed before the flags:\n%s", cmd, stdout)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := invoke(t, "version")
	if code != 0 || stderr != "" || stdout != "lvs-agentx "+version+"\n" {
		t.Errorf("version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = invoke(t, "help")
	if code != 0 || !strings.Contains(stdout, "lvs-agentx check") {
		t.Errorf("help: exit %d, %q", code, stdout)
	}
}

// TestMIB: mib prints both modules; mib --dir writes them, byte for byte,
// into the directory; an unwritable directory is an error, not a usage
// mistake.
func TestMIB(t *testing.T) {
	files := mib.Files()
	if len(files) != 2 {
		t.Fatalf("mib.Files() has %d modules, want LVS-MIB and OC-MIB", len(files))
	}
	code, stdout, stderr := invoke(t, "mib")
	if code != 0 || stderr != "" {
		t.Fatalf("mib: exit %d, %s", code, stderr)
	}
	for _, def := range []string{"LVS-MIB DEFINITIONS ::= BEGIN", "OC-MIB DEFINITIONS ::= BEGIN"} {
		if strings.Count(stdout, def) != 1 {
			t.Errorf("mib output has %d of %q", strings.Count(stdout, def), def)
		}
	}
	var all []byte
	for _, f := range files {
		all = append(all, f.Content...)
	}
	if stdout != string(all) {
		t.Errorf("mib output (%d bytes) is not the modules (%d bytes)", len(stdout), len(all))
	}

	dir := t.TempDir()
	code, stdout, stderr = invoke(t, "mib", "--dir", dir)
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("mib --dir: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, want := range []string{"LVS-MIB.txt", "OC-MIB.txt"} {
		var f *mib.File
		for i := range files {
			if files[i].Name == want {
				f = &files[i]
			}
		}
		if f == nil {
			t.Fatalf("no module file %s in mib.Files()", want)
		}
		got, err := os.ReadFile(filepath.Join(dir, want))
		if err != nil || !bytes.Equal(got, f.Content) {
			t.Errorf("%s: %v, %d bytes, want %d", want, err, len(got), len(f.Content))
		}
	}

	code, _, stderr = invoke(t, "mib", "--dir", filepath.Join(dir, "missing", "dir"))
	if code != 1 || !strings.Contains(stderr, "write MIB") {
		t.Errorf("mib --dir into a missing directory: exit %d, %q", code, stderr)
	}
}

// TestMasterHint: the errors a dial of the AgentX socket really returns
// (wrapped as net.Dial wraps them) get the snmpd.conf advice.
func TestMasterHint(t *testing.T) {
	dialErr := func(errno syscall.Errno) error {
		return fmt.Errorf("connect to master: %w",
			&net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", errno)})
	}
	tests := []struct {
		err  error
		want string
	}{
		{dialErr(syscall.EACCES), "agentXPerms"},
		{dialErr(syscall.ENOENT), "'master agentx'"},
		{dialErr(syscall.ECONNREFUSED), "'master agentx'"},
		{dialErr(syscall.ETIMEDOUT), ""},
		{errors.New("agentx: open refused"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			got := masterHint(tt.err)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("masterHint(%v) = %q, want it to contain %q", tt.err, got, tt.want)
			}
		})
	}
	// A real connect to a missing socket.
	_, err := net.Dial("unix", filepath.Join(t.TempDir(), "master"))
	if !strings.Contains(masterHint(err), "'master agentx'") {
		t.Errorf("missing socket: %v gives %q", err, masterHint(err))
	}
}

// TestExplainSNMPError: the errors gosnmp gives for the usual mistakes get
// a verdict naming the setting to check.
func TestExplainSNMPError(t *testing.T) {
	tests := []struct {
		v    gosnmp.SnmpVersion
		err  string
		want string
	}{
		{gosnmp.Version2c, "request timeout (after 1 retries)", "check --community against rocommunity"},
		{gosnmp.Version3, "request timeout (after 1 retries)", "does not answer"},
		{gosnmp.Version3, "incoming packet is not authentic, discarding", "refused the SNMPv3 credentials"},
		{gosnmp.Version3, "unknown username", "refused the SNMPv3 credentials"},
		{gosnmp.Version3, "usmStatsDecryptionErrors", "refused the SNMPv3 credentials"},
		{gosnmp.Version2c, "something else", "failed: something else"},
	}
	for _, tt := range tests {
		t.Run(tt.v.String()+" "+tt.err, func(t *testing.T) {
			got := explainSNMPError("udp:127.0.0.1:161", tt.v, errors.New(tt.err))
			if !strings.Contains(got, tt.want) {
				t.Errorf("%q: %q, want it to contain %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestLogStatusOnSignal(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal)
	done := make(chan struct{})
	go func() { logStatusOn(ctx, log, ch); close(done) }()
	ch <- syscall.SIGUSR1
	ch <- syscall.SIGUSR1 // the first one has been logged once this is taken
	cancel()
	<-done
	if n := strings.Count(buf.String(), `msg="lvs-agentx status" goroutines=`); n < 1 {
		t.Fatalf("status lines: %d; log: %q", n, buf.String())
	}
}

func TestDisableHugePages(t *testing.T) {
	disableHugePages(slog.New(slog.DiscardHandler))
	if n, err := unix.PrctlRetInt(unix.PR_GET_THP_DISABLE, 0, 0, 0, 0); err != nil || n != 1 {
		t.Errorf("PR_GET_THP_DISABLE = %d, %v; want 1", n, err)
	}
}

// TestWritableContexts: where SETs may change weights. Off unless asked;
// --writable opens every context, --writable-contexts only the named ones
// it lists, the default context following --writable alone.
func TestWritableContexts(t *testing.T) {
	tests := []struct {
		args []string
		env  string // LVS_AGENTX_WRITABLE
		want map[string]bool
	}{
		{nil, "", map[string]bool{"": false, "lb": false}},
		{[]string{"--writable"}, "", map[string]bool{"": true, "lb": true, "web": true}},
		{nil, "true", map[string]bool{"": true, "lb": true}},
		{[]string{"--writable=false"}, "true", map[string]bool{"": false, "lb": false}},
		{[]string{"--writable-contexts", "lb"}, "", map[string]bool{"": false, "lb": true, "web": false}},
		{[]string{"--writable", "--writable-contexts", "lb,web"}, "", map[string]bool{"": true, "lb": true, "web": true, "db": false}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " ")+" env="+tt.env, func(t *testing.T) {
			t.Setenv("LVS_AGENTX_WRITABLE", tt.env)
			cfg, err := parseRun(tt.args, true, io.Discard, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := cfg.writableContext(name); got != want {
					t.Errorf("context %q writable %v, want %v", name, got, want)
				}
			}
		})
	}
}
