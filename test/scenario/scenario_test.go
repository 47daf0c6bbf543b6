package scenario

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestAgentArgs(t *testing.T) {
	a := DefaultAgent()
	a.CacheTTL, a.LogLevel = "1s", "debug"
	want := `--agentx $WORK/agentx.sock --state-file $WORK/state.json --cache-ttl 1s --log-level debug`
	if got := strings.Join(a.Args(), " "); got != want {
		t.Errorf("Args = %s\nwant   %s", got, want)
	}
}

// TestScriptRenders runs a rendered prelude in bash: the agent's flags
// expand when startagent runs (here a stand-in binary prints them), and
// snmpd.conf holds the config.
func TestScriptRenders(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake-agent")
	if err := os.WriteFile(fake, []byte("#!/bin/bash\nprintf '%s|' \"$@\" > \"$WORK/args\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := DefaultAgent()
	a.StateFile = "$WORK/state-$SIZE.json"
	script := Script(Setup{SNMPD: Master("view x included .1"), Agent: a},
		"SIZE=7x2\nAGENT_BIN="+fake+" startagent --x \"a b\"\nwait $AGENT\necho \"$SNMPD_LISTEN $SNMP_TARGET\"\n")
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WORK="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "udp:127.0.0.1:1161 127.0.0.1:1161"; got != want {
		t.Errorf("addresses %q, want %q", got, want)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if want := "run|--agentx|" + dir + "/agentx.sock|--state-file|" + dir + "/state-7x2.json|--x|a b|"; string(args) != want {
		t.Errorf("agent args %q, want %q", args, want)
	}
	conf, _ := os.ReadFile(filepath.Join(dir, "snmpd.conf"))
	for _, want := range []string{"master agentx\n", "agentXSocket " + dir + "/agentx.sock\n", "view x included .1\n"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("snmpd.conf lacks %q:\n%s", want, conf)
		}
	}
}

// TestLibHelpers checks the helpers that need no snmpd: secs in both forms,
// waitfor's success and timeout.
func TestLibHelpers(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("bash", "-c", Script(Setup{}, `
secs 1234567; secs 1234567 3; secs 5 2
n=0; inc() { n=$((n + 1)); [ $n -ge 3 ]; }
waitfor 5 inc > /dev/null && echo "waited $n"
waitfor 0 false 2> /dev/null || echo "gave up"
`))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got, want := string(out), "1.234567\n1.235\n0.00\nwaited 3\ngave up\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
