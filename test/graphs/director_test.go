package graphs

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// director is a scenario booted in the background, usually linked to a
// poller's namespace (Scenario.Peer), that the test drives through files
// in its $CTL directory while a poller on the host collects from it.
type director struct {
	t       *testing.T
	ctl     string
	done    chan directorResult
	release []string // files the script waits for: created on failure so it ends
}

type directorResult struct {
	r   *testbed.Result
	err error
}

// bootDirector boots s in a fresh work directory without waiting for it.
// release names the files the script waits for with waithost, which a
// failing test creates so that the guest ends at once.
func bootDirector(t *testing.T, s testbed.Scenario, release ...string) *director {
	t.Helper()
	dir, err := testbed.NewWorkDir(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	testbed.KeepOrRemove(t, dir)
	d := &director{t: t, ctl: filepath.Join(dir, testbed.CtlDir), done: make(chan directorResult, 1), release: release}
	go func() {
		r, err := testbed.Boot(context.Background(), dir, s)
		d.done <- directorResult{r, err}
	}()
	return d
}

// touch creates $CTL/name, the signal the script's waithost name waits for.
func (d *director) touch(name string) { _ = os.WriteFile(filepath.Join(d.ctl, name), nil, 0o644) }

// exists reports whether the script has created $CTL/name.
func (d *director) exists(name string) bool {
	_, err := os.Stat(filepath.Join(d.ctl, name))
	return err == nil
}

// read returns $CTL/name, which the script wrote; a missing file fails
// the test.
func (d *director) read(name string) []byte {
	d.t.Helper()
	b, err := os.ReadFile(filepath.Join(d.ctl, name))
	if err != nil {
		d.fail("guest file " + name + ": " + err.Error())
	}
	return b
}

// fail ends the test with msg and what the guest printed, after letting
// its script run to its end.
func (d *director) fail(msg string) {
	d.t.Helper()
	for _, f := range d.release {
		d.touch(f)
	}
	res := <-d.done
	desc := ""
	if res.r != nil {
		desc = res.r.Describe()
	}
	d.t.Fatalf("%s (guest: %v)\n%s", msg, res.err, desc)
}

// wait waits at most limit for the script to create $CTL/name; a guest
// that ends first or a timeout fails the test.
func (d *director) wait(name string, limit time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if d.exists(name) {
			return
		}
		select {
		case res := <-d.done:
			d.done <- res
			d.fail("guest ended early")
		case <-time.After(200 * time.Millisecond):
		}
	}
	d.fail("timed out waiting for guest file " + name)
}

// finish waits for the guest and returns its result; one that failed
// fails the test.
func (d *director) finish() *testbed.Result {
	d.t.Helper()
	res := <-d.done
	if res.err != nil || res.r.ExitCode != 0 {
		desc := ""
		if res.r != nil {
			desc = res.r.Describe()
		}
		d.t.Fatalf("guest: %v\n%s", res.err, desc)
	}
	return res.r
}
