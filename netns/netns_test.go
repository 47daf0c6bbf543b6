package netns

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    Spec
		wantErr bool
	}{
		{in: "/run/netns/lb", want: Spec{Name: "lb", Path: "/run/netns/lb"}},
		{in: "web=/proc/42/ns/net", want: Spec{Name: "web", Path: "/proc/42/ns/net"}},
		{in: "", wantErr: true},
		{in: "=/run/netns/x", wantErr: true},
		{in: "x=", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseSpec(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func names(nss []Namespace) string {
	s := make([]string, len(nss))
	for i, ns := range nss {
		s[i] = fmt.Sprintf("%s#%d", ns.Name, ns.ID)
	}
	return strings.Join(s, " ")
}

func TestDiff(t *testing.T) {
	cur := map[string]Namespace{}
	steps := []struct {
		found          []Namespace
		added, removed string
	}{
		{[]Namespace{{Name: "a", ID: 1}, {Name: "b", ID: 2}}, "a#1 b#2", ""},
		{[]Namespace{{Name: "a", ID: 1}, {Name: "b", ID: 2}}, "", ""},
		{[]Namespace{{Name: "a", ID: 1}}, "", "b#2"},
		{[]Namespace{{Name: "a", ID: 3}, {Name: "c", ID: 4}}, "a#3 c#4", "a#1"},
		{nil, "", "a#3 c#4"},
	}
	for i, s := range steps {
		added, removed := diff(cur, s.found)
		if names(added) != s.added || names(removed) != s.removed {
			t.Errorf("step %d: added %q removed %q, want %q and %q", i, names(added), names(removed), s.added, s.removed)
		}
	}
}

// newNamespace creates a network namespace kept alive by a bind mount at
// path, as `ip netns add` does under /run/netns.
func newNamespace(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unshare", "--net="+path, "true").CombinedOutput(); err != nil {
		t.Fatalf("unshare --net=%s (needs root): %v\n%s", path, err, out)
	}
	t.Cleanup(func() { delNamespace(path) })
}

func delNamespace(path string) {
	_ = exec.Command("umount", path).Run()
	_ = os.Remove(path)
}

// TestWatcherRealNamespaces follows real namespaces made the way `ip netns`
// makes them: found in the directory and by spec, gone when deleted,
// re-created under an old name, files that are not namespaces ignored.
func TestWatcherRealNamespaces(t *testing.T) {
	testutil.NeedTool(t, "unshare", "apt-get install -y util-linux")
	if os.Geteuid() != 0 {
		t.Fatal("creating network namespaces needs root: run the tests as root")
	}
	dir := t.TempDir()
	other := t.TempDir()
	newNamespace(t, filepath.Join(dir, "a"))
	newNamespace(t, filepath.Join(dir, "b"))
	newNamespace(t, filepath.Join(other, "c"))
	if err := os.WriteFile(filepath.Join(dir, "not-a-namespace"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &Watcher{Dir: dir, Specs: []Spec{{Name: "c", Path: filepath.Join(other, "c")}, {Name: "gone", Path: filepath.Join(other, "none")}},
		Interval: 10 * time.Millisecond}

	type change struct{ added, removed []Namespace }
	changes := make(chan change, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, func(added, removed []Namespace) { changes <- change{added, removed} })
	}()
	defer func() { cancel(); <-done }()
	next := func(what string) change {
		t.Helper()
		select {
		case c := <-changes:
			return c
		case <-time.After(5 * time.Second):
			t.Fatalf("no change seen: %s", what)
		}
		return change{}
	}
	nameList := func(nss []Namespace) string {
		s := make([]string, len(nss))
		for i, ns := range nss {
			s[i] = ns.Name
		}
		return strings.Join(s, " ")
	}

	first := next("the first look")
	if got := nameList(first.added); got != "a b c" || len(first.removed) != 0 {
		t.Fatalf("first look: added %q removed %v, want a b c", got, first.removed)
	}
	idA := first.added[0].ID

	delNamespace(filepath.Join(dir, "b"))
	if c := next("b deleted"); nameList(c.removed) != "b" || len(c.added) != 0 {
		t.Fatalf("after deleting b: %+v", c)
	}

	delNamespace(filepath.Join(dir, "a"))
	newNamespace(t, filepath.Join(dir, "a"))
	c := next("a re-created")
	for len(c.added) == 0 { // the deletion and the creation may be seen apart
		if nameList(c.removed) != "a" {
			t.Fatalf("while re-creating a: %+v", c)
		}
		c = next("a re-created")
	}
	if nameList(c.added) != "a" || c.added[0].ID == idA {
		t.Fatalf("re-created a: %+v, want a with a new ID (old %d)", c, idA)
	}
}
