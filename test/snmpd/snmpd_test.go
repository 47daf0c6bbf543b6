package snmpd

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestRenderConfig(t *testing.T) {
	got := RenderConfig(ConfigParams{AgentXSocket: "/s", AgentXTCP: "127.0.0.1:705", Extra: []string{"x y"}})
	for _, want := range []string{"master agentx\n", "agentXSocket /s,tcp:127.0.0.1:705\n",
		"agentXPerms 0777 0777\n", "rocommunity public 127.0.0.1\n", "x y\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
}

func TestStartStopRestart(t *testing.T) {
	s := Start(t, Options{TCP: true})
	get := func() (string, error) {
		out, err := exec.Command("snmpget", "-v2c", "-c", Community, "-On", "-t", "1", "-r", "1",
			s.ManagerAddress(), ".1.3.6.1.2.1.1.3.0").CombinedOutput()
		return string(out), err
	}
	if out, err := get(); err != nil || !strings.Contains(out, "Timeticks") {
		t.Fatalf("snmpget sysUpTime: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		if err := s.Restart(sig); err != nil {
			t.Fatalf("restart after %v: %v", sig, err)
		}
		if out, err := get(); err != nil {
			t.Fatalf("after %v restart: %v\n%s", sig, err, out)
		}
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if s.Running() {
		t.Fatal("still running after Stop")
	}
	if !strings.Contains(s.Log(), "NET-SNMP") {
		t.Errorf("log does not look like snmpd's:\n%s", s.Log())
	}
}
