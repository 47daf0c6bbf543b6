// Package testbed runs test scenarios against a real Linux kernel with IPVS.
//
// IPVS state is per network namespace, so a scenario's unit of isolation is
// a private network namespace (its own lo, addresses, IPVS tables, sync
// daemons), together with a private mount namespace (its own /tmp and /run)
// and PID namespace (every process it starts ends with it). Where the
// running kernel has IPVS, that is all a scenario needs: it runs natively
// and leaves the host's own IPVS tables alone. Where it has none, the
// kernel comes from a QEMU guest booting Debian's stock linux-image-amd64
// with the host's file system as its root over virtio-9p; scenarios run
// inside it exactly as they would natively (see Main).
//
// The backend is chosen per scenario: native when the kernel has IPVS,
// otherwise QEMU with KVM when a probe boot succeeds, otherwise QEMU under
// TCG, with User-mode Linux preferred over TCG for tests where it boots
// (see uml.go). LVS_TESTBED=native|qemu|qemu-kvm|qemu-tcg|uml forces one. A scenario
// that must unload ip_vs (NoIPVS) needs a kernel of its own: natively it
// runs only inside a test bed guest, on a shared host kernel it gets a
// guest.
//
// A scenario is a bash script run as root with its work directory as $WORK
// and current directory, $WORK/bin on PATH for the Go programs it asks to
// have built, and $CTL a directory the test sees while it runs.
package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// PeerLink is the name of the scenario's link in Scenario.Peer.
const PeerLink = "lvsbed0"

// CtlDir is the subdirectory of a work directory that the scenario ($CTL)
// and the test share while the scenario runs, for files that signal steps.
// Everything else in the work directory may reach the test only when the
// scenario has ended (a guest copies it back then).
const CtlDir = "ctl"

// WorkRoot is where scenario work directories are made. It is outside /tmp
// and /run, which scenarios get private copies of.
const WorkRoot = "/var/tmp/lvs-agentx-bed"

// DefaultModules are loaded for every scenario unless Scenario.NoIPVS is set.
var DefaultModules = []string{"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_wlc"}

// Environment variables that steer the test bed.
const (
	// EnvBackend forces a backend: native, qemu, qemu-kvm or qemu-tcg.
	EnvBackend = "LVS_TESTBED"
	// EnvKeep, when set, keeps work directories after the test.
	EnvKeep = "LVS_TESTBED_KEEP"
	// envGuest marks a process running inside a test bed guest, whose
	// kernel belongs to the test run alone.
	envGuest = "LVS_TESTBED_GUEST"
	// envPrebuilt names a directory of Go programs built on the host
	// before a guest booted (see prebuiltName).
	envPrebuilt = "LVS_TESTBED_PREBUILT"
)

// Backend names, as printed and as accepted by LVS_TESTBED.
const (
	Native  = "native"
	QEMUKVM = "qemu-kvm"
	QEMUTCG = "qemu-tcg"
	UML     = "uml"
)

// Scenario describes one run.
type Scenario struct {
	// Script is bash run after setup, with "set -eu" off so it decides
	// itself; its exit status is Result.ExitCode.
	Script string
	// Files are written into the work directory before the run.
	Files map[string][]byte
	// Binaries maps a name to a Go package path; each is built with
	// CGO_ENABLED=0 into $WORK/bin/NAME before the run.
	Binaries map[string]string
	// Modules are loaded with modprobe after DefaultModules.
	Modules []string
	// NoIPVS starts the scenario with every IPVS module unloaded (Modules
	// still load) and makes modprobe refuse ip_vs until the script removes
	// /run/modprobe.d/lvs-agentx-noipvs.conf. It needs a kernel of its own.
	NoIPVS bool
	// Peer, if set, names a network namespace (ip netns) the caller made:
	// the scenario gets an interface eth0 (down, no address) whose other
	// end is PeerLink in Peer (up, no address), a veth pair natively, a
	// QEMU NIC and its tap in a guest. For tests whose other side (a
	// poller, a trap receiver) runs on the host.
	Peer string
	// Timeout bounds the whole run; zero means 3 minutes.
	Timeout time.Duration
	// Mem is a guest's memory in MiB when the scenario boots one; zero
	// means 1024.
	Mem int
	// Timing marks a scenario that measures speed (the bench). It runs
	// on UML only when LVS_TESTBED=uml asks: there every system call
	// passes through ptrace on the host, which weighs on system-call-bound
	// work more than on computation, so the figures of the default bed
	// (QEMU) stay comparable from run to run.
	Timing bool
}

// Result is what a run left behind.
type Result struct {
	ExitCode int
	Stdout   string
	Stderr   string
	Console  string // a guest's console, when one booted
	Dir      string // path of the work directory ($WORK in the scenario)
	Backend  string // which backend ran it
}

// File returns the contents of a file the scenario wrote into $WORK, failing
// the test when it is missing.
func (r *Result) File(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.Dir, name))
	if err != nil {
		t.Fatalf("scenario file %s: %v\n%s", name, err, r.Describe())
	}
	return b
}

// Describe formats the run's output for a failure message.
func (r *Result) Describe() string {
	s := fmt.Sprintf("scenario exit %d (%s)\n--- stdout ---\n%s\n--- stderr ---\n%s",
		r.ExitCode, r.Backend, r.Stdout, r.Stderr)
	if r.Console != "" {
		s += "\n--- guest console (tail) ---\n" + testutil.Tail(r.Console, 80)
	}
	return s
}

// MustRun is Run that also fails the test when the script exits non-zero.
func MustRun(t testing.TB, s Scenario) *Result {
	t.Helper()
	r := Run(t, s)
	if r.ExitCode != 0 {
		t.Fatalf("scenario failed: %s", r.Describe())
	}
	return r
}

// Run runs s in a fresh work directory and returns what it left. The test
// fails (never skips) when the scenario cannot be started, does not finish
// in time, or the script did not run to the end; a non-zero exit of the
// script is reported in Result.ExitCode for the caller to judge. The work
// directory is removed when the test ends unless LVS_TESTBED_KEEP is set.
func Run(t testing.TB, s Scenario) *Result {
	t.Helper()
	dir := newWorkDir(t)
	start := time.Now()
	r, err := Boot(context.Background(), dir, s)
	backend := "?"
	if r != nil {
		backend = r.Backend
	}
	t.Logf("scenario in %s ran %.1fs (%s)", dir, time.Since(start).Seconds(), backend)
	if err != nil {
		msg := err.Error()
		if r != nil {
			msg += "\n" + r.Describe()
		}
		t.Fatal(msg)
	}
	return r
}

// Boot runs s with dir as its work directory (an existing, empty directory
// under WorkRoot) on the backend chosen for it. It returns an error when
// the scenario cannot be started, outlives s.Timeout or ctx, or ends
// without the script having run to the end; the Result comes with it when
// there is one.
func Boot(ctx context.Context, dir string, s Scenario) (*Result, error) {
	backend, err := Choose(s)
	if err != nil {
		return nil, err
	}
	if err := prepareWorkDir(dir, s); err != nil {
		return nil, err
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := &Result{Dir: dir, Backend: backend}
	if backend == Native {
		err = runNative(ctx, dir, s)
	} else {
		r.Console, err = bootGuest(ctx, backend, dir, s.Mem, s.Peer, scenarioJob(dir, s))
	}
	r.Stdout = readOptional(filepath.Join(dir, "stdout"))
	r.Stderr = readOptional(filepath.Join(dir, "stderr"))
	if ctx.Err() != nil {
		return r, fmt.Errorf("scenario did not finish within %s (killed)", timeout)
	}
	if err != nil {
		return r, err
	}
	rc := strings.TrimSpace(readOptional(filepath.Join(dir, "rc")))
	if rc == "" {
		if setup := readOptional(filepath.Join(dir, "setup.err")); setup != "" {
			return r, fmt.Errorf("scenario setup failed: %s", setup)
		}
		return r, fmt.Errorf("scenario ended without running to the end")
	}
	code, err := strconv.Atoi(rc)
	if err != nil {
		return r, fmt.Errorf("scenario wrote a bad exit status %q", rc)
	}
	r.ExitCode = code
	return r, nil
}

// NewWorkDir makes a fresh, uniquely named work directory under WorkRoot.
func NewWorkDir(name string) (string, error) {
	if err := os.MkdirAll(WorkRoot, 0o755); err != nil {
		return "", fmt.Errorf("test bed work root: %w", err)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	dir := filepath.Join(WorkRoot, sanitize(name)+"-"+hex.EncodeToString(rnd[:]))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("test bed work dir: %w", err)
	}
	return dir, nil
}

// KeepOrRemove removes dir when the test ends, unless LVS_TESTBED_KEEP is
// set.
func KeepOrRemove(t testing.TB, dir string) {
	t.Cleanup(func() {
		if os.Getenv(EnvKeep) != "" {
			t.Logf("work dir kept: %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
}

func newWorkDir(t testing.TB) string {
	t.Helper()
	dir, err := NewWorkDir(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	KeepOrRemove(t, dir)
	return dir
}

func prepareWorkDir(dir string, s Scenario) error {
	for _, d := range []string{"bin", CtlDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	for name, data := range s.Files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("write scenario file: %w", err)
		}
	}
	if err := buildBinaries(dir, s.Binaries); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "scenario.sh"), []byte(s.Script), 0o755)
}

// buildBinaries puts each requested Go program into dir/bin: copied from
// the programs built before a guest booted when there are some (a Go build
// inside an emulated guest would take minutes), built otherwise.
func buildBinaries(dir string, bins map[string]string) error {
	names := make([]string, 0, len(bins))
	for n := range bins {
		names = append(names, n)
	}
	sort.Strings(names)
	pre := os.Getenv(envPrebuilt)
	for _, name := range names {
		dst := filepath.Join(dir, "bin", name)
		if pre != "" {
			b, err := os.ReadFile(filepath.Join(pre, prebuiltName(bins[name])))
			if err != nil {
				return fmt.Errorf("program %s (%s) was not built before the guest booted: %w", name, bins[name], err)
			}
			if err := os.WriteFile(dst, b, 0o755); err != nil {
				return err
			}
			continue
		}
		cmd := exec.Command("go", "build", "-o", dst, bins[name])
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s (%s): %v\n%s", name, bins[name], err, out)
		}
	}
	return nil
}

// Choose picks the backend for s (see the package comment).
func Choose(s Scenario) (string, error) {
	if os.Getenv(envGuest) != "" {
		return Native, nil
	}
	switch f := os.Getenv(EnvBackend); f {
	case "":
	case Native:
		if s.NoIPVS {
			return "", errors.New(EnvBackend + "=native: this scenario unloads ip_vs and needs a kernel of its own; use " + EnvBackend + "=qemu or uml")
		}
		return Native, nil
	case "qemu":
		return qemuAccel(), nil
	case QEMUKVM, QEMUTCG, UML:
		return f, nil
	default:
		return "", fmt.Errorf("%s=%q: want native, qemu, qemu-kvm, qemu-tcg or uml", EnvBackend, f)
	}
	if !s.NoIPVS && hostHasIPVS() {
		return Native, nil
	}
	if kvmWorks() {
		return QEMUKVM, nil
	}
	if !s.Timing && umlWorks() {
		return UML, nil
	}
	return QEMUTCG, nil
}

// prebuiltName is the file name of a prebuilt program for a package path.
func prebuiltName(pkg string) string { return strings.ReplaceAll(pkg, "/", "_") }

func readOptional(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
}
