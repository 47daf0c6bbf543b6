// Package testutil holds the helpers the tests of several packages share.
package testutil

import (
	"net"
	"os/exec"
	"strings"
	"testing"
)

// NeedTool returns the path of a host tool the test runs, or fails the test
// saying how to install it: a missing tool is a broken test host, not a
// reason to skip.
func NeedTool(tb testing.TB, name, install string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("%s not found (%v); install it: %s", name, err, install)
	}
	return p
}

// Tail returns the last n lines of s, for quoting a long output or log in
// a failure message.
func Tail(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// FreePort returns a port on 127.0.0.1 ("udp" or "tcp") that was free a
// moment ago. Another process may take it before the test binds it; the
// odds are small for a test.
func FreePort(tb testing.TB, network string) int {
	tb.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
