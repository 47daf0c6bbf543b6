package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/uml"
)

// productionSetup runs snmpd the way the operator documentation says (the
// AgentX socket in a root-owned directory, group-accessible socket, a view
// for the LVS-MIB given to a v2c community and an SNMPv3 user; the socket is
// under /run, the guest's own tmpfs, not the host's /var) and defines
// helpers: snmpd_start CONF, snmpd_stop, agent_as CAPS LOG [flags] (starts
// lvs-agentx as nobody:nogroup holding exactly CAPS, e.g. "+net_admin" or
// "" for none), agent_stop, served (waits until snmpd serves the agent).
const productionSetup = `
export SNMP_PERSISTENT_DIR=$WORK/persist
mkdir -p $WORK/persist /run/lvs-agentx mibs
chown 65534:65534 /run/lvs-agentx
for f in /usr/lib/erlang/lib/snmp-*/mibs/{SNMPv2-SMI,SNMPv2-TC,SNMPv2-CONF,SNMPv2-MIB,INET-ADDRESS-MIB}.mib; do ln -sf "$f" mibs/; done
lvs-agentx mib --dir mibs
cat > snmpd-good.conf <<CONF
master agentx
agentXSocket /run/agentx/master
agentXPerms 0660 0755 root nogroup
view lvsview included .1.3.6.1.4.1.8225.4711
rocommunity public 127.0.0.1 -V lvsview
createUser u SHA authpass12 AES privpass12
rouser u priv -V lvsview
CONF
grep -v '^master agentx' snmpd-good.conf > snmpd-nomaster.conf
sed 's/^agentXPerms .*/agentXPerms 0600 0755 root root/' snmpd-good.conf > snmpd-perms.conf
snmpd_start() { # CONF [snmpd flags]; the log is on the guest's tmpfs (fast)
	conf=$1; shift
	snmpd -f -C -c "$conf" -Lf /run/snmpd.log "$@" -p /run/snmpd.pid udp:127.0.0.1:1161 &
	SNMPD=$!
	for i in $(seq 50); do
		snmpget -v2c -c public -t 0.2 -r 0 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711.9.0 2>&1 | grep -q 'Timeout' || break
		sleep 0.1
	done
}
snmpd_stop() { kill -TERM $SNMPD; wait $SNMPD; }
agent_as() {
	caps=$1 log=$2; shift 2
	LVS_AGENTX_AGENTX=/run/agentx/master setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all$caps --ambient-caps=-all$caps --bounding-set=-all$caps \
		lvs-agentx run --state-file /run/lvs-agentx/indexes.json --cache-ttl 1s "$@" 2>>"$log" &
	AGENT=$!
}
agent_stop() { kill -TERM $AGENT; wait $AGENT; echo "agent exit $?"; }
served() {
	for i in $(seq 100); do
		snmpget -v2c -c public -On 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711.9.0 2>/dev/null | grep -q INTEGER && return 0
		sleep 0.2
	done
	echo "the agent never answered through snmpd" >&2; return 1
}
`

// TestProduction is issue 6's proof in a guest with real IPVS and a real
// snmpd configured as the operator documentation says: an unprivileged
// agent holding only CAP_NET_ADMIN serves an SNMPv2c community and an
// SNMPv3 user, "check" agrees, SIGTERM closes the session cleanly, and each
// misconfiguration (no capability, no "master agentx", a socket the agent
// may not use, a wrong community) is named by check or the agent's log.
func TestProduction(t *testing.T) {
	t.Parallel()
	r := uml.Run(t, uml.Scenario{
		Binaries: map[string]string{"lvs-agentx": agentPkg},
		Timeout:  6 * time.Minute,
		Script: scenarioSetup + `
set +e
for i in 1 2 3 4 5 6; do curl -sf -o /dev/null http://10.99.0.1/; done
sleep 3
` + productionSetup + `
# a. least privilege: nobody with CAP_NET_ADMIN only.
snmpd_start snmpd-good.conf
agent_as ,+net_admin agent.log
served
grep Cap /proc/$AGENT/status > agent-caps.txt
ps -o user= -p $AGENT > agent-user.txt
snmpbulkwalk -v2c -c public -On -t 5 -Cr50 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711 > walk.txt
snmpbulkwalk -v2c -c public -t 5 -M +$WORK/mibs -m +LVS-MIB 127.0.0.1:1161 LVS-MIB::lvsServiceTable > named.txt 2> named.err

# b. check, v2c and v3, with traffic flowing meanwhile.
(for i in $(seq 20); do curl -sf -o /dev/null http://10.99.0.1/; sleep 0.2; done) &
TRAFFIC=$!
lvs-agentx check --snmp udp:127.0.0.1:1161 --community public > check-v2c.txt 2>&1; echo "exit $?" >> check-v2c.txt
lvs-agentx check --snmp udp:127.0.0.1:1161 --user u --auth-pass authpass12 --priv-pass privpass12 > check-v3.txt 2>&1; echo "exit $?" >> check-v3.txt
wait $TRAFFIC
snmpbulkwalk -v3 -l authPriv -u u -a SHA -A authpass12 -x AES -X privpass12 -On -t 5 -Cr50 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711 > walk-v3.txt 2> walk-v3.err
# c. a wrong community, and wrong SNMPv3 credentials.
lvs-agentx check --snmp udp:127.0.0.1:1161 --community private --timeout 1s > check-community.txt 2>&1; echo "exit $?" >> check-community.txt
lvs-agentx check --snmp udp:127.0.0.1:1161 --user u --auth-pass wrongpass12 --priv-pass privpass12 --timeout 1s > check-v3-wrong.txt 2>&1; echo "exit $?" >> check-v3-wrong.txt

agent_stop > /dev/null
rm -f /run/lvs-agentx/indexes.json

# c. no capability: the agent keeps running and says what is missing.
agent_as "" agent-nocap.log
served
sleep 0.5
snmpget -v2c -c public -On 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711.9.0 > nocap-available.txt
lvs-agentx check --snmp udp:127.0.0.1:1161 > check-nocap.txt 2>&1; echo "exit $?" >> check-nocap.txt
kill -0 $AGENT && echo running > nocap-running.txt
agent_stop > /dev/null
snmpd_stop

# d. SIGTERM: exit 0, Close seen by snmpd (its AgentX debug log), state written.
snmpd_start snmpd-good.conf -Dagentx/master
agent_as ,+net_admin agent-term.log
served
agent_stop > agent-exit.txt
sleep 0.5
grep -i 'close' /run/snmpd.log > snmpd-close.txt
cp /run/lvs-agentx/indexes.json state.json
snmpd_stop

# c. the socket is the master's alone (0600 root): the agent may not connect.
snmpd_start snmpd-perms.conf
ls -l /run/agentx/master > perms-socket.txt
agent_as ,+net_admin agent-perms.log
sleep 3
lvs-agentx check --snmp udp:127.0.0.1:1161 > check-perms.txt 2>&1; echo "exit $?" >> check-perms.txt
agent_stop > /dev/null
snmpd_stop

# c. snmpd without "master agentx".
snmpd_start snmpd-nomaster.conf
agent_as ,+net_admin agent-nomaster.log
sleep 2
lvs-agentx check --snmp udp:127.0.0.1:1161 > check-nomaster.txt 2>&1; echo "exit $?" >> check-nomaster.txt
agent_stop > /dev/null
snmpd_stop
exit 0
`})
	if r.ExitCode != 0 {
		t.Fatalf("guest: %s", r.Describe())
	}
	file := func(name string) string { return string(r.File(t, name)) }
	t.Logf("agent log:\n%s", file("agent.log"))
	if os.Getenv("LVS_PRODUCTION_SHOW") != "" {
		t.Logf("named walk:\n%s", file("named.txt"))
	}

	// a. nobody, holding CAP_NET_ADMIN (bit 12) and nothing else.
	if u := strings.TrimSpace(file("agent-user.txt")); u != "nobody" {
		t.Errorf("agent runs as %q, want nobody", u)
	}
	for _, l := range strings.Split(strings.TrimSpace(file("agent-caps.txt")), "\n") {
		if !strings.HasSuffix(l, "0000000000001000") {
			t.Errorf("agent capabilities: %q, want CAP_NET_ADMIN only", l)
		}
	}
	walk := parseWalk(t, file("walk.txt"))
	rows := walk.rowIndexes()
	if len(rows) < 20 || rows["TCP 10.99.0.1:80"] == "" {
		t.Errorf("unprivileged agent serves %d rows (%v), want the scenario's", len(rows), rows)
	}
	if v := walk.values[lvs+".9.0"]; v != "INTEGER: 1" {
		t.Errorf("lvsIpvsAvailable = %q with CAP_NET_ADMIN, want 1", v)
	}
	named := file("named.txt")
	if !strings.Contains(named, `LVS-MIB::lvsServiceName`) || !regexp.MustCompile(`LVS-MIB::lvsServiceName\.\d+ = STRING: TCP 10\.99\.0\.1:80\n`).MatchString(named) {
		t.Errorf("walk by name does not show the service names:\n%s", named)
	}
	// -m +LVS-MIB also loads the default modules, absent here without
	// snmp-mibs-downloader; only complaints about ours and what they import
	// count.
	for _, l := range strings.Split(file("named.err"), "\n") {
		if regexp.MustCompile(`LVS-MIB|OC-MIB|INET-ADDRESS-MIB|SNMPv2-(SMI|TC|CONF)`).MatchString(l) {
			t.Errorf("snmpwalk -m +LVS-MIB: %s", l)
		}
	}

	// b. check says OK with v2c and v3; a v3 walk works.
	for _, f := range []string{"check-v2c.txt", "check-v3.txt"} {
		out := file(f)
		if !strings.HasPrefix(out, "OK: ") || !strings.HasSuffix(out, "exit 0\n") {
			t.Errorf("%s:\n%s", f, out)
		}
	}
	v3 := parseWalk(t, file("walk-v3.txt"))
	if len(v3.order) != len(walk.order) || v3.values[lvs+".9.0"] != "INTEGER: 1" {
		t.Errorf("SNMPv3 walk has %d varbinds, v2c %d; stderr %s", len(v3.order), len(walk.order), file("walk-v3.err"))
	}

	// c. misconfigurations are named.
	mustSay(t, "wrong community: check", file("check-community.txt"), `(?s)PROBLEM.*does not answer.*community.*exit [1-9]`)
	mustSay(t, "wrong SNMPv3 password: check", file("check-v3-wrong.txt"), `(?s)PROBLEM.*refused the SNMPv3 credentials.*exit [1-9]`)
	mustSay(t, "no capability: lvsIpvsAvailable", file("nocap-available.txt"), `INTEGER: 2`)
	mustSay(t, "no capability: agent log", file("agent-nocap.log"), `IPVS unreadable.*CAP_NET_ADMIN`)
	mustSay(t, "no capability: check", file("check-nocap.txt"), `(?s)^PROBLEM: 1 finding.*IPVS unavailable.*CAP_NET_ADMIN.*exit [1-9]`)
	if strings.TrimSpace(file("nocap-running.txt")) != "running" {
		t.Errorf("the agent without CAP_NET_ADMIN did not keep running:\n%s", file("agent-nocap.log"))
	}
	t.Logf("socket with agentXPerms 0600: %s", file("perms-socket.txt"))
	mustSay(t, "socket permissions: agent log", file("agent-perms.log"), `permission denied on snmpd's AgentX socket: set agentXPerms`)
	mustSay(t, "socket permissions: check", file("check-perms.txt"), `(?s)PROBLEM.*not registered.*agentXPerms.*exit [1-9]`)
	mustSay(t, "no master agentx: check", file("check-nomaster.txt"), `(?s)PROBLEM.*master agentx.*exit [1-9]`)
	mustSay(t, "no master agentx: agent log", file("agent-nomaster.log"), `not accepting AgentX connections.*'master agentx'`)

	// d. SIGTERM: exit 0, snmpd saw the Close, the state file is there.
	if got := strings.TrimSpace(file("agent-exit.txt")); got != "agent exit 0" {
		t.Errorf("SIGTERM: %s", got)
	}
	mustSay(t, "SIGTERM: snmpd's AgentX debug log", file("snmpd-close.txt"), `agentx/master: close`)
	state := file("state.json")
	if !strings.Contains(state, "10.99.0.1") {
		t.Errorf("state file after SIGTERM lacks the services:\n%s", state)
	}
}

// mustSay fails unless text matches the regular expression.
func mustSay(t *testing.T, what, text, re string) {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(text) {
		t.Errorf("%s does not match %s:\n%s", what, re, text)
	}
}

// TestPackage builds the Debian package and a "make install" tree on the
// host, each into its own directories, and checks they hold the same files
// where the issue says (binary, MIBs, unit, conffile, man page), that the
// packaged binary runs, that the unit passes systemd-analyze verify and the
// man page renders without warnings.
func TestPackage(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"make", "dpkg-deb", "dpkg", "groff", "gzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: apt-get install -y make dpkg groff-base gzip", tool)
		}
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	build := filepath.Join(tmp, "build")
	const ver = "1.2.3~test"
	sh(t, repo, "make", "--no-print-directory", "deb", "BUILDDIR="+build, "VERSION=v"+ver)
	debs, _ := filepath.Glob(filepath.Join(build, "*.deb"))
	if len(debs) != 1 {
		t.Fatalf("make deb made %v, want one package in %s", debs, build)
	}
	deb := debs[0]
	if !strings.HasPrefix(filepath.Base(deb), "lvs-agentx_"+ver+"_") {
		t.Errorf("package file %s, want lvs-agentx_%s_ARCH.deb", filepath.Base(deb), ver)
	}

	// Contents: the files, their modes, owned by root.
	contents := map[string]string{} // path -> "mode owner"
	for _, l := range strings.Split(strings.TrimSpace(sh(t, tmp, "dpkg-deb", "-c", deb)), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || f[0][0] == 'd' {
			continue
		}
		contents[strings.TrimPrefix(f[5], ".")] = f[0] + " " + f[1]
	}
	want := map[string]string{
		"/usr/sbin/lvs-agentx":                         "-rwxr-xr-x root/root",
		"/usr/share/snmp/mibs/LVS-MIB.txt":             "-rw-r--r-- root/root",
		"/usr/share/snmp/mibs/OC-MIB.txt":              "-rw-r--r-- root/root",
		"/lib/systemd/system/lvs-agentx.service":       "-rw-r--r-- root/root",
		"/etc/default/lvs-agentx":                      "-rw-r--r-- root/root",
		"/usr/share/man/man8/lvs-agentx.8.gz":          "-rw-r--r-- root/root",
		"/usr/share/doc/lvs-agentx/snmpd.conf.example": "-rw-r--r-- root/root",
	}
	for p, w := range want {
		if got, ok := contents[p]; !ok {
			t.Errorf("package lacks %s", p)
		} else if got != w {
			t.Errorf("package: %s is %s, want %s", p, got, w)
		}
	}
	for p := range contents {
		if _, ok := want[p]; !ok {
			t.Errorf("package has an unexpected file %s", p)
		}
	}

	// Control fields and conffiles.
	info := sh(t, tmp, "dpkg-deb", "-I", deb)
	arch := strings.TrimSpace(sh(t, tmp, "dpkg", "--print-architecture"))
	for _, f := range []string{"Package: lvs-agentx", "Version: " + ver, "Architecture: " + arch,
		"Depends: adduser", "Recommends: snmpd", "Section: net", "Maintainer: ", "Description: "} {
		if !strings.Contains(info, "\n "+f) {
			t.Errorf("dpkg-deb -I lacks %q:\n%s", f, info)
		}
	}
	for _, f := range []string{"postinst", "prerm", "postrm", "conffiles"} {
		if !regexp.MustCompile(`(?m)^ .* ` + f + `\b`).MatchString(info) {
			t.Errorf("package lacks control file %s:\n%s", f, info)
		}
	}
	if c := sh(t, tmp, "dpkg-deb", "--ctrl-tarfile", deb); !strings.Contains(c, "conffiles") {
		t.Errorf("no conffiles in control archive")
	}
	x := filepath.Join(tmp, "x")
	sh(t, tmp, "dpkg-deb", "-x", deb, x)
	sh(t, tmp, "dpkg-deb", "-e", deb, filepath.Join(tmp, "DEBIAN"))
	if c, _ := os.ReadFile(filepath.Join(tmp, "DEBIAN", "conffiles")); string(c) != "/etc/default/lvs-agentx\n" {
		t.Errorf("conffiles = %q, want /etc/default/lvs-agentx", c)
	}

	// The packaged binary runs and knows its version.
	if got := sh(t, tmp, filepath.Join(x, "usr/sbin/lvs-agentx"), "version"); got != "lvs-agentx v"+ver+"\n" {
		t.Errorf("packaged lvs-agentx version: %q", got)
	}

	// make install gives the same files (the man page uncompressed).
	dest := filepath.Join(tmp, "dest")
	sh(t, repo, "make", "--no-print-directory", "install", "BUILDDIR="+filepath.Join(tmp, "build2"), "DESTDIR="+dest, "PREFIX=/usr")
	installed := map[string]bool{}
	err = filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			installed[strings.TrimPrefix(p, dest)] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range want {
		if !installed[strings.TrimSuffix(p, ".gz")] {
			t.Errorf("make install lacks %s", strings.TrimSuffix(p, ".gz"))
		}
	}
	if len(installed) != len(want) {
		t.Errorf("make install made %d files, the package %d: %v", len(installed), len(want), installed)
	}
	for _, p := range []string{"/usr/share/snmp/mibs/LVS-MIB.txt", "/lib/systemd/system/lvs-agentx.service", "/etc/default/lvs-agentx"} {
		a, _ := os.ReadFile(filepath.Join(x, p))
		b, _ := os.ReadFile(filepath.Join(dest, p))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("%s differs between the package and make install", p)
		}
	}
	// Neither build wrote into the repository's own bin/.
	if _, err := os.Stat(filepath.Join(repo, "bin", "deb")); err == nil {
		t.Logf("note: %s/bin/deb exists (from an earlier make deb without BUILDDIR)", repo)
	}

	// The man page renders without warnings.
	man := filepath.Join(dest, "usr/share/man/man8/lvs-agentx.8")
	if out, err := exec.Command("groff", "-man", "-ww", "-z", man).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff -man -ww -z %s: %v\n%s", man, err, out)
	}
	cmd := exec.Command("man", "-l", "--warnings", filepath.Join(x, "usr/share/man/man8/lvs-agentx.8.gz"))
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "lvs-agentx") {
		t.Errorf("man -l of the packaged page: %v\n%s", err, out)
	}

	// The unit, pointing at the extracted binary, passes systemd-analyze.
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("note: systemd-analyze not installed; the unit was not verified (apt-get install -y systemd)")
		return
	}
	unit, _ := os.ReadFile(filepath.Join(x, "lib/systemd/system/lvs-agentx.service"))
	unitDir := filepath.Join(tmp, "unit")
	if err := os.MkdirAll(unitDir, 0o755); err != nil {
		t.Fatal(err)
	}
	u := filepath.Join(unitDir, "lvs-agentx.service")
	fixed := strings.ReplaceAll(string(unit), "/usr/sbin/lvs-agentx", filepath.Join(x, "usr/sbin/lvs-agentx"))
	if err := os.WriteFile(u, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	v := exec.Command("systemd-analyze", "verify", "--man=no", u)
	if out, err := v.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// sh runs a command in dir and returns its standard output, failing the
// test on a non-zero exit.
func sh(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}
