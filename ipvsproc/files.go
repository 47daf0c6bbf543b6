package ipvsproc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"golang.org/x/sys/unix"
)

// Files are one namespace's IPVS files in /proc, opened in that namespace:
// reading them later reads that namespace, whichever namespace the
// reading thread is in. Reopen them when IPVS was not loaded at Open (the
// files did not exist). Files is safe for concurrent use.
type Files struct {
	mu       sync.Mutex // the totals, the settings and buf
	connMu   sync.Mutex // the connection table and its counter: reading a large one takes long
	stats    *os.File
	conns    *os.File
	settings []*os.File // sorted by name
	counter  ConnCounter
	buf      []byte
}

// The files' names in a net directory (/proc/thread-self/net), and the
// settings' directory below /proc.
const (
	statsPath    = "ip_vs_stats"
	connsPath    = "ip_vs_conn_sync"
	settingsPath = "sys/net/ipv4/vs"
)

// Where the calling thread's namespace shows them: /proc/net follows the
// process's first thread, thread-self the caller's; /proc/sys/net shows
// the namespace of the thread that opens a file, for as long as it is
// open.
const (
	liveNet      = "/proc/thread-self/net"
	liveSettings = "/proc/" + settingsPath
)

// ErrNoIPVS is the error of Open where IPVS is not loaded in the
// namespace (its files do not exist).
var ErrNoIPVS = errors.New("no IPVS files in /proc")

// Open opens the files of the network namespace at netns ("" for the
// caller's). Entering another namespace needs CAP_SYS_ADMIN.
func Open(netns string) (*Files, error) {
	if netns == "" {
		return open(liveNet, liveSettings)
	}
	var files *Files
	var err error
	done := make(chan struct{})
	// setns changes only the calling thread: do it on a thread of our
	// own, which is thrown away if it cannot return to its namespace.
	go func() {
		defer close(done)
		runtime.LockOSThread()
		files, err = openIn(netns)
		if !errors.Is(err, errStranded) {
			runtime.UnlockOSThread()
		}
	}()
	<-done
	return files, err
}

var errStranded = errors.New("could not return to the agent's network namespace")

// openIn opens the files with the locked thread in the namespace at netns.
func openIn(netns string) (*Files, error) {
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, fmt.Errorf("open own network namespace: %w", err)
	}
	defer self.Close()
	target, err := os.Open(netns)
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", netns, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("enter network namespace %s: %w", netns, err)
	}
	files, ferr := open(liveNet, liveSettings)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		if files != nil {
			files.Close()
		}
		return nil, fmt.Errorf("%w: %w", errStranded, err)
	}
	return files, ferr
}

// OpenRoot opens the files of a tree laid out as /proc: root/net/ip_vs_stats,
// root/net/ip_vs_conn_sync and root/sys/net/ipv4/vs.
func OpenRoot(root string) (*Files, error) {
	return open(filepath.Join(root, "net"), filepath.Join(root, settingsPath))
}

// open opens the files in the net directory netDir and the settings in
// settingsDir.
func open(netDir, settingsDir string) (*Files, error) {
	f := &Files{}
	var err error
	if f.stats, err = os.Open(filepath.Join(netDir, statsPath)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = ErrNoIPVS
		}
		return nil, fmt.Errorf("open %s: %w", statsPath, err)
	}
	if f.conns, err = os.Open(filepath.Join(netDir, connsPath)); err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", connsPath, err)
	}
	names, err := os.ReadDir(settingsDir)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("list %s: %w", settingsPath, err)
	}
	for _, e := range names { // sorted by name
		s, err := os.Open(filepath.Join(settingsDir, e.Name()))
		if err != nil {
			continue // a setting this process may not read
		}
		f.settings = append(f.settings, s)
	}
	return f, nil
}

// Close closes the files.
func (f *Files) Close() error {
	for _, c := range append([]*os.File{f.stats, f.conns}, f.settings...) {
		if c != nil {
			c.Close()
		}
	}
	return nil
}

// readAll reads file from its start into the reused buffer.
func (f *Files) readAll(file *os.File) ([]byte, error) {
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	f.buf = f.buf[:0]
	for {
		if len(f.buf) == cap(f.buf) {
			f.buf = slices.Grow(f.buf, 512)
		}
		n, err := file.Read(f.buf[len(f.buf):cap(f.buf)])
		f.buf = f.buf[:len(f.buf)+n]
		if err == io.EOF || (err == nil && n == 0) {
			return f.buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Totals reads the namespace's totals.
func (f *Files) Totals() (Totals, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.readAll(f.stats)
	if err != nil {
		return Totals{}, fmt.Errorf("read %s: %w", statsPath, err)
	}
	return ParseTotals(b)
}

// Conns counts the namespace's connection table. It reads the whole
// table, which costs the kernel more than O(entries): it writes the text
// a page per read, and for each page walks its hash table from the start
// to the entry where the page begins, so the cost grows with the square
// of the entries (Totals and Settings do not wait for it).
func (f *Files) Conns() (ConnCounts, error) {
	f.connMu.Lock()
	defer f.connMu.Unlock()
	if _, err := f.conns.Seek(0, io.SeekStart); err != nil {
		return ConnCounts{}, fmt.Errorf("read %s: %w", connsPath, err)
	}
	return f.counter.Count(f.conns)
}

// Settings reads every setting, sorted by name.
func (f *Files) Settings() ([]Setting, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Setting, 0, len(f.settings))
	for _, s := range f.settings {
		b, err := f.readAll(s)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", s.Name(), err)
		}
		out = append(out, ParseSetting(filepath.Base(s.Name()), b))
	}
	return out, nil
}
