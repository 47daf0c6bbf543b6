package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// TestRPM builds two RPMs of successive versions and checks the first's
// name, file list, modes, config file, scriptlets, dependencies and
// changelog, runs rpmlint on it, installs it into a scratch root with rpm
// --root, upgrades that to the second, checks rpm refuses the downgrade,
// and erases it. The scratch root has no RHEL userland, so the scriptlets
// do not run there (--noscripts): %post (systemd-sysusers, and
// systemd-update-helper or systemctl preset), %preun (the unit disabled
// and stopped) and %postun (the unit restarted after an upgrade); their
// text is checked instead.
func TestRPM(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"make", "rpm", "rpmlint"} {
		testutil.NeedTool(t, tool, "make deps (TEST_DEBS)")
	}
	repo := repoDir(t)
	tmp := t.TempDir()
	base := releaseVersion(t, repo)
	v1, v2 := devVersions(base)
	rpm1 := buildPackage(t, repo, filepath.Join(tmp, "b1"), v1, "rpm")
	rpm2 := buildPackage(t, repo, filepath.Join(tmp, "b2"), v2, "rpm")
	if got, want := filepath.Base(rpm1), "lvs-agentx-"+v1+"-1.x86_64.rpm"; got != want && strings.Contains(got, "x86_64") {
		t.Errorf("rpm file %s, want %s", got, want)
	}
	q := func(args ...string) string {
		return sh(t, tmp, "rpm", append([]string{"-qp"}, append(args, rpm1)...)...)
	}

	if got := q("--queryformat", "%{NAME} %{VERSION} %{RELEASE} %{LICENSE}\n"); !strings.HasPrefix(got, "lvs-agentx "+v1+" 1 ") {
		t.Errorf("rpm name, version, release: %q", got)
	}
	// Files with their modes and owners.
	want := merge(commonFiles, rpmFiles)
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(q("--queryformat", "[%{FILEMODES:perms} %{FILEUSERNAME}/%{FILEGROUPNAME} %{FILENAMES}\n]")), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && f[0][0] != 'd' {
			got[f[2]] = f[0] + " " + f[1]
		}
	}
	sameFiles(t, "rpm", got, want)
	if l := strings.TrimSpace(sh(t, tmp, "rpm", "-qlp", rpm1)); len(strings.Split(l, "\n")) != len(want) {
		t.Errorf("rpm -qlp lists %d files, want %d:\n%s", len(strings.Split(l, "\n")), len(want), l)
	}
	if c := strings.TrimSpace(q("--configfiles")); c != "/etc/sysconfig/lvs-agentx" {
		t.Errorf("rpm config files %q, want /etc/sysconfig/lvs-agentx", c)
	}
	if d := q("--queryformat", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]"); !strings.Contains(d, "cn /etc/sysconfig/lvs-agentx") {
		t.Errorf("/etc/sysconfig/lvs-agentx is not %%config(noreplace):\n%s", d)
	}
	// Dependencies.
	req := q("--requires")
	if !strings.Contains(req, "systemd\n") {
		t.Errorf("rpm --requires lacks systemd:\n%s", req)
	}
	for _, r := range strings.Split(strings.TrimSpace(req), "\n") {
		if r != "systemd" && !strings.HasPrefix(r, "rpmlib(") && r != "/bin/sh" {
			t.Errorf("rpm requires %q", r)
		}
	}
	if rec := q("--recommends"); !strings.Contains(rec, "net-snmp\n") {
		t.Errorf("rpm --recommends lacks net-snmp:\n%s", rec)
	}
	// Scriptlets: the user from sysusers.d, the unit through the RHEL
	// family's helpers.
	scripts := q("--scripts")
	for _, w := range []string{
		"postinstall scriptlet", "systemd-sysusers /usr/lib/sysusers.d/lvs-agentx.conf",
		"systemd-update-helper install-system-units lvs-agentx.service", "systemctl --no-reload preset lvs-agentx.service",
		"preuninstall scriptlet", "systemd-update-helper remove-system-units lvs-agentx.service",
		"postuninstall scriptlet", "systemd-update-helper mark-restart-system-units lvs-agentx.service", "systemctl try-restart lvs-agentx.service",
	} {
		if !strings.Contains(scripts, w) {
			t.Errorf("rpm --scripts lacks %q:\n%s", w, scripts)
		}
	}
	for _, s := range []string{"post", "preun", "postun"} {
		if out, err := exec.Command("sh", "-n", filepath.Join(repo, "dist/rpm", s)).CombinedOutput(); err != nil {
			t.Errorf("sh -n dist/rpm/%s: %v\n%s", s, err, out)
		}
	}
	// The changelog: the newest entry names this version-release.
	if cl := q("--changelog"); !strings.Contains(strings.SplitN(cl, "\n", 2)[0], "- "+v1+"-1") {
		t.Errorf("rpm --changelog starts %q, want an entry for %s-1", strings.SplitN(cl, "\n", 2)[0], v1)
	}

	// rpmlint: no error (with the RHEL family's settings and the two
	// filters dist/rpm/rpmlint.toml explains).
	out, err := exec.Command("rpmlint", "-c", filepath.Join(repo, "dist/rpm/rpmlint.toml"), rpm1).CombinedOutput()
	t.Logf("rpmlint %s:\n%s", filepath.Base(rpm1), out)
	if err != nil || !strings.Contains(string(out), " 0 errors") {
		t.Errorf("rpmlint: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, ": E: ") {
			t.Errorf("rpmlint: %s", l)
		}
	}

	// rpm's own version order: the release, then its development builds
	// in commit order, then the next release.
	order := []string{base, v1, v2, v2 + ".dirty", nextPatch(t, base)}
	for i := 1; i < len(order); i++ {
		if c := rpmVercmp(t, order[i-1], order[i]); c != "-1" {
			t.Errorf("rpm.vercmp(%s, %s) = %s, want -1", order[i-1], order[i], c)
		}
	}

	// Install, upgrade, refuse a downgrade, erase in a scratch root.
	root := filepath.Join(tmp, "root")
	// Debian's rpm warns on every install that Alien is the tool for
	// Debian systems; the warning is dropped from the output.
	rpmRoot := func(args ...string) (string, error) {
		a := []string{"--root", root}
		if args[0] == "-i" || args[0] == "-U" || args[0] == "-e" || args[0] == "-V" {
			a = append(a, "--nodeps", "--noscripts")
		}
		out, err := exec.Command("rpm", append(a, args...)...).CombinedOutput()
		var keep []string
		for _, l := range strings.SplitAfter(string(out), "\n") {
			if !strings.Contains(l, "use Alien instead") && !strings.Contains(l, "assuming you know what you are doing") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, ""), err
	}
	mustRoot := func(args ...string) string {
		t.Helper()
		out, err := rpmRoot(args...)
		if err != nil {
			t.Fatalf("rpm --root %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	if out, err := exec.Command("rpm", "--root", root, "--initdb").CombinedOutput(); err != nil {
		t.Fatalf("rpm --root --initdb: %v\n%s", err, out)
	}
	mustRoot("-i", rpm1)
	if v := mustRoot("-q", "--queryformat", "%{VERSION}", "lvs-agentx"); v != v1 {
		t.Errorf("installed version %q, want %s", v, v1)
	}
	for p := range want {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("after rpm -i: %v", err)
		}
	}
	if out, err := exec.Command(filepath.Join(root, "usr/sbin/lvs-agentx"), "version").Output(); err != nil || string(out) != "lvs-agentx "+v1+"\n" {
		t.Errorf("installed lvs-agentx version: %q %v", out, err)
	}
	if out := mustRoot("-V", "lvs-agentx"); out != "" {
		t.Errorf("rpm -V after install:\n%s", out)
	}
	// An administrator's setting survives the upgrade.
	conf := filepath.Join(root, "etc/sysconfig/lvs-agentx")
	if err := os.WriteFile(conf, []byte("LVS_AGENTX_LOG_LEVEL=debug\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRoot("-U", rpm2)
	if v := mustRoot("-q", "--queryformat", "%{VERSION}", "lvs-agentx"); v != v2 {
		t.Errorf("upgraded version %q, want %s", v, v2)
	}
	if b, _ := os.ReadFile(conf); string(b) != "LVS_AGENTX_LOG_LEVEL=debug\n" {
		t.Errorf("upgrade replaced the changed /etc/sysconfig/lvs-agentx: %q", b)
	}
	if out, err := rpmRoot("-U", rpm1); err == nil || !strings.Contains(out, "newer") {
		t.Errorf("rpm -U of the older package: %v, want it refused as older\n%s", err, out)
	}
	mustRoot("-e", "lvs-agentx")
	if out, err := rpmRoot("-q", "lvs-agentx"); err == nil {
		t.Errorf("lvs-agentx still installed after rpm -e:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/sbin/lvs-agentx")); err == nil {
		t.Errorf("rpm -e left /usr/sbin/lvs-agentx")
	}
	if _, err := os.Stat(conf + ".rpmsave"); err != nil {
		t.Errorf("rpm -e did not keep the changed settings as .rpmsave: %v", err)
	}
	var left []string
	filepath.WalkDir(filepath.Join(root, "usr"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	sort.Strings(left)
	if len(left) > 0 {
		t.Errorf("rpm -e left files under /usr: %v", left)
	}
}

// rpmVercmp compares two versions with rpm's own comparison (its Lua
// rpm.vercmp): -1, 0 or 1.
func rpmVercmp(t *testing.T, a, b string) string {
	t.Helper()
	return strings.TrimSpace(sh(t, ".", "rpm", "--eval", `%{lua: print(rpm.vercmp("`+a+`", "`+b+`"))}`))
}
