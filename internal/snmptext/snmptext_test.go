package snmptext_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
	"github.com/lvs-agentx/lvs-agentx/internal/snmptext"
	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// TestFormatVarBind pins the formats observed from net-snmp 5.9.3's
// `snmpwalk -On -m ""`; TestWriteWalkMatchesSnmpwalk checks them against
// a real snmpwalk.
func TestFormatVarBind(t *testing.T) {
	name := agentx.OID{1, 3, 6}
	tests := []struct {
		vb   agentx.VarBind
		want string
	}{
		{fixture.Str("rr"), `STRING: "rr"`},
		{fixture.Str(""), `""`},
		{fixture.Str(`"a"\`), `STRING: "\"a\"\\"`},
		{fixture.Str("a\tb\nc"), "STRING: \"a\tb\nc\""},
		{fixture.Hex(10, 99, 0, 1), "Hex-STRING: 0A 63 00 01 "},
		{fixture.Hex(65, 66, 67, 68), `STRING: "ABCD"`},
		{fixture.Hex(0x40), `STRING: "@"`},
		{fixture.Hex(0x80), "Hex-STRING: 80 "},
		{fixture.Hex(0), "Hex-STRING: 00 "},
		{fixture.Hex('a', 'b', 0), "Hex-STRING: 61 62 00 "},
		{fixture.Hex(0x7f), "Hex-STRING: 7F "},
		{fixture.IPv6("fd00::1"), "Hex-STRING: FD 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 "},
		{fixture.Hex(append(bytes.Repeat([]byte{0xff}, 16), 1)...), "Hex-STRING: " + strings.Repeat("FF ", 16) + "\n01 "},
		{fixture.Int(-1), "INTEGER: -1"},
		{fixture.Counter32(4294967295), "Counter32: 4294967295"},
		{fixture.Counter64(18446744073709551615), "Counter64: 18446744073709551615"},
		{fixture.Gauge32(3), "Gauge32: 3"},
		{fixture.IP("10.99.0.1"), "IpAddress: 10.99.0.1"},
		{fixture.TimeTicks(123), "Timeticks: (123) 0:00:01.23"},
		{fixture.TimeTicks(8640000 + 360000*2 + 6000*3 + 400 + 5), "Timeticks: (9378405) 1 day, 2:03:04.05"},
		{fixture.TimeTicks(3 * 8640000), "Timeticks: (25920000) 3 days, 0:00:00.00"},
		{agentx.VarBind{Type: agentx.ObjectIdentifier, OID: agentx.OID{1, 3}}, "OID: .1.3"},
	}
	for _, tt := range tests {
		tt.vb.Name = name
		got, err := snmptext.FormatVarBind(tt.vb)
		if want := ".1.3.6 = " + tt.want; err != nil || got != want {
			t.Errorf("snmptext.FormatVarBind(%+v) = %q, %v; want %q", tt.vb, got, err, want)
		}
	}
	for _, bad := range []agentx.VarBind{
		{Name: name, Type: agentx.IPAddress, Bytes: make([]byte, 16)},
		{Name: name, Type: agentx.NoSuchObject},
	} {
		if _, err := snmptext.FormatVarBind(bad); err == nil {
			t.Errorf("snmptext.FormatVarBind(%+v) succeeded", bad)
		}
	}
}

// passType is how snmpd's pass protocol names a type, and the value line.
func passValue(vb agentx.VarBind) (string, string) {
	switch vb.Type {
	case agentx.Integer:
		return "integer", fmt.Sprint(vb.Int)
	case agentx.Counter32:
		return "counter", fmt.Sprint(vb.Uint)
	case agentx.Gauge32:
		return "gauge", fmt.Sprint(vb.Uint)
	case agentx.Counter64:
		return "counter64", fmt.Sprint(vb.Uint)
	case agentx.TimeTicks:
		return "timeticks", fmt.Sprint(vb.Uint)
	case agentx.IPAddress:
		return "ipaddress", fmt.Sprintf("%d.%d.%d.%d", vb.Bytes[0], vb.Bytes[1], vb.Bytes[2], vb.Bytes[3])
	}
	var hex []string
	for _, b := range vb.Bytes {
		hex = append(hex, fmt.Sprintf("%02x", b))
	}
	return "octet", strings.Join(hex, " ")
}

// TestWriteWalkMatchesSnmpwalk serves the fixture view through a real
// snmpd (a `pass` script generated from the view) and compares
// `snmpwalk -v2c -On -m ""` with WriteWalk byte for byte.
func TestWriteWalkMatchesSnmpwalk(t *testing.T) {
	snmpd := testutil.NeedTool(t, "snmpd", "apt-get install -y snmpd")
	snmpwalk := testutil.NeedTool(t, "snmpwalk", "apt-get install -y snmp")
	v := mib.Build(fixture.Snapshot(), fixture.NewNumbers(), fixture.Clock)
	var want bytes.Buffer
	if err := snmptext.WriteWalk(&want, v, mib.Root); err != nil {
		t.Fatal(err)
	}

	// The pass script answers -g for each OID and -n for the root and
	// each OID: the walk only asks for those.
	dir := t.TempDir()
	var script strings.Builder
	script.WriteString("#!/bin/sh\ncase \"$1 $2\" in\n")
	prev := "-n " + mib.Root.String()
	for from := mib.Root; ; {
		vb, ok := v.Next(nil, from, false, nil)
		if !ok {
			break
		}
		typ, val := passValue(vb)
		answer := fmt.Sprintf("echo '%s'; echo '%s'; echo '%s';;\n", vb.Name, typ, val)
		fmt.Fprintf(&script, "'%s') %s'-g %s') %s", prev, answer, vb.Name, answer)
		prev = "-n " + vb.Name.String()
		from = vb.Name
	}
	script.WriteString("esac\n")
	passPath := filepath.Join(dir, "pass.sh")
	if err := os.WriteFile(passPath, []byte(script.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "snmpd.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("rocommunity public 127.0.0.1\npass %s %s\n", mib.Root, passPath)), 0o644); err != nil {
		t.Fatal(err)
	}

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	cmd := exec.Command(snmpd, "-f", "-C", "-c", conf, "-Lf", filepath.Join(dir, "snmpd.log"),
		"-p", filepath.Join(dir, "snmpd.pid"), "udp:"+addr)
	cmd.Env = append(os.Environ(), "MIBS=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	var out []byte
	for i := range 20 { // wait for snmpd to listen
		start := time.Now()
		out, err = exec.Command(snmpwalk, "-v2c", "-c", "public", "-On", "-m", "", "-t", "2", "-r", "1",
			addr, mib.Root.String()).CombinedOutput()
		t.Logf("attempt %d: %v %v %d bytes", i, time.Since(start), err, len(out))
		if err == nil && len(out) > 0 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "snmpd.log"))
		t.Fatalf("snmpwalk: %v\n%s\nsnmpd log:\n%s", err, out, log)
	}
	if !bytes.Equal(out, want.Bytes()) {
		got, exp := strings.Split(string(out), "\n"), strings.Split(want.String(), "\n")
		for i := range min(len(got), len(exp)) {
			if got[i] != exp[i] {
				t.Fatalf("line %d: snmpwalk %q, WriteWalk %q (%d vs %d lines)", i+1, got[i], exp[i], len(got), len(exp))
			}
		}
		t.Fatalf("snmpwalk printed %d lines, WriteWalk %d", len(got), len(exp))
	}
}
