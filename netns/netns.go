package netns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Namespace is a network namespace found at Path, served as Name.
type Namespace struct {
	Name string
	Path string
	// ID tells namespaces apart: the namespace file's inode number, which
	// the kernel gives each namespace for its life. A name whose ID
	// changed is a new namespace under an old name.
	ID uint64
}

// Spec names a namespace to serve: Name, or the path's last element when
// Name is empty.
type Spec struct {
	Name string
	Path string
}

// ParseSpec parses [NAME=]PATH.
func ParseSpec(s string) (Spec, error) {
	name, path, named := strings.Cut(s, "=")
	if !named {
		name, path = "", s
	}
	if path == "" || (named && name == "") {
		return Spec{}, fmt.Errorf("%q: want PATH or NAME=PATH", s)
	}
	if name == "" {
		name = filepath.Base(path)
	}
	return Spec{Name: name, Path: path}, nil
}

// Check returns the namespace at path, or an error saying why it is not
// one.
func Check(name, path string) (Namespace, error) {
	f, err := os.Open(path)
	if err != nil {
		return Namespace{}, err
	}
	defer f.Close()
	// NS_GET_NSTYPE answers only for namespace files (ENOTTY otherwise,
	// e.g. for the empty file `ip netns add` mounts the namespace on).
	typ, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
	if err != nil || typ != unix.CLONE_NEWNET {
		return Namespace{}, fmt.Errorf("%s: not a network namespace (want a path such as /run/netns/NAME or /proc/PID/ns/net)", path)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return Namespace{}, fmt.Errorf("%s: %w", path, err)
	}
	return Namespace{Name: name, Path: path, ID: st.Ino}, nil
}

// DefaultInterval is how often a Watcher looks again: a namespace
// created is served within a few seconds, for a few system calls per
// namespace per look.
const DefaultInterval = 2 * time.Second

// Watcher follows a set of namespaces.
type Watcher struct {
	// Specs are namespaces named one by one; each is served while its
	// path is a network namespace.
	Specs []Spec
	// Dir, if set, is a directory whose every network namespace file is
	// served, named after the file.
	Dir string
	// Interval between looks; DefaultInterval when zero.
	Interval time.Duration
	// Logger receives a line when a namespace cannot be used; nil
	// discards.
	Logger *slog.Logger
}

// Scan returns the namespaces there are now, sorted by name. A name given
// twice (a Spec and a file in Dir, say) is served once, as the Spec says.
func (w *Watcher) Scan() ([]Namespace, error) {
	seen := make(map[string]bool)
	var found []Namespace
	for _, s := range w.Specs {
		seen[s.Name] = true
		if ns, err := Check(s.Name, s.Path); err == nil {
			found = append(found, ns)
		}
	}
	if w.Dir != "" {
		entries, err := os.ReadDir(w.Dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read namespace directory: %w", err)
		}
		for _, e := range entries {
			if seen[e.Name()] || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if ns, err := Check(e.Name(), filepath.Join(w.Dir, e.Name())); err == nil {
				found = append(found, ns)
			}
		}
	}
	slices.SortFunc(found, func(a, b Namespace) int { return strings.Compare(a.Name, b.Name) })
	return found, nil
}

// Run looks every Interval until ctx ends and calls changed with the
// namespaces that appeared and those that went away since the last look
// (the first look finds every namespace there is). A re-created namespace
// is in both: removed under its old ID, added under the new one. changed
// runs on Run's goroutine, one call at a time.
func (w *Watcher) Run(ctx context.Context, changed func(added, removed []Namespace)) {
	interval := w.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	log := w.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cur := map[string]Namespace{}
	failing := false
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		found, err := w.Scan()
		switch {
		case err != nil && !failing:
			log.Warn("cannot look for network namespaces; keeping those found so far", "dir", w.Dir, "err", err)
			failing = true
		case err == nil:
			if failing {
				log.Info("network namespaces readable again", "dir", w.Dir)
			}
			failing = false
			if added, removed := diff(cur, found); len(added) > 0 || len(removed) > 0 {
				changed(added, removed)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// diff updates cur to found and returns what changed.
func diff(cur map[string]Namespace, found []Namespace) (added, removed []Namespace) {
	now := make(map[string]bool, len(found))
	for _, ns := range found {
		now[ns.Name] = true
		old, ok := cur[ns.Name]
		if ok && old.ID == ns.ID && old.Path == ns.Path {
			continue
		}
		if ok {
			removed = append(removed, old)
		}
		added = append(added, ns)
		cur[ns.Name] = ns
	}
	for name, ns := range cur {
		if !now[name] {
			removed = append(removed, ns)
			delete(cur, name)
		}
	}
	slices.SortFunc(removed, func(a, b Namespace) int { return strings.Compare(a.Name, b.Name) })
	return added, removed
}

// CapabilityHint explains an error entering a namespace: setns(2) into a
// network namespace needs CAP_SYS_ADMIN, which the agent's single-namespace
// mode does not. "" when err is not a permission error.
func CapabilityHint(err error) string {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return "entering another network namespace needs CAP_SYS_ADMIN as well as CAP_NET_ADMIN " +
			"(systemd: AmbientCapabilities and CapabilityBoundingSet)"
	}
	return ""
}
