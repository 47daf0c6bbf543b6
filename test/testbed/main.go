package testbed

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// Main is TestMain for a package of scenario tests. Where the scenarios
// run natively it runs the tests. Where they need a guest, it boots one
// for the whole package: the guest runs this same test binary, with the
// same flags, in the native backend, so every scenario gets a network
// namespace of its own in one guest kernel, as it would on a director; the
// output streams back as the tests run, and the guest's exit status is the
// package's.
//
// Each hostSetup runs on the host just before a guest boots (never inside
// one, never natively): for work that needs no IPVS and is slow in an
// emulated guest. It passes what it made to the tests through environment
// variables (os.Setenv), which the guest inherits, and returns a function
// that cleans up after the guest.
func Main(m *testing.M, hostSetup ...func() (cleanup func(), err error)) {
	backend, err := Choose(Scenario{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbed:", err)
		os.Exit(1)
	}
	if backend == Native {
		if os.Getenv(envGuest) == "" {
			fmt.Fprintln(os.Stderr, "testbed: backend native (this kernel has IPVS; each scenario in its own network namespace)")
		}
		os.Exit(m.Run())
	}
	fmt.Fprintf(os.Stderr, "testbed: backend %s (this kernel has no IPVS): the tests run in one guest, each scenario in its own network namespace\n", backend)
	flag.Parse() // the testing flags, for -test.timeout and the setups
	var cleanups []func()
	for _, setup := range hostSetup {
		cleanup, err := setup()
		if err != nil {
			fmt.Fprintln(os.Stderr, "testbed: host setup:", err)
			os.Exit(1)
		}
		cleanups = append(cleanups, cleanup)
	}
	code, err := runPackageInGuest(backend)
	for _, c := range cleanups {
		c()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbed:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// runPackageInGuest boots a guest that runs this test binary and returns
// its exit status.
func runPackageInGuest(backend string) (int, error) {
	name := filepath.Base(os.Args[0])
	dir, err := NewWorkDir("pkg-" + strings.TrimSuffix(name, ".test"))
	if err != nil {
		return 0, err
	}
	if os.Getenv(EnvKeep) == "" {
		defer os.RemoveAll(dir)
	}
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	// The binary lives under /tmp, which the guest replaces.
	bin := filepath.Join(dir, name)
	if err := copyFile(self, bin, 0o755); err != nil {
		return 0, fmt.Errorf("copy the test binary: %w", err)
	}
	pre := filepath.Join(dir, "prebuilt")
	if err := prebuildPrograms(pre); err != nil {
		return 0, err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	timeout := 60 * time.Minute
	if f := flag.Lookup("test.timeout"); f != nil {
		if d, err := time.ParseDuration(f.Value.String()); err == nil && d > 0 {
			timeout = d
		}
	}
	var args []string
	for _, a := range os.Args[1:] {
		// Files go test keeps under /tmp cannot be reached from the guest.
		if strings.HasPrefix(a, "-test.testlogfile=") || strings.HasPrefix(a, "-test.gocoverdir=") {
			continue
		}
		args = append(args, shellQuote(a))
	}
	outPath := filepath.Join(dir, "test.out")
	if err := os.WriteFile(outPath, nil, 0o644); err != nil {
		return 0, err
	}
	job := func(k *kernel) string {
		var b strings.Builder
		b.WriteString(guestSetup(k, dir))
		// Scenario work directories on a tmpfs: 9p holds no unix sockets.
		fmt.Fprintf(&b, `mkdir -p /run/hostout && mount --bind "$OUT" /run/hostout || fail "bind the output dir"
OUT=/run/hostout
mkdir -p %[1]s && mount -t tmpfs tmpfs %[1]s || fail "tmpfs on the work root"
mkdir -p /tmp/home
`, shellQuote(WorkRoot))
		b.WriteString(guestEnv())
		fmt.Fprintf(&b, `export %s=1 %s=/run/hostout/prebuilt HOME=/tmp/home
cd %s || fail "cd to the package"
/run/hostout/%s %s > /run/hostout/test.out 2>&1 < /dev/null
echo $? > /run/hostout/rc
sync
poweroff -f
`, envGuest, envPrebuilt, shellQuote(cwd), shellQuote(name), strings.Join(args, " "))
		return b.String()
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout+2*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	streamed := make(chan struct{})
	go func() { follow(outPath, os.Stdout, stop); close(streamed) }()
	start := time.Now()
	console, err := bootGuest(ctx, backend, dir, 4096, "", job)
	close(stop)
	<-streamed
	fmt.Fprintf(os.Stderr, "testbed: %s guest ran %.0fs\n", backend, time.Since(start).Seconds())
	rc := strings.TrimSpace(readOptional(filepath.Join(dir, "rc")))
	if err == nil && rc == "" {
		err = fmt.Errorf("the guest ended without the tests having run to the end")
		if s := readOptional(filepath.Join(dir, "setup.err")); s != "" {
			err = fmt.Errorf("guest setup failed: %s", s)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("%w\n--- guest console (tail) ---\n%s", err, testutil.Tail(console, 80))
	}
	var code int
	if _, err := fmt.Sscan(rc, &code); err != nil {
		return 0, fmt.Errorf("bad exit status %q from the guest", rc)
	}
	return code, nil
}

// guestEnv exports this process's environment in the guest, but for what
// only makes sense on the host.
func guestEnv() string {
	var lines []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case EnvBackend, envGuest, envPrebuilt, "HOME", "PWD", "OLDPWD", "TMPDIR", "SHLVL", "_":
			continue
		}
		if k == "" || strings.ContainsAny(k, " -=.") {
			continue
		}
		lines = append(lines, "export "+k+"="+shellQuote(v))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// prebuildPrograms builds every main package of the module into dir,
// named by prebuiltName, so scenarios in the guest need no Go toolchain.
func prebuildPrograms(dir string) error {
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return fmt.Errorf("find the module: %w", err)
	}
	list := exec.Command("go", "list", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./...")
	list.Dir = strings.TrimSpace(string(root))
	out, err := list.CombinedOutput()
	if err != nil {
		return fmt.Errorf("list the module's programs: %v\n%s", err, out)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, pkg := range strings.Fields(string(out)) {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, prebuiltName(pkg)), pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, b)
		}
	}
	return nil
}

// follow copies what is appended to path to w until stop is closed, then
// copies the rest.
func follow(path string, w io.Writer, stop <-chan struct{}) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	for {
		_, _ = io.Copy(w, f)
		select {
		case <-stop:
			_, _ = io.Copy(w, f)
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}
