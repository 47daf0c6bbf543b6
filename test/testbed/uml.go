package testbed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// umlKernelPath is Debian's User-mode Linux kernel (package
// user-mode-linux), which has IPVS; umlModules holds its modules, one
// directory per kernel version.
const (
	umlKernelPath = "/usr/bin/linux.uml"
	umlModules    = "/usr/lib/uml/modules"
)

func umlPrerequisites() error {
	var missing []string
	if _, err := os.Stat(umlKernelPath); err != nil {
		missing = append(missing, "user-mode-linux ("+umlKernelPath+")")
	}
	return requireTools("UML test bed", "user-mode-linux iproute2 kmod", missing, "ip", "modprobe")
}

// umlKernel describes the installed UML kernel: it boots its own binary,
// so only the modules matter.
func umlKernel() (*kernel, error) {
	if err := umlPrerequisites(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(umlModules)
	if err != nil {
		return nil, fmt.Errorf("UML modules: %w (reinstall user-mode-linux)", err)
	}
	for _, e := range ents {
		if e.IsDir() {
			return &kernel{version: e.Name(), mods: filepath.Join(umlModules, e.Name())}, nil
		}
	}
	return nil, fmt.Errorf("no module directory in %s (reinstall user-mode-linux)", umlModules)
}

// runUML boots the UML kernel with the host's root (hostfs) and the job
// script as init. Its console goes to consolePath. With a peer, the guest's
// eth0 is a tap that is PeerLink in the network namespace peer.
func runUML(ctx context.Context, jobPath, consolePath string, memMiB int, peer string) error {
	console, err := os.Create(consolePath)
	if err != nil {
		return err
	}
	defer console.Close()
	// The umid names the guest's control directory under uml_dir; unique
	// per boot, and short (it is part of a unix socket path).
	umlDir := filepath.Dir(consolePath)
	umid := fmt.Sprintf("lvs%d", time.Now().UnixNano()%1e9)
	args := []string{
		fmt.Sprintf("mem=%dM", memMiB), "root=/dev/root", "rootfstype=hostfs", "rootflags=/", "rw",
		"init=" + jobPath, "umid=" + umid, "uml_dir=" + umlDir,
		"con=null", "con0=null,fd:1", "quiet",
	}
	name := umlKernelPath
	if peer != "" {
		if err := addTap(peer); err != nil {
			return err
		}
		defer exec.Command("ip", "-n", peer, "link", "del", PeerLink).Run()
		args = append(args, "eth0=tuntap,"+PeerLink)
		// UML opens the tap in the namespace it runs in.
		name, args = "ip", append([]string{"netns", "exec", peer, umlKernelPath}, args...)
	}
	if peer == "" {
		// A guest-bound scenario runs its whole guest on one host CPU: UML's
		// processes hand control to each other through ptrace, and across
		// CPUs every hand-off wakes an idle one, which the guest charges to
		// its current task. Pinned, walks run 2.5-3.5x faster and the
		// guest's CPU figures are honest. A host-side peer keeps both CPUs.
		if cpu, ok := firstCPU(); ok {
			name, args = "taskset", append([]string{"-c", strconv.Itoa(cpu), name}, args...)
		}
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = console, console
	defer os.RemoveAll(filepath.Join(umlDir, umid))
	if err := runGroup(ctx, cmd); err != nil && ctx.Err() == nil {
		return fmt.Errorf("UML kernel: %v", err)
	}
	return ctx.Err()
}

// firstCPU returns the first CPU this process may run on; false when
// that cannot be told or taskset is missing (the guest then runs unpinned).
func firstCPU() (int, bool) {
	if _, err := exec.LookPath("taskset"); err != nil {
		return 0, false
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return 0, false
	}
	for cpu := 0; cpu < len(set)*64; cpu++ {
		if set.IsSet(cpu) {
			return cpu, true
		}
	}
	return 0, false
}

// addTap makes PeerLink, a tap device, in the network namespace peer.
func addTap(peer string) error {
	for _, a := range [][]string{
		{"-n", peer, "tuntap", "add", "dev", PeerLink, "mode", "tap"},
		{"-n", peer, "link", "set", PeerLink, "up"},
	} {
		if out, err := exec.Command("ip", a...).CombinedOutput(); err != nil {
			return fmt.Errorf("tap for the guest in %s: ip %s: %v: %s", peer, strings.Join(a, " "), err, bytes.TrimSpace(out))
		}
	}
	return nil
}

// hostHasAMX reports whether the CPU has AMX, whose XSAVE state Debian's
// UML 6.1 cannot hand to ptrace: its first user process dies ("ptrace set
// fp regs failed, errno = 14").
func hostHasAMX() bool {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return bytes.Contains(b, []byte(" amx_tile"))
}

// umlWorks reports whether a UML guest boots and runs a job here: never on
// an AMX host, otherwise as a real probe boot found, once per host boot
// (the answer is kept under WorkRoot).
func umlWorks() bool {
	if hostHasAMX() || umlPrerequisites() != nil {
		return false
	}
	return probe(UML, "modprobe ip_vs")
}

// probe boots a guest of the backend whose job only says it ran (after
// check, a shell command, succeeded), once per host boot: the answer is
// kept under WorkRoot.
func probe(backend, check string) bool {
	bootID, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	cache := filepath.Join(WorkRoot, backend+"-probe-"+strings.TrimSpace(string(bootID)))
	if b, err := os.ReadFile(cache); err == nil {
		return strings.TrimSpace(string(b)) == "ok"
	}
	dir, err := NewWorkDir(backend + "-probe")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if check == "" {
		check = "true"
	}
	_, err = bootGuest(ctx, backend, dir, 256, "", func(k *kernel) string {
		return guestSetup(k, dir) + check + ` && echo ok > "$OUT/ok"; sync; poweroff -f` + "\n"
	})
	if err == nil && strings.TrimSpace(readOptional(filepath.Join(dir, "ok"))) != "ok" {
		err = fmt.Errorf("the probe job did not run")
	}
	verdict := "ok"
	if err != nil {
		verdict = "fails: " + testutil.Tail(err.Error(), 10)
	}
	_ = os.WriteFile(cache, []byte(verdict+"\n"), 0o644)
	return verdict == "ok"
}
