// Package snmpd runs a real net-snmp snmpd as an AgentX master for tests:
// each Server lives in its own temporary directory with its own AgentX
// socket and a free UDP port on 127.0.0.1 for managers.
package snmpd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// InstallHint is the command that provides the snmpd binary on Debian.
const InstallHint = "apt-get install -y snmpd"

// Community is the read-only SNMP community the rendered config grants to
// 127.0.0.1.
const Community = "public"

// ConfigParams are the parts of snmpd.conf that vary between servers.
type ConfigParams struct {
	// AgentXSocket is the unix socket path subagents connect to.
	AgentXSocket string
	// AgentXTCP, if set, is an additional "host:port" TCP AgentX listener.
	AgentXTCP string
	// PersistentDir keeps snmpd's state files out of /var/lib/snmp.
	PersistentDir string
	// AgentXTimeout, if set, overrides snmpd's per-request wait for
	// subagents (agentXTimeout, whole seconds).
	AgentXTimeout time.Duration
	// AnySource grants the community to managers anywhere, not only
	// 127.0.0.1 (a director polled over a link).
	AnySource bool
	// Extra lines appended verbatim.
	Extra []string
}

// RenderConfig returns snmpd.conf text that makes snmpd an AgentX master
// listening on p's sockets and answering community "public" from
// 127.0.0.1 (or anywhere). test/scenario writes it into scenarios.
func RenderConfig(p ConfigParams) string {
	var b strings.Builder
	b.WriteString("master agentx\n")
	sock := p.AgentXSocket
	if p.AgentXTCP != "" {
		sock += ",tcp:" + p.AgentXTCP
	}
	fmt.Fprintf(&b, "agentXSocket %s\n", sock)
	b.WriteString("agentXPerms 0777 0777\n")
	if p.AgentXTimeout > 0 {
		fmt.Fprintf(&b, "agentXTimeout %d\n", int(p.AgentXTimeout/time.Second))
	}
	if p.AnySource {
		fmt.Fprintf(&b, "rocommunity %s\n", Community)
	} else {
		fmt.Fprintf(&b, "rocommunity %s 127.0.0.1\n", Community)
	}
	// One log line per manager request would drown everything else.
	b.WriteString("dontLogTCPWrappersConnects yes\n")
	if p.PersistentDir != "" {
		fmt.Fprintf(&b, "[snmp] persistentDir %s\n", p.PersistentDir)
	}
	for _, l := range p.Extra {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// Reaching contexts: the v3 user and passphrase (auth SHA, priv AES) that
// ContextConfig lets read every context, and the v2c community of a context.
const (
	ContextUser = "ctxuser"
	ContextPass = "ctxpassword"
)

// ContextCommunity is the SNMPv2c community ContextConfig maps to the
// context name.
func ContextCommunity(name string) string { return "pub" + name }

// ContextConfig returns snmpd.conf lines that let managers on 127.0.0.1
// reach each named context by SNMPv2c community (com2sec -Cn, see
// ContextCommunity) and every context by SNMPv3 (ContextUser, authPriv),
// as the README tells operators to. createUser needs a PersistentDir.
func ContextConfig(names ...string) []string {
	lines := []string{
		"view ctxall included .1",
		fmt.Sprintf("createUser %s SHA %s AES %s", ContextUser, ContextPass, ContextPass),
		"group ctxv3 usm " + ContextUser,
		`access ctxv3 "" usm priv prefix ctxall none none`,
	}
	for _, n := range names {
		lines = append(lines,
			fmt.Sprintf("com2sec -Cn %s sec%s 127.0.0.1 %s", n, n, ContextCommunity(n)),
			fmt.Sprintf("group grp%s v2c sec%s", n, n),
			fmt.Sprintf("access grp%s %s any noauth exact ctxall none none", n, n))
	}
	return lines
}

// Options tune a Server.
type Options struct {
	// TCP adds a TCP AgentX listener on a free 127.0.0.1 port.
	TCP bool
	// Debug adds -Dagentx so the log shows the AgentX traffic.
	Debug bool
	// AgentXTimeout is passed to ConfigParams.
	AgentXTimeout time.Duration
	// Extra config lines.
	Extra []string
}

// Server is one snmpd process (or the slot for one while stopped).
type Server struct {
	tb      testing.TB
	Dir     string
	Socket  string // AgentX unix socket path
	TCPAddr string // AgentX TCP "host:port", if Options.TCP
	UDPAddr string // "127.0.0.1:port" for managers
	conf    string
	log     string
	pidFile string
	debug   bool

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// New prepares a Server in a fresh temporary directory without starting
// it; call Start. The process is killed when the test ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if _, err := exec.LookPath("snmpd"); err != nil {
		if _, err2 := os.Stat("/usr/sbin/snmpd"); err2 != nil {
			tb.Fatalf("snmpd not found (%v): %s", err, InstallHint)
		}
	}
	dir, err := os.MkdirTemp("", "snmpd-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{tb: tb, Dir: dir, Socket: filepath.Join(dir, "agentx", "master"),
		conf: filepath.Join(dir, "snmpd.conf"), log: filepath.Join(dir, "snmpd.log"),
		pidFile: filepath.Join(dir, "snmpd.pid"), debug: opts.Debug}
	if err := os.MkdirAll(filepath.Dir(s.Socket), 0o755); err != nil {
		tb.Fatal(err)
	}
	s.UDPAddr = fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(tb, "udp"))
	p := ConfigParams{AgentXSocket: s.Socket, PersistentDir: filepath.Join(dir, "persist"),
		AgentXTimeout: opts.AgentXTimeout, Extra: opts.Extra}
	if opts.TCP {
		s.TCPAddr = fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(tb, "tcp"))
		p.AgentXTCP = s.TCPAddr
	}
	if err := os.WriteFile(s.conf, []byte(RenderConfig(p)), 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Kill() })
	return s
}

// Start creates a Server and starts snmpd, waiting until it accepts
// AgentX connections.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := New(tb, opts)
	if err := s.Start(); err != nil {
		tb.Fatal(err)
	}
	return s
}

// AgentXAddress is the AgentX address in agentXSocket syntax.
func (s *Server) AgentXAddress() string { return "unix:" + s.Socket }

// ManagerAddress is the agent address for net-snmp command line tools.
func (s *Server) ManagerAddress() string { return "udp:" + s.UDPAddr }

// Start starts snmpd (again) and waits until the AgentX socket accepts
// connections.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("snmpd already running")
	}
	args := []string{"-f", "-C", "-c", s.conf, "-Lf", s.log, "-p", s.pidFile}
	if s.debug {
		args = append(args, "-Dagentx")
	}
	args = append(args, s.UDPAddr)
	cmd := exec.Command(snmpdPath(), args...)
	// No MIB files are needed and loading them only slows startup.
	cmd.Env = append(os.Environ(), "MIBS=", "MIBDIRS="+s.Dir)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start snmpd: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("snmpd exited during startup; log:\n%s", s.readLog())
		default:
		}
		if c, err := net.Dial("unix", s.Socket); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("snmpd did not open %s within 10s; log:\n%s", s.Socket, s.readLog())
}

// Stop sends SIGTERM and waits for snmpd to exit (SIGKILL after 5 s).
func (s *Server) Stop() error { return s.signal(syscall.SIGTERM) }

// Kill sends SIGKILL and waits for snmpd to exit.
func (s *Server) Kill() error { return s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	if err := cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal snmpd: %w", err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(5 * time.Second):
	}
	cmd.Process.Kill()
	<-exited
	return fmt.Errorf("snmpd ignored %v for 5s and was killed", sig)
}

// Restart stops snmpd with sig (SIGTERM or SIGKILL) and starts it again.
func (s *Server) Restart(sig syscall.Signal) error {
	if err := s.signal(sig); err != nil {
		return err
	}
	return s.Start()
}

// Running reports whether snmpd was started and not stopped.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Log returns snmpd's log so far.
func (s *Server) Log() string { return s.readLog() }

func (s *Server) readLog() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

func snmpdPath() string {
	if p, err := exec.LookPath("snmpd"); err == nil {
		return p
	}
	return "/usr/sbin/snmpd"
}
