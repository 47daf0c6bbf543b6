package uml

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestExitStatusOutputAndFiles(t *testing.T) {
	t.Parallel()
	r := Run(t, Scenario{
		Files:  map[string][]byte{"in.txt": []byte("from host\n")},
		Script: "cat in.txt; echo to-stderr >&2; uname -r > out.txt; lsmod | grep -q '^ip_vs ' && echo ipvs-loaded; exit 3",
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
	v, err := modulesVersion()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(r.File(t, "out.txt"))); got != v {
		t.Errorf("guest kernel %q, want the UML modules' version %q", got, v)
	}
	if !strings.Contains(r.Console, "IPVS") {
		t.Errorf("console has no IPVS boot messages:\n%s", tail(r.Console, 2000))
	}
}

func TestWithoutIPVSTheKernelHasNone(t *testing.T) {
	t.Parallel()
	r := Run(t, Scenario{NoIPVS: true, Script: "ipvsadm -Ln"})
	if r.ExitCode == 0 {
		t.Errorf("ipvsadm worked without ip_vs loaded:\n%s", r.Describe())
	}
}

func TestHungGuestIsKilled(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, err := Boot(context.Background(), newWorkDir(t), Scenario{Script: "sleep 600", Timeout: 20 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("err = %v, want a time-out", err)
	}
	if d := time.Since(start); d > 90*time.Second {
		t.Errorf("killing the guest took %s", d)
	}
}
