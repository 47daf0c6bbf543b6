// Package packaging tests the Debian and RPM packages and make install on
// the host: they need no kernel with IPVS.
package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// The files both packages and make install have (the man page compressed
// in the packages), and those only the .deb or the .rpm has, with their
// modes and owners.
var (
	commonFiles = map[string]string{
		"/usr/sbin/lvs-agentx":                         "-rwxr-xr-x root/root",
		"/usr/share/snmp/mibs/LVS-MIB.txt":             "-rw-r--r-- root/root",
		"/usr/share/snmp/mibs/OC-MIB.txt":              "-rw-r--r-- root/root",
		"/usr/share/man/man8/lvs-agentx.8.gz":          "-rw-r--r-- root/root",
		"/usr/share/doc/lvs-agentx/snmpd.conf.example": "-rw-r--r-- root/root",
		"/usr/lib/sysusers.d/lvs-agentx.conf":          "-rw-r--r-- root/root",
	}
	debFiles = map[string]string{
		"/lib/systemd/system/lvs-agentx.service":    "-rw-r--r-- root/root",
		"/etc/default/lvs-agentx":                   "-rw-r--r-- root/root",
		"/usr/share/doc/lvs-agentx/copyright":       "-rw-r--r-- root/root",
		"/usr/share/doc/lvs-agentx/changelog.gz":    "-rw-r--r-- root/root",
		"/usr/share/doc/lvs-agentx/CHANGELOG.md.gz": "-rw-r--r-- root/root",
		"/usr/share/lintian/overrides/lvs-agentx":   "-rw-r--r-- root/root",
	}
	rpmFiles = map[string]string{
		"/usr/lib/systemd/system/lvs-agentx.service": "-rw-r--r-- root/root",
		"/etc/sysconfig/lvs-agentx":                  "-rw-r--r-- root/root",
		"/usr/share/licenses/lvs-agentx/copyright":   "-rw-r--r-- root/root",
		"/usr/share/doc/lvs-agentx/CHANGELOG.md":     "-rw-r--r-- root/root",
	}
	// What make install adds to the common files (PREFIX=/usr).
	installFiles = []string{"/lib/systemd/system/lvs-agentx.service", "/etc/default/lvs-agentx"}
)

// TestPackage builds the Debian package, the RPM and a "make install" tree
// on the host, each into its own directories, and checks they hold the
// same files where it matters (binary, MIBs, unit, settings, man page,
// sysusers.d), the .deb's control data and conffiles, that lintian finds
// nothing but the overridden statically linked binary, that the packaged
// binary runs and prints the version of the file name, that the unit
// passes systemd-analyze verify and the man page renders without warnings.
// TestRPM checks the .rpm.
func TestPackage(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"make", "dpkg-deb", "dpkg", "groff", "gzip", "man", "lintian", "systemd-analyze", "systemd-sysusers", "file"} {
		testutil.NeedTool(t, tool, "make deps (TEST_DEBS)")
	}
	repo := repoDir(t)
	tmp := t.TempDir()
	// The version make computes for this tree (dist/version.sh).
	ver := strings.TrimSpace(sh(t, repo, "make", "-s", "--no-print-directory", "version"))
	if !versionRE.MatchString(ver) {
		t.Fatalf("make version = %q, want X.Y.Z or X.Y.Z+gitYYYYMMDD.N.HASH[.dirty]", ver)
	}
	deb := buildPackage(t, repo, filepath.Join(tmp, "build"), "", "deb")
	arch := strings.TrimSpace(sh(t, tmp, "dpkg", "--print-architecture"))
	if got, want := filepath.Base(deb), "lvs-agentx_"+ver+"_"+arch+".deb"; got != want {
		t.Errorf("package file %s, want %s", got, want)
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
	sameFiles(t, "package", contents, merge(commonFiles, debFiles))

	// Control fields and conffiles.
	info := sh(t, tmp, "dpkg-deb", "-I", deb)
	for _, f := range []string{"Package: lvs-agentx", "Version: " + ver + "\n", "Architecture: " + arch,
		"Depends: adduser\n", "Recommends: snmpd", "Section: net", "Maintainer: ", "Description: "} {
		if !strings.Contains(info, "\n "+f) {
			t.Errorf("dpkg-deb -I lacks %q:\n%s", f, info)
		}
	}
	if strings.Contains(info, "@localhost") {
		t.Errorf("the maintainer's address is on localhost:\n%s", info)
	}
	for _, f := range []string{"postinst", "prerm", "postrm", "conffiles"} {
		if !regexp.MustCompile(`(?m)^ .* ` + f + `\b`).MatchString(info) {
			t.Errorf("package lacks control file %s:\n%s", f, info)
		}
	}
	x := filepath.Join(tmp, "x")
	sh(t, tmp, "dpkg-deb", "-x", deb, x)
	ctrl := filepath.Join(tmp, "DEBIAN")
	sh(t, tmp, "dpkg-deb", "-e", deb, ctrl)
	if c, _ := os.ReadFile(filepath.Join(ctrl, "conffiles")); string(c) != "/etc/default/lvs-agentx\n" {
		t.Errorf("conffiles = %q, want /etc/default/lvs-agentx", c)
	}
	// The maintainer scripts use the distribution's helpers: adduser for
	// the user, deb-systemd-helper and deb-systemd-invoke for the unit;
	// systemctl only for daemon-reload.
	for _, f := range []string{"postinst", "prerm", "postrm"} {
		b, _ := os.ReadFile(filepath.Join(ctrl, f))
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "systemctl") && !strings.HasPrefix(strings.TrimSpace(l), "#") && !strings.Contains(l, "daemon-reload") {
				t.Errorf("%s calls systemctl: %s", f, l)
			}
		}
	}
	post, _ := os.ReadFile(filepath.Join(ctrl, "postinst"))
	for _, w := range []string{"adduser --system", "--home /nonexistent", "deb-systemd-helper enable", "deb-systemd-invoke restart"} {
		if !strings.Contains(string(post), w) {
			t.Errorf("postinst lacks %q", w)
		}
	}

	// The changelogs: the Debian one's newest entry is this version.
	dch := sh(t, tmp, "sh", "-c", "zcat "+filepath.Join(x, "usr/share/doc/lvs-agentx/changelog.gz"))
	if first, _, _ := strings.Cut(dch, "\n"); !strings.HasPrefix(first, "lvs-agentx ("+ver+") ") {
		t.Errorf("changelog.gz starts %q, want lvs-agentx (%s)", first, ver)
	}
	md := sh(t, tmp, "sh", "-c", "zcat "+filepath.Join(x, "usr/share/doc/lvs-agentx/CHANGELOG.md.gz"))
	if repoMD, _ := os.ReadFile(filepath.Join(repo, "CHANGELOG.md")); md != string(repoMD) {
		t.Errorf("CHANGELOG.md.gz differs from CHANGELOG.md")
	}

	// lintian: no error, no warning; the one override is used.
	lintianClean(t, deb)

	// The packaged binary runs and knows its version; it is stripped.
	if got := sh(t, tmp, filepath.Join(x, "usr/sbin/lvs-agentx"), "version"); got != "lvs-agentx "+ver+"\n" {
		t.Errorf("packaged lvs-agentx version: %q, want %q", got, "lvs-agentx "+ver+"\n")
	}
	if out := sh(t, tmp, "file", filepath.Join(x, "usr/sbin/lvs-agentx")); !strings.Contains(out, ", stripped") {
		t.Errorf("packaged binary is not stripped: %s", out)
	}

	// make install gives the same files (the man page uncompressed).
	dest := filepath.Join(tmp, "dest")
	sh(t, repo, "make", "--no-print-directory", "install", "BUILDDIR="+filepath.Join(tmp, "build2"), "DESTDIR="+dest, "PREFIX=/usr")
	installed := map[string]bool{}
	err := filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			installed[strings.TrimPrefix(p, dest)] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantInstalled := map[string]bool{}
	for p := range commonFiles {
		wantInstalled[strings.TrimSuffix(p, ".gz")] = true
	}
	for _, p := range installFiles {
		wantInstalled[p] = true
	}
	for p := range wantInstalled {
		if !installed[p] {
			t.Errorf("make install lacks %s", p)
		}
	}
	for p := range installed {
		if !wantInstalled[p] {
			t.Errorf("make install made an unexpected file %s", p)
		}
	}
	for _, p := range []string{"/usr/share/snmp/mibs/LVS-MIB.txt", "/lib/systemd/system/lvs-agentx.service",
		"/etc/default/lvs-agentx", "/usr/lib/sysusers.d/lvs-agentx.conf"} {
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
	// The sysusers.d file is what systemd-sysusers accepts.
	if out, err := exec.Command("systemd-sysusers", "--dry-run", filepath.Join(x, "usr/lib/sysusers.d/lvs-agentx.conf")).CombinedOutput(); err != nil {
		t.Errorf("systemd-sysusers --dry-run: %v\n%s", err, out)
	}
}

// lintianClean runs Debian's lintian on deb: nothing at the error or
// warning level, and the statically linked Go binary overridden with its
// reason (the override used, none unused).
func lintianClean(t *testing.T, deb string) {
	t.Helper()
	out, err := exec.Command("lintian", "--fail-on", "error,warning", "--pedantic", "--display-info", "--tag-display-limit", "0", deb).CombinedOutput()
	if err != nil {
		t.Errorf("lintian %s: %v\n%s", deb, err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "E: ") || strings.HasPrefix(l, "W: ") || strings.Contains(l, "unused-override") || strings.Contains(l, "mismatched-override") {
			t.Errorf("lintian: %s", l)
		}
	}
	// With --show-overrides lintian fails on the overridden tags it
	// shows; only the output counts here.
	shown, _ := exec.Command("lintian", "--show-overrides", deb).CombinedOutput()
	if !strings.Contains(string(shown), "O: lvs-agentx: statically-linked-binary [usr/sbin/lvs-agentx]") {
		t.Errorf("lintian did not apply the statically-linked-binary override:\n%s", shown)
	}
	out = append(out, shown...)
	t.Logf("lintian %s:\n%s", filepath.Base(deb), out)
}

// repoDir is the repository's top directory.
func repoDir(t *testing.T) string {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// buildPackage runs make FORMAT into dir, with version (empty: the one
// make computes), and returns the one package it made.
func buildPackage(t *testing.T, repo, dir, version, format string) string {
	t.Helper()
	args := []string{"--no-print-directory", format, "BUILDDIR=" + dir}
	if version != "" {
		args = append(args, "VERSION="+version)
	}
	sh(t, repo, "make", args...)
	got, _ := filepath.Glob(filepath.Join(dir, "*."+format))
	if len(got) != 1 {
		t.Fatalf("make %s made %v, want one package in %s", format, got, dir)
	}
	return got[0]
}

func merge(ms ...map[string]string) map[string]string {
	r := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			r[k] = v
		}
	}
	return r
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

// sameFiles checks that a package holds exactly the files of want, each as
// described (mode, owner or content, as the caller lists them).
func sameFiles(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for p, w := range want {
		if g, ok := got[p]; !ok {
			t.Errorf("%s lacks %s", what, p)
		} else if g != w {
			t.Errorf("%s: %s is %s, want %s", what, p, g, w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s has an unexpected file %s", what, p)
		}
	}
}
