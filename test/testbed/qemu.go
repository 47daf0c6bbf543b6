package testbed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// EnvKernel names the Debian kernel package a guest boots; the default is
// the one linux-image-amd64 depends on.
const EnvKernel = "LVS_TESTBED_KERNEL"

// kernelRoot caches extracted kernels, one directory per package.
var kernelRoot = filepath.Join(WorkRoot, "kernel")

// initModules are the modules the initramfs loads to mount the host's root
// over virtio-9p, in dependency order (Debian builds them as modules).
var initModules = []string{"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev",
	"virtio_pci", "netfs", "fscache", "9pnet", "9pnet_virtio", "9p"}

// kernel is an extracted Debian kernel with an initramfs for it
// (QEMU), or the installed UML kernel (only version and mods are set).
type kernel struct {
	dir     string // root of the extracted package
	version string // uname -r
	mods    string // its modules, on the host
	vmlinuz string
	initrd  string
}

func qemuPrerequisites() error {
	return requireTools("QEMU test bed", "qemu-system-x86 cpio kmod busybox-static", nil,
		"qemu-system-x86_64", "cpio", "gzip", "depmod", "dpkg", "apt-get", "busybox")
}

// kernelPackage names the Debian kernel package to boot.
func kernelPackage() (string, error) {
	if p := os.Getenv(EnvKernel); p != "" {
		return p, nil
	}
	out, err := exec.Command("apt-cache", "depends", "linux-image-amd64").Output()
	if err != nil {
		return "", fmt.Errorf("find the kernel package: apt-cache depends linux-image-amd64: %w (run apt-get update)", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if dep, ok := strings.CutPrefix(strings.TrimSpace(l), "Depends: "); ok && strings.HasPrefix(dep, "linux-image-") {
			return dep, nil
		}
	}
	return "", fmt.Errorf("apt-cache depends linux-image-amd64 names no linux-image package (run apt-get update):\n%s", out)
}

// ensureKernel downloads, extracts and prepares the kernel once per
// package; concurrent test processes wait for each other.
func ensureKernel() (*kernel, error) {
	if err := qemuPrerequisites(); err != nil {
		return nil, err
	}
	pkg, err := kernelPackage()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(kernelRoot, 0o755); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(kernelRoot, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("lock %s: %w", kernelRoot, err)
	}
	dir := filepath.Join(kernelRoot, pkg)
	k, err := loadKernel(dir)
	if err == nil {
		return k, nil
	}
	if err := prepareKernel(pkg, dir); err != nil {
		return nil, fmt.Errorf("prepare guest kernel %s: %w", pkg, err)
	}
	return loadKernel(dir)
}

// loadKernel finds a prepared kernel in dir ("ready" is written last).
func loadKernel(dir string) (*kernel, error) {
	if _, err := os.Stat(filepath.Join(dir, "ready")); err != nil {
		return nil, err
	}
	vms, _ := filepath.Glob(filepath.Join(dir, "boot", "vmlinuz-*"))
	if len(vms) != 1 {
		return nil, fmt.Errorf("%s: want one vmlinuz, found %d", dir, len(vms))
	}
	version := strings.TrimPrefix(filepath.Base(vms[0]), "vmlinuz-")
	return &kernel{
		dir:     dir,
		version: version,
		mods:    filepath.Join(dir, "lib/modules", version),
		vmlinuz: vms[0],
		initrd:  filepath.Join(dir, "initrd.gz"),
	}, nil
}

func prepareKernel(pkg, dir string) error {
	_ = os.RemoveAll(dir)
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	run := func(dir string, name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, testutil.Tail(string(out), 30))
		}
		return nil
	}
	if err := run(tmp, "apt-get", "download", pkg); err != nil {
		return err
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download %s left %d packages", pkg, len(debs))
	}
	root := filepath.Join(tmp, "root")
	if err := run(tmp, "dpkg", "-x", debs[0], root); err != nil {
		return err
	}
	vms, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if len(vms) != 1 {
		return fmt.Errorf("%s has %d vmlinuz", pkg, len(vms))
	}
	version := strings.TrimPrefix(filepath.Base(vms[0]), "vmlinuz-")
	if err := run(tmp, "depmod", "-b", root, version); err != nil {
		return err
	}
	if err := buildInitrd(root, version, filepath.Join(root, "initrd.gz")); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "ready"), []byte(pkg+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(root, dir)
}

// initScript is the initramfs's /init: it loads the 9p modules, mounts the
// host's root and hands PID 1 to the job script named on the kernel
// command line, so the host's own init never runs.
const initScript = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t devtmpfs dev /dev
# haltboot, not fail: the host's root, where setup.err goes, is not mounted yet.
haltboot() { echo "testbed initramfs: $*"; poweroff -f; }
for m in MODULES; do insmod /modules/$m.ko || haltboot "insmod $m"; done
job=
for a in $(cat /proc/cmdline); do case $a in lvsbed.job=*) job=${a#lvsbed.job=};; esac; done
[ -n "$job" ] || haltboot "no lvsbed.job= on the kernel command line"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none hostroot /newroot || haltboot "mount the host's root"
[ -f "/newroot$job" ] || haltboot "no job script $job"
umount /dev /proc
exec switch_root /newroot /bin/bash "$job"
`

func buildInitrd(root, version, out string) error {
	ir, err := os.MkdirTemp(filepath.Dir(out), "initrd")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ir)
	for _, d := range []string{"bin", "modules"} {
		if err := os.MkdirAll(filepath.Join(ir, d), 0o755); err != nil {
			return err
		}
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return err
	}
	if err := copyFile(bb, filepath.Join(ir, "bin/busybox"), 0o755); err != nil {
		return err
	}
	mods := filepath.Join(root, "lib/modules", version)
	for _, m := range initModules {
		var found string
		_ = filepath.WalkDir(filepath.Join(mods, "kernel"), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Name() == m+".ko" {
				found = p
				return filepath.SkipAll
			}
			return nil
		})
		if found == "" {
			return fmt.Errorf("kernel %s has no module %s", version, m)
		}
		if err := copyFile(found, filepath.Join(ir, "modules", m+".ko"), 0o644); err != nil {
			return err
		}
	}
	init := strings.Replace(initScript, "MODULES", strings.Join(initModules, " "), 1)
	if err := os.WriteFile(filepath.Join(ir, "init"), []byte(init), 0o755); err != nil {
		return err
	}
	cmd := exec.Command("bash", "-c", "set -o pipefail; find . | cpio -o -H newc --quiet | gzip -1 > "+shellQuote(out))
	cmd.Dir = ir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pack initramfs: %v: %s", err, b)
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

// guestSetup is the start of every job script: the guest's own /proc,
// /sys, /dev, /tmp and /run; the kernel's modules at /lib/modules (an
// overlay on /usr/lib keeps the host's /usr/lib untouched); lo up. out is
// a host directory where setup failures are reported.
func guestSetup(k *kernel, out string) string {
	return fmt.Sprintf(`#!/bin/bash
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
OUT=%[1]s
`+failHelper("$OUT", "sync; poweroff -f")+`mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sys /sys || fail "mount /sys"
mountpoint -q /dev || mount -t devtmpfs dev /dev || fail "mount /dev"
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm || fail "mount /dev/pts, /dev/shm"
ln -sf /proc/self/fd /dev/fd; ln -sf /proc/self/fd/0 /dev/stdin; ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
%[4]smount -t tmpfs tmpfs /tmp || fail "mount /tmp"
mount -t tmpfs tmpfs /run || fail "mount /run"
%[5]sinsmod %[2]s/kernel/fs/overlayfs/overlay.ko || fail "insmod overlay"
mkdir -p /run/usrlib/upper /run/usrlib/work
mount -t overlay overlay -o lowerdir=/usr/lib,upperdir=/run/usrlib/upper,workdir=/run/usrlib/work /usr/lib || fail "overlay on /usr/lib"
mkdir -p /usr/lib/modules/%[3]s && mount --bind %[2]s /usr/lib/modules/%[3]s || fail "bind the kernel's modules"
hostname lvs-testbed
ip link set lo up || fail "lo up"
`, shellQuote(out), shellQuote(k.mods), k.version, holdKept("/dev/shm/keep"), restoreKept("/dev/shm/keep"))
}

// scenarioJob is the job of a guest booted for one scenario: the scenario
// gets the whole guest. Its work directory is copied onto a guest tmpfs
// (9p cannot hold unix sockets) and copied back, but for sockets and
// fifos, when it ends.
func scenarioJob(dir string, s Scenario) func(k *kernel) string {
	return func(k *kernel) string {
		var b strings.Builder
		b.WriteString(guestSetup(k, dir))
		fmt.Fprintf(&b, `mkdir -p /run/hostwork && mount --bind "$OUT" /run/hostwork || fail "bind the work dir"
OUT=/run/hostwork
mount -t tmpfs tmpfs %[1]s && cp -a /run/hostwork/. %[1]s/ || fail "work dir on tmpfs"
mount --bind /run/hostwork/%[2]s %[1]s/%[2]s || fail "bind the control dir"
export PATH=%[1]s/bin:$PATH WORK=%[1]s HOME=%[1]s CTL=%[1]s/%[2]s
`, shellQuote(dir), CtlDir)
		if s.Peer != "" {
			// UML has its eth0 built in; QEMU's NIC needs its driver.
			b.WriteString("[ -e /sys/class/net/eth0 ] || modprobe virtio_net; [ -e /sys/class/net/eth0 ] || fail \"no eth0\"\n")
		}
		if s.NoIPVS {
			b.WriteString("mkdir -p /run/modprobe.d && echo 'install ip_vs /bin/false' > " + noIPVSBlock + "\n")
		} else {
			for _, m := range DefaultModules {
				fmt.Fprintf(&b, "modprobe %s || fail \"modprobe %s\"\n", m, m)
			}
		}
		for _, m := range s.Modules {
			fmt.Fprintf(&b, "modprobe %s || fail \"modprobe %s\"\n", m, m)
		}
		// The control dir is the host's already: not copied back.
		fmt.Fprintf(&b, `cd "$WORK"
bash "$WORK/scenario.sh" > "$WORK/stdout" 2> "$WORK/stderr" < /dev/null
rc=$?
cd "$WORK" && find . -mindepth 1 -path ./%s -prune -o \( -type d -o -type f -o -type l \) -print0 | cpio -0 -pdmu --quiet /run/hostwork
echo $rc > /run/hostwork/rc
sync
poweroff -f
`, CtlDir)
		return b.String()
	}
}

// bootGuest boots a guest whose PID 1 is the job script that job renders,
// written into dir, and returns the guest's console once it has powered
// off. ctx bounds the boot; the guest is killed when it ends.
//
// With a peer, the guest has a NIC (eth0 inside) whose tap is PeerLink in
// the network namespace peer.
func bootGuest(ctx context.Context, backend, dir string, memMiB int, peer string, job func(*kernel) string) (string, error) {
	var k *kernel
	var err error
	if backend == UML {
		k, err = umlKernel()
	} else {
		k, err = ensureKernel()
	}
	if err != nil {
		return "", err
	}
	if memMiB == 0 {
		memMiB = 1024
	}
	jobPath := filepath.Join(dir, "guest-init.sh")
	if err := os.WriteFile(jobPath, []byte(job(k)), 0o755); err != nil {
		return "", err
	}
	// Outside dir: a scenario's work directory is copied back over dir.
	consolePath := dir + ".console"
	defer os.Remove(consolePath)
	if backend == UML {
		err = runUML(ctx, jobPath, consolePath, memMiB, peer)
	} else {
		err = runQEMU(ctx, backend, k, jobPath, consolePath, memMiB, peer)
	}
	console := readOptional(consolePath)
	return console, err
}

func runQEMU(ctx context.Context, backend string, k *kernel, jobPath, consolePath string, memMiB int, peer string) error {
	cmdline := "console=ttyS0 panic=-1 quiet lvsbed.job=" + jobPath
	accel := []string{"-accel", "kvm", "-cpu", "host"}
	if backend != QEMUKVM {
		accel = []string{"-accel", "tcg,thread=multi", "-cpu", "max"}
		// Under TCG the kernel distrusts the TSC and picks the HPET, an
		// emulated device: every clock read became a system call and an
		// MMIO trap (12% of the agent's CPU in a walk). QEMU's TCG TSC is
		// the host's, steady on every vCPU, and a director's kernel uses
		// its TSC too.
		cmdline += " clocksource=tsc tsc=reliable"
	}
	args := append([]string{"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-m", fmt.Sprint(memMiB), "-smp", "2",
		"-serial", "file:" + consolePath,
		"-kernel", k.vmlinuz, "-initrd", k.initrd,
		"-append", cmdline,
		"-fsdev", "local,id=hostroot,path=/,security_model=passthrough,multidevs=remap",
		"-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot"}, accel...)
	if peer != "" {
		if err := addTap(peer); err != nil {
			return err
		}
		defer exec.Command("ip", "-n", peer, "link", "del", PeerLink).Run()
		args = append(args, "-netdev", "tap,id=peer,ifname="+PeerLink+",script=no,downscript=no",
			"-device", "virtio-net-pci,netdev=peer")
	}
	name := "qemu-system-x86_64"
	if peer != "" {
		// QEMU opens the tap in the namespace it runs in.
		name, args = "ip", append([]string{"netns", "exec", peer, name}, args...)
	}
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err := runGroup(ctx, cmd)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("qemu (%s): %v: %s", backend, err, testutil.Tail(stderr.String(), 30))
	}
	return err
}

// runGroup runs cmd in a process group of its own and kills the group when
// cmd exits (a UML guest's helper processes share it) or ctx ends first.
// A guest must not outlive the test (or bench) that booted it, even when
// that is killed: it would keep a core busy for nothing.
func runGroup(ctx context.Context, cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return err
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return ctx.Err()
	}
}

// kvmWorks boots a guest under KVM that only says it ran. Some hosts offer
// /dev/kvm yet hang such a guest at boot, so the answer comes from a real
// boot, once per host boot.
func kvmWorks() bool {
	if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err != nil {
		return false
	} else {
		f.Close()
	}
	return probe(QEMUKVM, "")
}

func qemuAccel() string {
	if kvmWorks() {
		return QEMUKVM
	}
	return QEMUTCG
}

// shellQuote quotes s for bash.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
