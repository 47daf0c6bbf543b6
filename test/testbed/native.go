package testbed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// noIPVSBlock is the modprobe configuration that refuses ip_vs for NoIPVS
// scenarios. It lives in the kernel's own mount namespace, where the
// kernel's module autoloader runs modprobe.
const noIPVSBlock = "/run/modprobe.d/lvs-agentx-noipvs.conf"

// moduleLock keeps NoIPVS scenarios, which unload ip_vs from the whole
// kernel, from running while other scenarios of this process use it.
var moduleLock sync.RWMutex

// runNative runs the scenario in dir on the running kernel, in private
// network, mount and PID namespaces.
func runNative(ctx context.Context, dir string, s Scenario) error {
	if err := nativePrerequisites(); err != nil {
		return err
	}
	if s.NoIPVS {
		moduleLock.Lock()
		defer moduleLock.Unlock()
		if err := unloadIPVS(); err != nil {
			return err
		}
		defer os.Remove(noIPVSBlock)
	} else {
		moduleLock.RLock()
		defer moduleLock.RUnlock()
	}
	mods := s.Modules
	if !s.NoIPVS {
		mods = append(append([]string(nil), DefaultModules...), s.Modules...)
	}
	for _, m := range mods {
		if out, err := exec.Command("modprobe", m).CombinedOutput(); err != nil {
			return fmt.Errorf("modprobe %s: %v: %s", m, err, bytes.TrimSpace(out))
		}
	}
	wrapper := filepath.Join(dir, "netns.sh")
	if err := os.WriteFile(wrapper, []byte(nativeWrapper(dir, s.NoIPVS, s.Peer != "")), 0o755); err != nil {
		return err
	}
	args := []string{"unshare", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc", "--propagation", "private",
		"bash", wrapper}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", args[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if s.Peer != "" {
		if err := linkPeer(ctx, cmd.Process.Pid, s.Peer); err != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			return err
		}
	}
	select {
	case err := <-done:
		if err != nil && readOptional(filepath.Join(dir, "rc")) == "" {
			return fmt.Errorf("namespace wrapper: %v: %s", err, testutil.Tail(out.String(), 30))
		}
		return nil
	case <-ctx.Done():
		// What the scenario was doing, for the failure message.
		if init := nsInit(cmd.Process.Pid); init != "" {
			ps, _ := exec.Command("nsenter", "-t", init, "-p", "-m", "ps", "-eo", "pid,etimes,stat,args").CombinedOutput()
			_ = os.WriteFile(filepath.Join(dir, "stderr"), append([]byte(readOptional(filepath.Join(dir, "stderr"))+
				"\n--- processes when the time ran out ---\n"), ps...), 0o644)
		}
		// unshare --kill-child takes the namespace's init, and with it
		// every process of the scenario, along.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return ctx.Err()
	}
}

// linkPeer gives the scenario whose unshare process is pid an eth0 whose
// other end is PeerLink in the network namespace peer.
func linkPeer(ctx context.Context, pid int, peer string) error {
	var init string
	for init == "" {
		if init = nsInit(pid); init == "" {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	for _, args := range [][]string{
		{"-n", peer, "link", "add", PeerLink, "type", "veth", "peer", "name", "eth0", "netns", init},
		{"-n", peer, "link", "set", PeerLink, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("link the scenario to %s: ip %s: %v: %s", peer, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
	}
	return nil
}

// nativeWrapper is the script that runs as PID 1 of the scenario's
// namespaces: it gives the scenario its own /sys, /tmp, /run and /dev/shm
// and an up lo (and waits for eth0 when it has a peer), then runs it with
// its output in $WORK.
func nativeWrapper(dir string, noIPVS, peer bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `#!/bin/bash
export PATH=%[1]s/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export WORK=%[1]s HOME=%[1]s CTL=%[1]s/%[2]s
`+failHelper("$WORK", "exit 1")+`mount -t sysfs sys /sys || fail "mount /sys"
`, dir, CtlDir)
	if peer {
		b.WriteString(`for i in $(seq 200); do [ -e /sys/class/net/eth0 ] && break; sleep 0.05; done
[ -e /sys/class/net/eth0 ] || fail "no eth0 from the peer namespace"
`)
	}
	if noIPVS {
		// Keep the kernel namespace's modprobe.d visible, so the script
		// can lift the block the kernel's autoloader obeys.
		b.WriteString(`mkdir -p "$WORK/.modprobe.d" && mount --bind /run/modprobe.d "$WORK/.modprobe.d" || fail "bind modprobe.d"
`)
	}
	b.WriteString(holdKept(`"$WORK/.keep"`))
	b.WriteString(`mount -t tmpfs tmpfs /tmp || fail "mount /tmp"
mount -t tmpfs tmpfs /run || fail "mount /run"
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm || fail "mount /dev/shm"
`)
	b.WriteString(restoreKept(`"$WORK/.keep"`))
	if noIPVS {
		b.WriteString(`mkdir -p /run/modprobe.d && mount --move "$WORK/.modprobe.d" /run/modprobe.d || fail "move modprobe.d"
`)
	}
	b.WriteString(`ip link set lo up || fail "lo up"
cd "$WORK"
bash "$WORK/scenario.sh" > "$WORK/stdout" 2> "$WORK/stderr" < /dev/null
echo $? > "$WORK/rc"
`)
	return b.String()
}

// unloadIPVS makes the kernel refuse ip_vs and unloads every IPVS module.
// Namespaces of earlier scenarios release the modules asynchronously, so
// it retries for a while.
func unloadIPVS() error {
	if os.Getenv(envGuest) == "" {
		return fmt.Errorf("a NoIPVS scenario unloads ip_vs, which only a test bed guest's kernel may do")
	}
	if err := os.MkdirAll(filepath.Dir(noIPVSBlock), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(noIPVSBlock, []byte("install ip_vs /bin/false\n"), 0o644); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mods, err := loadedIPVSModules()
		if err != nil {
			return err
		}
		if len(mods) == 0 {
			return nil
		}
		out, err := exec.Command("rmmod", mods...).CombinedOutput()
		if err == nil {
			continue
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("unload IPVS: rmmod %s: %v: %s", strings.Join(mods, " "), err, bytes.TrimSpace(out))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// loadedIPVSModules lists the loaded IPVS modules, schedulers first so
// rmmod can take them in one call.
func loadedIPVSModules() ([]string, error) {
	b, err := os.ReadFile("/proc/modules")
	if err != nil {
		return nil, fmt.Errorf("read loaded modules: %w", err)
	}
	var mods []string
	core := false
	for _, l := range strings.Split(string(b), "\n") {
		name, _, _ := strings.Cut(l, " ")
		switch {
		case name == "ip_vs":
			core = true
		case strings.HasPrefix(name, "ip_vs_"):
			mods = append(mods, name)
		}
	}
	if core {
		mods = append(mods, "ip_vs")
	}
	return mods, nil
}

func nativePrerequisites() error {
	if err := requireTools("test bed", "util-linux iproute2 kmod ipvsadm", nil,
		"unshare", "ip", "modprobe", "rmmod", "ipvsadm", "bash"); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("test bed: scenarios make network namespaces and load modules, which needs root")
	}
	return nil
}

// requireTools fails, naming what is missing and the apt-get line that
// installs it, when a tool is not on PATH or missing already holds
// something (a file the caller looked for).
func requireTools(bed, packages string, missing []string, tools ...string) error {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: missing %s; install with: apt-get install -y %s", bed, strings.Join(missing, ", "), packages)
	}
	return nil
}

// hostHasIPVS reports whether the running kernel has IPVS, loading it if
// it is a module.
func hostHasIPVS() bool {
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		return true
	}
	if exec.Command("modprobe", "-q", "ip_vs").Run() != nil {
		return false
	}
	_, err := os.Stat("/proc/net/ip_vs")
	return err == nil
}

// nsInit returns the PID of the first child of unshare (the scenario's
// PID 1), or "" when there is none.
func nsInit(unshare int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", unshare, unshare))
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// keptPaths are host paths under /tmp or /run that a scenario's fresh /tmp
// and /run must not hide: the module's own tree, when a checkout lives
// there (a CI clone under /tmp), so tests and scripts find its files.
func keptPaths() []string {
	dir, err := os.Getwd()
	if err != nil {
		return nil
	}
	for ; dir != "/"; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
	}
	if dir == "/" || !(strings.HasPrefix(dir, "/tmp/") || strings.HasPrefix(dir, "/run/")) {
		return nil
	}
	return []string{dir}
}

// holdKept is bash that bind-mounts each kept path under hold (a shell
// word) before /tmp and /run are replaced; restoreKept moves them back to
// their places afterwards.
func holdKept(hold string) string {
	var b strings.Builder
	for i, p := range keptPaths() {
		fmt.Fprintf(&b, "mkdir -p %[1]s/%[2]d && mount --bind %[3]s %[1]s/%[2]d || fail \"hold %[3]s\"\n", hold, i, shellQuote(p))
	}
	return b.String()
}

func restoreKept(hold string) string {
	var b strings.Builder
	for i, p := range keptPaths() {
		fmt.Fprintf(&b, "mkdir -p %[3]s && mount --move %[1]s/%[2]d %[3]s || fail \"restore %[3]s\"\n", hold, i, shellQuote(p))
	}
	return b.String()
}

// failHelper is the shell function the setup scripts report a failed step
// with: the message goes to DIR/setup.err, where the host looks for it, and
// the script ends with END (exit in a namespace, poweroff in a guest).
func failHelper(dir, end string) string {
	return `fail() { echo "$*" > "` + dir + `/setup.err"; ` + end + `; }` + "\n"
}
