package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// versionRE is what dist/version.sh prints.
var versionRE = regexp.MustCompile(`^\d+\.\d+\.\d+(\+git\d{8}\.\d+\.[0-9a-f]{7,}(\.dirty)?)?$`)

// releaseVersion is the VERSION file's release version.
func releaseVersion(t *testing.T, repo string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	v := strings.TrimSpace(string(b))
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		t.Fatalf("VERSION holds %q, want MAJOR.MINOR.PATCH", v)
	}
	return v
}

// nextPatch is the release after v (X.Y.Z+1).
func nextPatch(t *testing.T, v string) string {
	i := strings.LastIndex(v, ".")
	n, err := strconv.Atoi(v[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return v[:i+1] + strconv.Itoa(n+1)
}

// devVersions are two development builds after the release base, of
// today: a changelog entry may not be dated in the future, nor a build
// after a release before it.
func devVersions(base string) (string, string) {
	day := time.Now().UTC().Format("20060102")
	return base + "+git" + day + ".1.0123abc", base + "+git" + day + ".2.4567def"
}

// TestChangelog checks CHANGELOG.md is in Keep a Changelog form and its
// newest release is the VERSION file's.
func TestChangelog(t *testing.T) {
	repo := repoDir(t)
	b, err := os.ReadFile(filepath.Join(repo, "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	if !strings.HasPrefix(md, "# Changelog\n") || !strings.Contains(md, "keepachangelog.com") || !strings.Contains(md, "\n## [Unreleased]\n") {
		t.Errorf("CHANGELOG.md lacks Keep a Changelog's title, reference or Unreleased section")
	}
	heading := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$`)
	releases := heading.FindAllStringSubmatch(md, -1)
	if len(releases) == 0 {
		t.Fatal("CHANGELOG.md has no release")
	}
	if v := releaseVersion(t, repo); releases[0][1] != v {
		t.Errorf("CHANGELOG.md's newest release is %s, VERSION says %s", releases[0][1], v)
	}
	var last time.Time
	for i, r := range releases {
		d, err := time.Parse(time.DateOnly, r[2])
		if err != nil {
			t.Errorf("release %s: %v", r[1], err)
		}
		if i > 0 && d.After(last) {
			t.Errorf("release %s (%s) is dated after the newer one", r[1], r[2])
		}
		last = d
		if !strings.Contains(md, "\n["+r[1]+"]: ") {
			t.Errorf("CHANGELOG.md has no link for [%s]", r[1])
		}
	}
	for _, sec := range regexp.MustCompile(`(?m)^### (.*)$`).FindAllStringSubmatch(md, -1) {
		switch sec[1] {
		case "Added", "Changed", "Deprecated", "Removed", "Fixed", "Security":
		default:
			t.Errorf("CHANGELOG.md: section %q is not one of Keep a Changelog's", sec[1])
		}
	}
}

// TestVersionScript runs dist/version.sh in a scratch repository: the
// release on the commit that changed VERSION, VERSION+gitDATE.N.HASH on
// later commits, .dirty with changed files, the release without git; and
// checks that the versions order as intended in dpkg (rpm's order is
// checked in TestRPM).
func TestVersionScript(t *testing.T) {
	t.Parallel()
	testutil.NeedTool(t, "git", "make deps (TEST_DEBS)")
	testutil.NeedTool(t, "dpkg", "make deps (TEST_DEBS)")
	repo := repoDir(t)
	script, err := os.ReadFile(filepath.Join(repo, "dist/version.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, data string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	run := func() string {
		t.Helper()
		return strings.TrimSpace(sh(t, dir, "sh", filepath.Join(dir, "dist/version.sh")))
	}
	write("dist/version.sh", string(script), 0o755)
	write("VERSION", "1.2.3\n", 0o644)
	// Without git (a tarball): the release.
	if v := run(); v != "1.2.3" {
		t.Errorf("without git: %q, want 1.2.3", v)
	}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org",
			"GIT_AUTHOR_DATE=2099-01-02T23:30:00Z", "GIT_COMMITTER_DATE=2099-01-02T23:30:00Z", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "release 1.2.3")
	if v := run(); v != "1.2.3" {
		t.Errorf("on the release commit: %q, want 1.2.3", v)
	}
	write("README", "x\n", 0o644)
	git("add", "README")
	git("commit", "-q", "-m", "one more")
	h1 := git("rev-parse", "--short=7", "HEAD")
	v1 := run()
	if want := "1.2.3+git20990102.1." + h1; v1 != want {
		t.Errorf("a commit after the release: %q, want %q", v1, want)
	}
	write("README", "y\n", 0o644)
	vd := run()
	if want := "1.2.3+git20990102.1." + h1 + ".dirty"; vd != want {
		t.Errorf("with a changed file: %q, want %q", vd, want)
	}
	git("commit", "-q", "-am", "two more")
	h2 := git("rev-parse", "--short=7", "HEAD")
	v2 := run()
	if want := "1.2.3+git20990102.2." + h2; v2 != want {
		t.Errorf("two commits after the release: %q, want %q", v2, want)
	}
	for _, v := range []string{v1, vd, v2} {
		if !versionRE.MatchString(v) {
			t.Errorf("%q does not match %s", v, versionRE)
		}
	}
	// dpkg's order: release < its development builds in commit order <
	// the next release; a dirty tree after its commit.
	order := []string{"1.2.3", v1, vd, v2, "1.2.4", "1.3.0"}
	for i := 1; i < len(order); i++ {
		if err := exec.Command("dpkg", "--compare-versions", order[i-1], "lt", order[i]).Run(); err != nil {
			t.Errorf("dpkg --compare-versions %s lt %s: false", order[i-1], order[i])
		}
	}
	// A bad VERSION is refused.
	write("VERSION", "v1.2\n", 0o644)
	if out, err := exec.Command("sh", filepath.Join(dir, "dist/version.sh")).CombinedOutput(); err == nil {
		t.Errorf("VERSION v1.2 accepted: %s", out)
	}
}
