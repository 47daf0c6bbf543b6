package ipvsproc

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
)

// ConnCounts summarises a connection table.
type ConnCounts struct {
	// Entries counts every entry, persistence templates included, as
	// `ipvsadm -Lnc` lists them.
	Entries uint64
	// Templates counts the persistence templates (client port 0).
	Templates uint64
	// FromSync counts the entries a backup sync daemon created (origin
	// SYNC); 0 where the table does not say.
	FromSync uint64
	// States counts the entries by protocol and state, sorted; only the
	// pairs present have one.
	States []StateCount
}

// StateCount is how many entries of one protocol are in one state.
type StateCount struct {
	Proto string // TCP, UDP, SCTP, or IP for fwmark templates
	State string // as `ipvsadm -Lnc` prints it, such as ESTABLISHED or SYN_RECV
	Count uint64
}

// ConnCounter counts /proc/net/ip_vs_conn_sync (or ip_vs_conn) as it
// streams by: its storage is reused from one count to the next, so a
// table of any size is counted without allocating per entry. It is not
// safe for concurrent use.
type ConnCounter struct {
	buf    []byte
	key    []byte
	counts map[string]*uint64
}

// maxLine bounds a line of the table; the kernel's are under 200 bytes
// (PE data included).
const maxLine = 4096

// The columns the counter reads, found by name in the header.
var (
	colProto   = []byte("Pro")
	colCPort   = []byte("FPrt")
	colState   = []byte("State")
	colOrigin  = []byte("Origin")
	originSync = []byte("SYNC")
	noPort     = []byte("0000")
)

// Count reads the table from r and counts it.
func (c *ConnCounter) Count(r io.Reader) (ConnCounts, error) {
	if c.buf == nil {
		c.buf = make([]byte, 64<<10)
		c.counts = map[string]*uint64{}
	}
	for _, n := range c.counts {
		*n = 0
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(c.buf, maxLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return ConnCounts{}, fmt.Errorf("connection table: %w", err)
		}
		return ConnCounts{}, fmt.Errorf("connection table: %w: no header", ErrFormat)
	}
	proto, cport, state, origin := -1, -1, -1, -1
	for i, name := range bytes.Fields(sc.Bytes()) {
		switch {
		case bytes.Equal(name, colProto):
			proto = i
		case bytes.Equal(name, colCPort):
			cport = i
		case bytes.Equal(name, colState):
			state = i
		case bytes.Equal(name, colOrigin):
			origin = i
		}
	}
	if proto < 0 || cport < 0 || state < 0 {
		return ConnCounts{}, fmt.Errorf("connection table: %w: header %q", ErrFormat, sc.Bytes())
	}
	need := max(proto, cport, state, origin) + 1
	var cc ConnCounts
	var f [16][]byte
	for sc.Scan() {
		n := split(sc.Bytes(), f[:])
		if n < need {
			return ConnCounts{}, fmt.Errorf("connection table: %w: line %q", ErrFormat, sc.Bytes())
		}
		cc.Entries++
		if bytes.Equal(f[cport], noPort) {
			cc.Templates++
		}
		if origin >= 0 && bytes.Equal(f[origin], originSync) {
			cc.FromSync++
		}
		c.key = append(append(append(c.key[:0], f[proto]...), ' '), f[state]...)
		if p := c.counts[string(c.key)]; p != nil {
			*p++
		} else {
			one := uint64(1)
			c.counts[string(c.key)] = &one
		}
	}
	if err := sc.Err(); err != nil {
		return ConnCounts{}, fmt.Errorf("connection table: %w", err)
	}
	for k, n := range c.counts {
		if *n == 0 {
			delete(c.counts, k) // a pair gone from the table
			continue
		}
		p, s, _ := bytes.Cut([]byte(k), []byte{' '})
		cc.States = append(cc.States, StateCount{Proto: string(p), State: string(s), Count: *n})
	}
	slices.SortFunc(cc.States, func(a, b StateCount) int {
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.State, b.State))
	})
	return cc, nil
}

// split stores the space-separated fields of line in f, as many as fit,
// and returns how many it stored.
func split(line []byte, f [][]byte) int {
	n := 0
	for n < len(f) {
		i := 0
		for i < len(line) && line[i] == ' ' {
			i++
		}
		line = line[i:]
		if len(line) == 0 {
			break
		}
		j := bytes.IndexByte(line, ' ')
		if j < 0 {
			j = len(line)
		}
		f[n] = line[:j]
		line = line[j:]
		n++
	}
	return n
}
