package packaging

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/agentxtest"
	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// What the package leaves on the host besides its files, and the cycle
// checks and cleans up: the state directory, the conffile, and
// deb-systemd-helper's records and links of the unit.
var (
	stateDir   = "/var/lib/lvs-agentx"
	conffile   = "/etc/default/lvs-agentx"
	enableLink = "/etc/systemd/system/multi-user.target.wants/lvs-agentx.service"
	dshRecords = []string{
		"/var/lib/systemd/deb-systemd-helper-enabled/lvs-agentx.service.dsh-also",
		"/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/lvs-agentx.service",
		"/var/lib/systemd/deb-systemd-helper-masked/lvs-agentx.service",
		"/etc/systemd/system/lvs-agentx.service", // the mask
		enableLink,
	}
)

// TestDebCycle runs Debian's usual cycle on this host with two builds of
// successive versions: install the first (user, group membership, unit
// enabled, no adduser warning), run the real agent and see it register the
// LVS-MIB with an AgentX master and answer a Get, upgrade to the second
// (the changed conffile kept, the agent restarted on the new binary),
// remove (the unit stopped, conffile and state kept), purge (both gone,
// deb-systemd-helper's records too). Where systemd runs (/run/systemd/system)
// the unit starts the agent; elsewhere the test starts the unit's
// ExecStart as its User and Group with its capabilities and environment
// files, and stops it where systemd would (prerm on remove, a restart on
// upgrade). The host is left as the test found it, failing or not: the
// package purged, the user and group deleted, every file removed.
func TestDebCycle(t *testing.T) {
	for _, tool := range []string{"make", "dpkg", "dpkg-query", "apt-get", "setpriv", "userdel", "deb-systemd-helper"} {
		testutil.NeedTool(t, tool, "make deps (TEST_DEBS)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the install cycle needs root (make test runs as root)")
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f", "${Status}", "lvs-agentx").Output(); err == nil && !strings.Contains(string(out), "not-installed") {
		t.Fatalf("lvs-agentx is installed on this host (%s): the cycle would change it", out)
	}
	if _, err := user.Lookup("lvs-agentx"); err == nil {
		t.Fatal("the user lvs-agentx exists on this host: the cycle would change it")
	}
	for _, p := range append([]string{stateDir, conffile}, dshRecords...) {
		if _, err := os.Lstat(p); err == nil {
			t.Fatalf("%s exists on this host: the cycle would change it", p)
		}
	}
	systemd := false
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		systemd = true
	}
	t.Logf("systemd running: %v", systemd)

	repo := repoDir(t)
	tmp := t.TempDir()
	v1, v2 := devVersions(releaseVersion(t, repo))
	deb1 := buildPackage(t, repo, filepath.Join(tmp, "b1"), v1, "deb")
	deb2 := buildPackage(t, repo, filepath.Join(tmp, "b2"), v2, "deb")
	if err := exec.Command("dpkg", "--compare-versions", v1, "lt", v2).Run(); err != nil {
		t.Fatalf("dpkg --compare-versions %s lt %s: false", v1, v2)
	}

	agent := &agentRun{t: t, systemd: systemd}
	t.Cleanup(func() { restoreHost(t, agent) })

	// Install.
	out := apt(t, "install", deb1)
	if strings.Contains(strings.ToLower(out), "warning") && strings.Contains(out, "adduser") {
		t.Errorf("installing printed an adduser warning:\n%s", out)
	}
	checkInstalled(t, v1)
	u, err := user.Lookup("lvs-agentx")
	if err != nil {
		t.Fatalf("no user lvs-agentx after install: %v", err)
	}
	if uid, _ := strconv.Atoi(u.Uid); uid >= 1000 || u.HomeDir != "/nonexistent" {
		t.Errorf("user lvs-agentx: uid %s, home %s; want a system user with home /nonexistent", u.Uid, u.HomeDir)
	}
	if _, err := os.Stat("/nonexistent"); err == nil {
		t.Errorf("/nonexistent exists")
	}
	if g, err := user.LookupGroup("Debian-snmp"); err == nil {
		ids, _ := u.GroupIds()
		if !contains(ids, g.Gid) {
			t.Errorf("lvs-agentx is not in snmpd's group Debian-snmp")
		}
	} else {
		t.Errorf("no group Debian-snmp (snmpd is in TEST_DEBS): %v", err)
	}
	if dest, err := os.Readlink(enableLink); err != nil || dest != "/lib/systemd/system/lvs-agentx.service" {
		t.Errorf("the unit is not enabled: %s -> %q, %v", enableLink, dest, err)
	}

	agent.start(v1)
	if _, err := os.Stat(stateDir); err != nil {
		t.Errorf("no state directory after the agent started: %v", err)
	}
	// The index state the agent keeps there, which remove must keep.
	marker := filepath.Join(stateDir, "pkgtest-marker")
	if err := os.WriteFile(marker, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Upgrade, with an administrator's change to the conffile.
	const setting = "LVS_AGENTX_LOG_LEVEL=debug\n"
	appendFile(t, conffile, "# set by the packaging test\n"+setting)
	if !systemd {
		agent.stop() // the old binary stops ...
	}
	apt(t, "install", deb2)
	checkInstalled(t, v2)
	if b, _ := os.ReadFile(conffile); !strings.HasSuffix(string(b), setting) {
		t.Errorf("the upgrade lost the change to %s", conffile)
	}
	agent.start(v2) // ... and the new one starts (systemd: postinst restarted it)

	// Remove: the unit stopped, the conffile and the state kept.
	if !systemd {
		agent.stop() // what prerm's deb-systemd-invoke stop does under systemd
	}
	apt(t, "remove", "lvs-agentx")
	if systemd {
		if out, _ := exec.Command("systemctl", "is-active", "lvs-agentx.service").Output(); strings.TrimSpace(string(out)) == "active" {
			t.Errorf("lvs-agentx.service still active after remove")
		}
	}
	agent.checkGone()
	if st := status(t); st != "deinstall ok config-files" {
		t.Errorf("after remove dpkg says %q, want deinstall ok config-files", st)
	}
	for _, p := range []string{"/usr/sbin/lvs-agentx", "/lib/systemd/system/lvs-agentx.service"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("remove left %s", p)
		}
	}
	if b, _ := os.ReadFile(conffile); !strings.HasSuffix(string(b), setting) {
		t.Errorf("remove did not keep %s with its change", conffile)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("remove did not keep the state directory: %v", err)
	}

	// Purge: conffile, state and the unit's records gone; the system user
	// stays (Debian's practice), which restoreHost deletes.
	apt(t, "purge", "lvs-agentx")
	if st := status(t); st != "" && st != "unknown ok not-installed" {
		t.Errorf("after purge dpkg says %q", st)
	}
	for _, p := range append([]string{conffile, stateDir}, dshRecords...) {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("purge left %s", p)
		}
	}
	if _, err := user.Lookup("lvs-agentx"); err != nil {
		t.Errorf("purge deleted the system user lvs-agentx (documented to stay): %v", err)
	}
}

// apt runs apt-get as a user would on the package (or a .deb's path),
// waiting for a dpkg lock another process holds, and returns its output.
func apt(t *testing.T, action, pkg string) string {
	t.Helper()
	cmd := exec.Command("apt-get", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300", action, pkg)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("apt-get %s %s: %v\n%s", action, pkg, err, out)
	}
	return string(out)
}

// status is dpkg's status of lvs-agentx ("" when dpkg knows nothing of it).
func status(t *testing.T) string {
	out, _ := exec.Command("dpkg-query", "-W", "-f", "${Status}", "lvs-agentx").Output()
	return strings.TrimSpace(string(out))
}

func checkInstalled(t *testing.T, version string) {
	t.Helper()
	if st := status(t); st != "install ok installed" {
		t.Fatalf("dpkg says %q, want install ok installed", st)
	}
	if v, _ := exec.Command("dpkg-query", "-W", "-f", "${Version}", "lvs-agentx").Output(); string(v) != version {
		t.Errorf("installed version %q, want %s", v, version)
	}
	if out, err := exec.Command("/usr/sbin/lvs-agentx", "version").Output(); err != nil || string(out) != "lvs-agentx "+version+"\n" {
		t.Errorf("lvs-agentx version: %q %v", out, err)
	}
	// Every file as packaged, but a conffile the test changed.
	out, _ := exec.Command("dpkg", "--verify", "lvs-agentx").CombinedOutput()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" && !strings.HasSuffix(l, " c "+conffile) {
			t.Errorf("dpkg --verify: %s", l)
		}
	}
}

// agentRun is the agent the cycle runs: the unit under systemd, otherwise
// the unit's ExecStart as its user.
type agentRun struct {
	t       *testing.T
	systemd bool
	dir     string // holds the master's socket, reachable by the agent
	cmd     *exec.Cmd
	pid     int
}

// start starts the agent, with the unit's settings and an AgentX master
// of the test's, and checks that the agent of version runs as lvs-agentx
// with CAP_NET_ADMIN, registers the LVS-MIB and answers a Get.
func (a *agentRun) start(version string) {
	t := a.t
	t.Helper()
	if a.dir == "" {
		d, err := os.MkdirTemp("/run", "lvs-agentx-pkgtest-")
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o755)
		a.dir = d
	}
	sock := filepath.Join(a.dir, "master")
	os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.Chmod(sock, 0o666)
	addr := "unix:" + sock

	unit := readUnit(t, "/lib/systemd/system/lvs-agentx.service")
	if a.systemd {
		dropin := "/run/systemd/system/lvs-agentx.service.d/pkgtest.conf"
		os.MkdirAll(filepath.Dir(dropin), 0o755)
		if err := os.WriteFile(dropin, []byte("[Service]\nEnvironment=LVS_AGENTX_AGENTX="+addr+"\nReadWritePaths="+a.dir+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, c := range [][]string{{"daemon-reload"}, {"restart", "lvs-agentx.service"}} {
			if out, err := exec.Command("systemctl", c...).CombinedOutput(); err != nil {
				t.Fatalf("systemctl %v: %v\n%s", c, err, out)
			}
		}
	} else {
		a.cmd = unitCommand(t, unit, addr)
		a.cmd.Stdout, a.cmd.Stderr = &testWriter{t: t}, &testWriter{t: t}
		if err := a.cmd.Start(); err != nil {
			t.Fatalf("starting %v: %v", a.cmd.Args, err)
		}
	}

	// The agent connects, opens a session, registers the LVS-MIB.
	l.(*net.UnixListener).SetDeadline(time.Now().Add(30 * time.Second))
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("the agent did not connect to %s: %v", addr, err)
	}
	defer c.Close()
	cred, err := peerCred(c)
	if err != nil {
		t.Fatal(err)
	}
	a.pid = int(cred.Pid)
	u, _ := user.Lookup("lvs-agentx")
	if u == nil || strconv.Itoa(int(cred.Uid)) != u.Uid {
		t.Errorf("the agent runs as uid %d, want lvs-agentx's", cred.Uid)
	}
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", cred.Pid)); exe != "/usr/sbin/lvs-agentx" {
		t.Errorf("the agent's executable is %q", exe)
	}
	if caps := procStatus(cred.Pid, "CapEff"); caps != "0000000000001000" {
		t.Errorf("the agent's effective capabilities %s, want CAP_NET_ADMIN (0000000000001000) alone", caps)
	}
	m := agentxtest.NewConn(t, c, 7)
	open := m.Read()
	if _, ok := open.PDU.(*agentx.Open); !ok {
		t.Fatalf("first PDU %s, want Open", open.PDU.Type())
	}
	m.Respond(open, agentx.NoError)
	reg := m.Read()
	lvs, _ := agentx.ParseOID("1.3.6.1.4.1.8225.4711")
	if r, ok := reg.PDU.(*agentx.Register); !ok || r.Subtree.Compare(lvs) != 0 {
		t.Fatalf("second PDU %s %+v, want Register of %s", reg.PDU.Type(), reg.PDU, lvs)
	}
	m.Respond(reg, agentx.NoError)
	res := get(m, agentxtest.OID("1.3.6.1.4.1.8225.4711.9.0")) // lvsIpvsAvailable.0
	if len(res.VarBinds) != 1 || res.VarBinds[0].Type != agentx.Integer || (res.VarBinds[0].Int != 1 && res.VarBinds[0].Int != 2) {
		t.Errorf("Get lvsIpvsAvailable.0: %+v, want true(1) or false(2)", res)
	}
	t.Logf("agent %s (pid %d) registered the LVS-MIB; lvsIpvsAvailable.0 = %d", version, cred.Pid, res.VarBinds[0].Int)
}

// stop stops the agent the test started and waits for it.
func (a *agentRun) stop() {
	if a.cmd == nil || a.cmd.Process == nil {
		return
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { a.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		a.cmd.Process.Kill()
		<-done
	}
	a.cmd = nil
}

// checkGone checks the last agent process has ended.
func (a *agentRun) checkGone() {
	if a.pid == 0 {
		return
	}
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", a.pid)); err == nil && strings.HasPrefix(exe, "/usr/sbin/lvs-agentx") {
		a.t.Errorf("the agent (pid %d) still runs after remove", a.pid)
	}
}

// readUnit returns the [Service] settings of a unit file, each key's values
// in order.
func readUnit(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	settings := map[string][]string{}
	section := ""
	s := bufio.NewScanner(f)
	for s.Scan() {
		l := strings.TrimSpace(s.Text())
		switch {
		case l == "" || l[0] == '#' || l[0] == ';':
		case l[0] == '[':
			section = l
		case section == "[Service]":
			k, v, _ := strings.Cut(l, "=")
			settings[k] = append(settings[k], v)
		}
	}
	return settings
}

// unitCommand is the unit's ExecStart as systemd would run it here: as
// User and Group with their supplementary groups, the ambient and bounding
// capabilities, no new privileges, the environment files' settings, the
// state directory created for the user; the master's address added.
func unitCommand(t *testing.T, unit map[string][]string, addr string) *exec.Cmd {
	t.Helper()
	one := func(k string) string {
		v := unit[k]
		if len(v) == 0 {
			t.Fatalf("the unit has no %s", k)
		}
		return v[len(v)-1]
	}
	caps := func(k string) string {
		var cs []string
		for _, c := range strings.Fields(one(k)) {
			cs = append(cs, "+"+strings.ToLower(strings.TrimPrefix(c, "CAP_")))
		}
		return strings.Join(cs, ",")
	}
	usr, grp := one("User"), one("Group")
	args := []string{"--reuid=" + usr, "--regid=" + grp, "--init-groups",
		"--inh-caps=" + caps("AmbientCapabilities"), "--ambient-caps=" + caps("AmbientCapabilities"),
		"--bounding-set=-all," + caps("CapabilityBoundingSet")}
	if one("NoNewPrivileges") == "yes" {
		args = append(args, "--no-new-privs")
	}
	args = append(args, "--")
	args = append(args, strings.Fields(one("ExecStart"))...)
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	for _, ef := range unit["EnvironmentFile"] {
		b, err := os.ReadFile(strings.TrimPrefix(ef, "-"))
		if err != nil && !strings.HasPrefix(ef, "-") {
			t.Fatalf("EnvironmentFile %s: %v", ef, err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && l[0] != '#' && strings.Contains(l, "=") {
				env = append(env, l)
			}
		}
	}
	env = append(env, "LVS_AGENTX_AGENTX="+addr)
	if sd := one("StateDirectory"); sd != "" {
		dir := filepath.Join("/var/lib", sd)
		u, err := user.Lookup(usr)
		if err != nil {
			t.Fatal(err)
		}
		g, err := user.LookupGroup(grp)
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(g.Gid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chown(dir, uid, gid)
		env = append(env, "STATE_DIRECTORY="+dir)
	}
	cmd := exec.Command("setpriv", args...)
	cmd.Env = env
	cmd.Dir = "/"
	return cmd
}

// restoreHost leaves the host as the cycle found it: the agent stopped,
// the package purged, the user and group deleted, what the package or the
// test created removed.
func restoreHost(t *testing.T, a *agentRun) {
	a.stop()
	if a.systemd {
		os.RemoveAll("/run/systemd/system/lvs-agentx.service.d")
		exec.Command("systemctl", "stop", "lvs-agentx.service").Run()
		exec.Command("systemctl", "daemon-reload").Run()
	}
	if st := status(t); st != "" && st != "unknown ok not-installed" {
		cmd := exec.Command("dpkg", "--purge", "lvs-agentx")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("cleanup: dpkg --purge lvs-agentx: %v\n%s", err, out)
		}
	}
	if _, err := user.Lookup("lvs-agentx"); err == nil {
		if out, err := exec.Command("userdel", "lvs-agentx").CombinedOutput(); err != nil {
			t.Errorf("cleanup: userdel lvs-agentx: %v\n%s", err, out)
		}
	}
	if _, err := user.LookupGroup("lvs-agentx"); err == nil {
		if out, err := exec.Command("groupdel", "lvs-agentx").CombinedOutput(); err != nil {
			t.Errorf("cleanup: groupdel lvs-agentx: %v\n%s", err, out)
		}
	}
	for _, p := range append([]string{stateDir, conffile, a.dir}, dshRecords...) {
		if p != "" {
			os.RemoveAll(p)
		}
	}
}

// get sends a Get of oid and returns the agent's response, answering any
// notification the agent sends meanwhile.
func get(m *agentxtest.Conn, oid agentx.OID) *agentx.Response {
	req, b := m.Request(agentxtest.Get(oid), false)
	m.Write(b)
	for {
		p := m.Read()
		if res, ok := p.PDU.(*agentx.Response); ok && p.PacketID == req.PacketID {
			return res
		}
		m.Respond(p, agentx.NoError)
	}
}

// peerCred is the process at the other end of a Unix socket.
func peerCred(c net.Conn) (*syscall.Ucred, error) {
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *syscall.Ucred
	var serr error
	raw.Control(func(fd uintptr) {
		cred, serr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	})
	return cred, serr
}

// procStatus is one field of /proc/PID/status.
func procStatus(pid int32, field string) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// testWriter logs what the agent prints.
type testWriter struct{ t *testing.T }

func (w *testWriter) Write(b []byte) (int, error) {
	w.t.Logf("agent: %s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
