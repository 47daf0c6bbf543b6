// Package packaging tests the Debian package and make install on the host:
// they need no kernel with IPVS.
package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPackage builds the Debian package and a "make install" tree on the
// host, each into its own directories, and checks they hold the same files
// where it matters (binary, MIBs, unit, conffile, man page), that the
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
