// Package uml runs test scenarios in a fresh User-mode Linux guest, whose
// kernel (Debian's user-mode-linux package) has IPVS, unlike the host's.
//
// The guest's root file system is the host's, read-write, through hostfs.
// Each guest gets its own work directory under /var/tmp (the guest mounts
// tmpfs over /tmp and /run, which would hide anything the host put there),
// its own UML umid, and a hard time limit. A scenario is a bash script that
// runs in the guest after IPVS is loaded, with the work directory as $WORK
// and its current directory, and $WORK/bin on PATH for the Go programs the
// scenario asks to have built.
package uml

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Kernel is the UML kernel binary.
const Kernel = "/usr/bin/linux.uml"

// ModulesRoot holds the UML kernel's modules, one directory per version.
const ModulesRoot = "/usr/lib/uml/modules"

// WorkRoot is where guest work directories are made. It must not be under
// /tmp or /run, which the guest covers with tmpfs.
const WorkRoot = "/var/tmp/lvs-agentx-uml"

// DefaultModules are loaded in every guest unless Scenario.NoIPVS is set.
var DefaultModules = []string{"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_wlc"}

// Scenario describes one guest run.
type Scenario struct {
	// Script is bash run in the guest after setup, with "set -eu" off so
	// it decides itself; its exit status is Result.ExitCode.
	Script string
	// Files are written into the work directory before boot.
	Files map[string][]byte
	// Binaries maps a name to a Go package path; each is built with
	// CGO_ENABLED=0 into $WORK/bin/NAME before boot.
	Binaries map[string]string
	// Modules are loaded with modprobe after DefaultModules.
	Modules []string
	// NoIPVS leaves every IPVS module unloaded (Modules still load) and
	// makes modprobe refuse ip_vs until the script removes
	// /run/modprobe.d/lvs-agentx-noipvs.conf.
	NoIPVS bool
	// Timeout bounds the whole guest run; zero means 3 minutes.
	Timeout time.Duration
	// Mem is the guest's memory, in UML syntax; empty means 512M.
	Mem string
	// Args are extra kernel command line arguments, such as
	// "eth0=tuntap,tap0".
	Args []string
}

// Result is what a guest run left behind.
type Result struct {
	ExitCode int
	Stdout   string
	Stderr   string
	Console  string // the guest kernel's console: boot messages, setup errors
	Dir      string // host path of the work directory ($WORK in the guest)
}

// File returns the contents of a file the scenario wrote into $WORK, failing
// the test when it is missing.
func (r *Result) File(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.Dir, name))
	if err != nil {
		t.Fatalf("guest file %s: %v\n%s", name, err, r.Describe())
	}
	return b
}

// Describe formats the run's output for a failure message.
func (r *Result) Describe() string {
	return fmt.Sprintf("guest exit %d\n--- stdout ---\n%s\n--- stderr ---\n%s\n--- console (tail) ---\n%s",
		r.ExitCode, r.Stdout, r.Stderr, tail(r.Console, 6000))
}

// MustRun is Run that also fails the test when the script exits non-zero.
func MustRun(t testing.TB, s Scenario) *Result {
	t.Helper()
	r := Run(t, s)
	if r.ExitCode != 0 {
		t.Fatalf("guest scenario failed: %s", r.Describe())
	}
	return r
}

// Run boots a fresh guest, runs s.Script in it and returns what it left.
// The test fails (never skips) when the guest cannot be booted, does not
// finish in time, or the script did not run to the end; a non-zero exit of
// the script is reported in Result.ExitCode for the caller to judge.
// The work directory is removed when the test ends unless LVS_UML_KEEP is
// set.
func Run(t testing.TB, s Scenario) *Result {
	t.Helper()
	dir := newWorkDir(t)
	start := time.Now()
	r, err := Boot(context.Background(), dir, s)
	t.Logf("UML guest in %s ran %.1fs", dir, time.Since(start).Seconds())
	if err != nil {
		msg := err.Error()
		if r != nil {
			msg += "\n" + r.Describe()
		}
		t.Fatal(msg)
	}
	return r
}

// CheckPrerequisites reports what is missing to boot a guest with IPVS.
func CheckPrerequisites() error {
	var missing []string
	if _, err := os.Stat(Kernel); err != nil {
		missing = append(missing, "user-mode-linux ("+Kernel+")")
	}
	if _, err := modulesVersion(); err != nil {
		missing = append(missing, "user-mode-linux modules ("+ModulesRoot+")")
	}
	for _, tool := range []string{"ipvsadm", "modprobe", "depmod", "busybox", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("UML test bed: missing %s; install with: apt-get install -y user-mode-linux ipvsadm kmod busybox-static iproute2",
			strings.Join(missing, ", "))
	}
	return nil
}

// modulesVersion returns the kernel version whose modules are installed.
func modulesVersion() (string, error) {
	ents, err := os.ReadDir(ModulesRoot)
	if err != nil {
		return "", fmt.Errorf("read UML modules: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() {
			return e.Name(), nil
		}
	}
	return "", fmt.Errorf("no module directory in %s", ModulesRoot)
}

// NewWorkDir makes a fresh, uniquely named work directory under WorkRoot.
func NewWorkDir(name string) (string, error) {
	if err := os.MkdirAll(WorkRoot, 0o755); err != nil {
		return "", fmt.Errorf("UML work root: %w", err)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	dir := filepath.Join(WorkRoot, sanitize(name)+"-"+hex.EncodeToString(rnd[:]))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("UML work dir: %w", err)
	}
	return dir, nil
}

func newWorkDir(t testing.TB) string {
	t.Helper()
	dir, err := NewWorkDir(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if os.Getenv("LVS_UML_KEEP") != "" {
			t.Logf("UML work dir kept: %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	return dir
}

// Boot runs s in a fresh guest whose work directory is dir (an existing,
// empty directory outside /tmp and /run). It returns an error when the guest
// cannot be booted, outlives s.Timeout or ctx, or ends without the script
// having run to the end; the Result is returned with it when there is one.
func Boot(ctx context.Context, dir string, s Scenario) (*Result, error) {
	if err := CheckPrerequisites(); err != nil {
		return nil, err
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	mem := s.Mem
	if mem == "" {
		mem = "512M"
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		return nil, err
	}
	for name, data := range s.Files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, fmt.Errorf("write scenario file: %w", err)
		}
	}
	if err := buildBinaries(dir, s.Binaries); err != nil {
		return nil, err
	}
	modules := append([]string(nil), s.Modules...)
	if !s.NoIPVS {
		modules = append(append([]string(nil), DefaultModules...), s.Modules...)
	}
	if err := os.WriteFile(filepath.Join(dir, "scenario.sh"), []byte(s.Script), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "init.sh"), []byte(initScript(dir, modules, s.NoIPVS)), 0o755); err != nil {
		return nil, err
	}

	// The umid names the guest's control directory; keep it short (it is
	// part of a unix socket path) and unique.
	umid := "lvs" + filepath.Base(dir)[len(filepath.Base(dir))-8:]
	args := []string{
		"mem=" + mem, "root=/dev/root", "rootfstype=hostfs", "rootflags=/", "rw",
		"init=" + filepath.Join(dir, "init.sh"),
		"umid=" + umid, "uml_dir=" + dir,
		"con=null", "con0=fd:0,fd:1",
	}
	args = append(args, s.Args...)

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command(Kernel, args...)
	var console bytes.Buffer
	cmd.Stdout = &console
	cmd.Stderr = &console
	cmd.Stdin = nil
	// UML runs as several host processes: kill the whole group on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", Kernel, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timedOut bool
	select {
	case <-done:
	case <-ctx.Done():
		timedOut = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	// Stray UML helper processes (one per guest process) share the group.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)

	r := &Result{Console: console.String(), Dir: dir}
	r.Stdout = readOptional(filepath.Join(dir, "stdout"))
	r.Stderr = readOptional(filepath.Join(dir, "stderr"))
	if timedOut {
		return r, fmt.Errorf("UML guest did not finish within %s (killed)", timeout)
	}
	rc := strings.TrimSpace(readOptional(filepath.Join(dir, "rc")))
	if rc == "" {
		if setup := readOptional(filepath.Join(dir, "setup.err")); setup != "" {
			return r, fmt.Errorf("UML guest setup failed: %s", setup)
		}
		return r, fmt.Errorf("UML guest ended without running the scenario to the end")
	}
	code, err := strconv.Atoi(rc)
	if err != nil {
		return r, fmt.Errorf("UML guest wrote a bad exit status %q", rc)
	}
	r.ExitCode = code
	return r, nil
}

// initScript is the guest's init: it prepares the system, loads modules,
// runs the scenario with its output in $WORK, and powers off.
func initScript(dir string, modules []string, noIPVS bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `#!/bin/bash
export PATH=%[1]s/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export WORK=%[1]s HOME=%[1]s
fail() { echo "$*" > "$WORK/setup.err"; sync; poweroff -f; }
mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sys /sys || fail "mount /sys"
mount -t tmpfs tmpfs /tmp || fail "mount /tmp"
mount -t tmpfs tmpfs /run || fail "mount /run"
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm
v=$(uname -r)
[ -d /usr/lib/uml/modules/$v ] || fail "no UML modules for kernel $v in /usr/lib/uml/modules"
mkdir -p /lib/modules && mount -t tmpfs tmpfs /lib/modules || fail "mount /lib/modules"
mkdir -p /lib/modules/$v && mount --bind /usr/lib/uml/modules/$v /lib/modules/$v || fail "bind modules"
depmod -a || fail "depmod"
ip link set lo up || fail "lo up"
`, dir)
	for _, m := range modules {
		fmt.Fprintf(&b, "modprobe %s || fail \"modprobe %s\"\n", m, m)
	}
	if noIPVS {
		// ipvsadm and the kernel load ip_vs on demand; refuse it so the
		// guest really has no IPVS until a scenario removes this file.
		b.WriteString("mkdir -p /run/modprobe.d && echo 'install ip_vs /bin/false' > /run/modprobe.d/lvs-agentx-noipvs.conf\n")
	}
	b.WriteString(`cd "$WORK"
bash "$WORK/scenario.sh" > "$WORK/stdout" 2> "$WORK/stderr" < /dev/null
echo $? > "$WORK/rc"
sync
poweroff -f
`)
	return b.String()
}

func buildBinaries(dir string, bins map[string]string) error {
	names := make([]string, 0, len(bins))
	for n := range bins {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", name), bins[name])
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s (%s): %v\n%s", name, bins[name], err, out)
		}
	}
	return nil
}

func readOptional(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
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
