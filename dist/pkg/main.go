// Command pkg builds lvs-agentx's Debian and RPM packages from the one
// description in dist/nfpm.yaml with nfpm, used as a library. It is a
// module of its own so that nfpm's requirements stay out of the agent's
// go.mod. make deb and make rpm run it:
//
//	go -C dist/pkg run . -repo REPO -version V -bin BINARY -out DIR deb rpm
//
// Besides running nfpm it generates what the description names under
// ${STAGE}: the man page compressed, CHANGELOG.md compressed, a Debian
// changelog and the RPM %changelog from CHANGELOG.md. It refuses to build
// when CHANGELOG.md's newest release is not the version's release.
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/goreleaser/chglog"
	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb"
	_ "github.com/goreleaser/nfpm/v2/rpm"
	"go.yaml.in/yaml/v3"
)

func main() {
	repo := flag.String("repo", "../..", "the repository's top directory")
	version := flag.String("version", "", "the package version (dist/version.sh)")
	arch := flag.String("arch", runtime.GOARCH, "the architecture, as Go names it")
	bin := flag.String("bin", "", "the lvs-agentx binary to package")
	out := flag.String("out", "bin", "where the packages go")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: pkg -version V -bin BINARY [-repo DIR] [-out DIR] [-arch ARCH] deb|rpm ...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *version == "" || *bin == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	for _, format := range flag.Args() {
		file, err := build(format, *repo, *version, *arch, *bin, *out)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pkg %s: %v\n", format, err)
			os.Exit(1)
		}
		fmt.Println(file)
	}
}

// build makes one package and returns its path.
func build(format, repo, version, arch, bin, out string) (string, error) {
	var err error
	for _, p := range []*string{&repo, &bin, &out} {
		if *p, err = filepath.Abs(*p); err != nil {
			return "", err
		}
	}
	log, err := readChangelog(filepath.Join(repo, "CHANGELOG.md"))
	if err != nil {
		return "", err
	}
	if err := log.checkRelease(version); err != nil {
		return "", err
	}
	stage := filepath.Join(out, "pkgstage-"+format)
	if err := os.RemoveAll(stage); err != nil {
		return "", err
	}
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return "", err
	}
	info, err := describe(repo, format, map[string]string{"VERSION": version, "ARCH": arch, "BIN": bin, "STAGE": stage})
	if err != nil {
		return "", err
	}
	if err := stageFiles(repo, stage, format, version, log, info); err != nil {
		return "", err
	}
	path, err := write(repo, out, format, info)
	if err != nil {
		return "", err
	}
	return path, os.RemoveAll(stage)
}

// checkRelease refuses a version whose release has no entry in the
// changelog yet.
func (log *changelog) checkRelease(version string) error {
	base, _, _ := strings.Cut(version, "+")
	if len(log.Releases) > 0 && log.Releases[0].Version == base {
		return nil
	}
	newest := "none"
	if len(log.Releases) > 0 {
		newest = log.Releases[0].Version
	}
	return fmt.Errorf("CHANGELOG.md's newest release is %s, the version %s is of %s: add its entry (README.md, Releasing)", newest, version, base)
}

// describe reads dist/nfpm.yaml for format with its variables set.
func describe(repo, format string, vars map[string]string) (*nfpm.Info, error) {
	var unknown error
	cfg, err := nfpm.ParseFileWithEnvMapping(filepath.Join(repo, "dist", "nfpm.yaml"), func(k string) string {
		v, ok := vars[k]
		if !ok && !strings.HasPrefix(k, "NFPM_") { // nfpm asks for its signing passphrases itself
			unknown = errors.Join(unknown, fmt.Errorf("dist/nfpm.yaml: unknown variable ${%s}", k))
		}
		return v
	})
	if err = errors.Join(err, unknown); err != nil {
		return nil, err
	}
	info, err := cfg.Get(format)
	if err != nil {
		return nil, err
	}
	info = nfpm.WithDefaults(info)
	if format == "deb" {
		// A native Debian package: no revision. The release is the RPM's.
		info.Release = ""
	}
	return info, nil
}

// stageFiles writes what the description takes from ${STAGE}: the man page
// and CHANGELOG.md compressed, and the changelogs in the format's own form.
func stageFiles(repo, stage, format, version string, log *changelog, info *nfpm.Info) error {
	man, err := os.ReadFile(filepath.Join(repo, "dist", "lvs-agentx.8"))
	if err != nil {
		return err
	}
	md, err := os.ReadFile(filepath.Join(repo, "CHANGELOG.md"))
	if err != nil {
		return err
	}
	entries := log.entries(version)
	files := map[string][]byte{
		"lvs-agentx.8.gz": gz(man),
		"CHANGELOG.md.gz": gz(md),
		"changelog.gz":    gz([]byte(debianChangelog(info.Name, info.Maintainer, entries))),
	}
	if format == "rpm" {
		y, err := rpmChangelog(info.Maintainer, info.Release, entries)
		if err != nil {
			return err
		}
		files["changelog.rpm.yml"] = y
		info.Changelog = filepath.Join(stage, "changelog.rpm.yml")
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(stage, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// write packages info into out and returns the package's path.
func write(repo, out, format string, info *nfpm.Info) (string, error) {
	// nfpm reads the description's relative paths from the working
	// directory.
	if err := os.Chdir(repo); err != nil {
		return "", err
	}
	if err := nfpm.Validate(info); err != nil {
		return "", err
	}
	packager, err := nfpm.Get(format)
	if err != nil {
		return "", err
	}
	path := filepath.Join(out, packager.ConventionalFileName(info))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := packager.Package(info, f); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	return path, f.Close()
}

// gz compresses data as gzip -9n does: best compression, no name or time.
func gz(data []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// changelog is CHANGELOG.md in Keep a Changelog form.
type changelog struct {
	Unreleased []item
	Releases   []release // newest first
}

type release struct {
	Version string
	Date    time.Time
	Items   []item
}

// item is one bullet of a section (Added, Changed, ...), its lines joined.
type item struct {
	Section, Text string
}

var (
	releaseHeading = regexp.MustCompile(`^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$`)
	versionRE      = regexp.MustCompile(`^\d+\.\d+\.\d+(\+git(\d{8})\.\d+\.[0-9a-f]+(\.dirty)?)?$`)
)

// readChangelog parses the Unreleased section and the releases.
func readChangelog(path string) (*changelog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var log changelog
	var items *[]item
	section := ""
	for n, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "## [Unreleased]":
			items = &log.Unreleased
		case strings.HasPrefix(line, "## "):
			m := releaseHeading.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("%s:%d: want a heading \"## [X.Y.Z] - YYYY-MM-DD\": %q", path, n+1, line)
			}
			date, err := time.Parse(time.DateOnly, m[2])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, n+1, err)
			}
			log.Releases = append(log.Releases, release{Version: m[1], Date: date})
			items = &log.Releases[len(log.Releases)-1].Items
		case strings.HasPrefix(line, "### "):
			section = strings.TrimPrefix(line, "### ")
		case items == nil || strings.HasPrefix(line, "["):
		case strings.HasPrefix(line, "- "):
			*items = append(*items, item{section, strings.TrimPrefix(line, "- ")})
		case strings.HasPrefix(line, "  ") && len(*items) > 0:
			(*items)[len(*items)-1].Text += " " + strings.TrimSpace(line)
		}
	}
	return &log, nil
}

// entry is one entry of the package changelogs.
type entry struct {
	Version, Distribution string
	Date                  time.Time
	Notes                 []string
}

// entries are the package changelog's entries for version, newest first:
// every release up to version's, and for a build after the release one
// entry of its own, with what CHANGELOG.md lists as unreleased.
func (log *changelog) entries(version string) []entry {
	var es []entry
	if m := versionRE.FindStringSubmatch(version); m != nil && m[1] != "" {
		date, _ := time.Parse("20060102", m[2])
		notes := []string{fmt.Sprintf("Development build %s of commits after %s; CHANGELOG.md lists their changes under Unreleased.", version, log.Releases[0].Version)}
		for _, it := range log.Unreleased {
			notes = append(notes, it.Section+": "+it.Text)
		}
		es = append(es, entry{version, "UNRELEASED", date, notes})
	}
	for _, r := range log.Releases {
		e := entry{Version: r.Version, Distribution: "unstable", Date: r.Date}
		for _, it := range r.Items {
			e.Notes = append(e.Notes, it.Section+": "+it.Text)
		}
		es = append(es, e)
	}
	return es
}

// debianChangelog renders entries in the format of deb-changelog(5).
func debianChangelog(name, maintainer string, entries []entry) string {
	var b strings.Builder
	for i, e := range entries {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s (%s) %s; urgency=medium\n\n", name, e.Version, e.Distribution)
		for _, n := range e.Notes {
			b.WriteString(wrap(plain(n), "  * ", "    ", 78))
		}
		fmt.Fprintf(&b, "\n -- %s  %s\n", maintainer, e.Date.UTC().Format(time.RFC1123Z))
	}
	return b.String()
}

// rpmChangelog renders entries as nfpm's changelog file (goreleaser's
// chglog), which nfpm turns into the RPM's %changelog. rpmlint wants the
// newest entry to name the package's version-release.
func rpmChangelog(maintainer, rpmRelease string, entries []entry) ([]byte, error) {
	var log chglog.ChangeLogEntries
	for _, e := range entries {
		c := &chglog.ChangeLog{Semver: e.Version + "-" + rpmRelease, Date: e.Date, Packager: maintainer}
		for _, n := range e.Notes {
			c.Changes = append(c.Changes, &chglog.ChangeLogChange{Note: plain(n)})
		}
		log = append(log, c)
	}
	return yaml.Marshal(log)
}

// plain drops Markdown's code quotes.
func plain(s string) string { return strings.ReplaceAll(s, "`", "") }

// wrap fills s into lines of at most width, the first prefixed with first
// and the rest with rest.
func wrap(s, first, rest string, width int) string {
	var b strings.Builder
	line := first
	for _, w := range strings.Fields(s) {
		if len(line) > len(rest) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = rest
		}
		if line != first && line != rest {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
	return b.String()
}
