package testbed

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

func TestExitStatusOutputAndFiles(t *testing.T) {
	r := Run(t, Scenario{
		Files:  map[string][]byte{"in.txt": []byte("from host\n")},
		Script: "cat in.txt; echo to-stderr >&2; lsmod | grep -q '^ip_vs ' && echo ipvs-loaded; echo $WORK > out.txt; exit 3",
	})
	if r.ExitCode != 3 {
		t.Errorf("ExitCode = %d, want 3", r.ExitCode)
	}
	if want := "from host\nipvs-loaded\n"; r.Stdout != want {
		t.Errorf("Stdout = %q, want %q", r.Stdout, want)
	}
	if r.Stderr != "to-stderr\n" {
		t.Errorf("Stderr = %q", r.Stderr)
	}
	if got := strings.TrimSpace(string(r.File(t, "out.txt"))); got != r.Dir {
		t.Errorf("$WORK = %q, want %q", got, r.Dir)
	}
}

// TestScenariosAreIsolated runs two scenarios: the first adds a virtual
// service, an address and a unix socket in its work directory and leaves
// a process running; the second sees none of it, and the process is gone.
func TestScenariosAreIsolated(t *testing.T) {
	a := MustRun(t, Scenario{Script: `set -e
ipvsadm -A -t 10.1.2.3:80 -s rr
ip addr add 10.1.2.3/32 dev lo
ip -o link | awk -F': ' '{ print $2 }' > links.txt
sleep 1000 &
echo $! > sleeper.pid
touch /tmp/leftover
ipvsadm -Ln > ipvs.txt
`})
	if !strings.Contains(string(a.File(t, "ipvs.txt")), "10.1.2.3:80") {
		t.Fatalf("first scenario has no service:\n%s", a.File(t, "ipvs.txt"))
	}
	if got := strings.Fields(string(a.File(t, "links.txt"))); len(got) != 1 || got[0] != "lo" {
		t.Errorf("a fresh network namespace has only lo, got %q", got)
	}
	b := MustRun(t, Scenario{Script: `
ipvsadm -Ln --numeric | grep -c '^TCP' || true
ip -o addr show dev lo | grep -c 10.1.2.3 || true
ls /tmp/leftover 2>/dev/null | wc -l
pgrep -x sleep | wc -l
`})
	if got := strings.Fields(b.Stdout); strings.Join(got, " ") != "0 0 0 0" {
		t.Errorf("second scenario saw services, addresses, files, processes %q, want none of each", got)
	}
	if _, err := os.Stat("/tmp/leftover"); err == nil {
		t.Errorf("a scenario's /tmp leaked into the test's")
	}
}

func TestWithoutIPVSTheKernelHasNone(t *testing.T) {
	r := Run(t, Scenario{NoIPVS: true, Script: `
ipvsadm -Ln && exit 10
modprobe ip_vs && exit 11
rm /run/modprobe.d/lvs-agentx-noipvs.conf
modprobe ip_vs || exit 12
ipvsadm -Ln > /dev/null || exit 13
`})
	if r.ExitCode != 0 {
		t.Errorf("want ipvsadm and modprobe to fail until the block is lifted, then work:\n%s", r.Describe())
	}
	// Later scenarios get IPVS back.
	MustRun(t, Scenario{Script: "ipvsadm -Ln"})
}

func TestHungScenarioIsKilled(t *testing.T) {
	start := time.Now()
	dir := newWorkDir(t)
	_, err := Boot(context.Background(), dir, Scenario{Script: "sleep 600", Timeout: 20 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("err = %v, want a time-out", err)
	}
	if d := time.Since(start); d > 90*time.Second {
		t.Errorf("killing the scenario took %s", d)
	}
}
