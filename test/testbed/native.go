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
	if err := os.WriteFile(wrapper, []byte(nativeWrapper(dir, s.NoIPVS, s.Netns == "")), 0o755); err != nil {
		return err
	}
	args := []string{"unshare", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc", "--propagation", "private"}
	if s.Netns != "" {
		args = append([]string{"ip", "netns", "exec", s.Netns}, args...)
	} else {
		args = append(args[:1], append([]string{"--net"}, args[1:]...)...)
	}
	args = append(args, "bash", wrapper)
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

// nativeWrapper is the script that runs as PID 1 of the scenario's
// namespaces: it gives the scenario its own /sys (unless ip netns exec
// already did), /tmp, /run and /dev/shm and an up lo, then runs it with its
// output in $WORK.
func nativeWrapper(dir string, noIPVS, mountSys bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `#!/bin/bash
export PATH=%[1]s/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export WORK=%[1]s HOME=%[1]s
fail() { echo "$*" > "$WORK/setup.err"; exit 1; }
`, dir)
	if mountSys {
		b.WriteString(`mount -t sysfs sys /sys || fail "mount /sys"
`)
	}
	if noIPVS {
		// Keep the kernel namespace's modprobe.d visible, so the script
		// can lift the block the kernel's autoloader obeys.
		b.WriteString(`mkdir -p "$WORK/.modprobe.d" && mount --bind /run/modprobe.d "$WORK/.modprobe.d" || fail "bind modprobe.d"
`)
	}
	b.WriteString(`mount -t tmpfs tmpfs /tmp || fail "mount /tmp"
mount -t tmpfs tmpfs /run || fail "mount /run"
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm || fail "mount /dev/shm"
`)
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
	var missing []string
	for _, tool := range []string{"unshare", "ip", "modprobe", "rmmod", "ipvsadm", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("test bed: missing %s; install with: apt-get install -y util-linux iproute2 kmod ipvsadm",
			strings.Join(missing, ", "))
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("test bed: scenarios make network namespaces and load modules, which needs root")
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
