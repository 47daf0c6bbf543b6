package ipvsstats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// Options configure a Reader.
type Options struct {
	// NetNS is the path of the network namespace to read, such as
	// /run/netns/NAME or /proc/PID/ns/net; empty means the caller's.
	NetNS string
	// Attempts bounds how often one Read re-reads a table that changed
	// under it; zero means 5.
	Attempts int
}

// Reader reads Snapshots of IPVS over one generic netlink socket, reused
// across reads. Its methods may be called from several goroutines; reads
// are serialised.
type Reader struct {
	attempts int
	dial     dialFunc

	mu     sync.Mutex
	c      *conn // nil after a failed read: the next Read dials again
	closed bool
}

// Open returns a Reader for the namespace in opts. It fails with ErrNetNS
// or another error describing why netlink cannot be used there. An IPVS
// that is not loaded yet is not an error here but of each Read until it is,
// so a long-running reader recovers by itself after "modprobe ip_vs".
func Open(opts Options) (*Reader, error) {
	return open(opts, func() (endpoint, error) { return dialSocket(opts.NetNS) })
}

func open(opts Options, dial dialFunc) (*Reader, error) {
	r := &Reader{attempts: opts.Attempts, dial: dial}
	if r.attempts <= 0 {
		r.attempts = 5
	}
	ep, err := dial()
	if errors.Is(err, ErrNotLoaded) {
		return r, nil // Read dials again
	}
	if err != nil {
		return nil, err
	}
	r.c = newConn(ep)
	return r, nil
}

// Close releases the socket.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.c == nil {
		return nil
	}
	err := r.c.t.close()
	r.c = nil
	return err
}

// Read returns one consistent snapshot of IPVS. When the table changes
// during the read in a way that could have torn the kernel's dumps, it
// reads again, up to Options.Attempts times, and then fails with
// ErrInconsistent rather than return a torn snapshot.
func (r *Reader) Read(ctx context.Context) (*Snapshot, error) {
	start := time.Now()
	var snap *Snapshot
	if err := r.do(ctx, "read IPVS", func() (err error) {
		snap, err = r.readAttempts(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	snap.ReadAt = start
	snap.ReadDuration = time.Since(start)
	return snap, nil
}

// SetDest sets the forwarding method, weight and thresholds of the real
// server d of service svc to d's (IPVS_CMD_SET_DEST, what `ipvsadm -e`
// does). It changes nothing when the service or the real server does not
// exist: the kernel refuses with ESRCH or ENOENT.
func (r *Reader) SetDest(ctx context.Context, svc ServiceKey, d Dest) error {
	what := "set real server " + d.Label() + " of " + svc.Label()
	return r.do(ctx, what, func() error {
		_, err := r.c.exchange(command{cmd: cmdSetDest, svc: &svc, dest: &d}, func([]byte) error { return nil })
		if err == nil {
			return nil
		}
		if errno := syscall.Errno(0); !errors.As(err, &errno) {
			r.drop() // the socket may hold the rest of a reply
		}
		return fmt.Errorf("%s: %w", what, classify(err))
	})
}

// do runs op with the connection, dialling it first when there is none,
// and bounds it by ctx; what names the operation in errors.
func (r *Reader) do(ctx context.Context, what string, op func() error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("%s: reader is closed", what)
	}
	if r.c == nil {
		ep, err := r.dial()
		if err != nil {
			return err
		}
		r.c = newConn(ep)
	}
	c := r.c
	stop := context.AfterFunc(ctx, func() { _ = c.t.setDeadline(time.Unix(1, 0)) })
	if dl, ok := ctx.Deadline(); ok {
		_ = c.t.setDeadline(dl)
	}
	err := op()
	if !stop() && r.c != nil {
		// The cancellation may land after the operation: do not let its
		// deadline poison the next one.
		r.drop()
	} else if r.c != nil {
		_ = c.t.setDeadline(time.Time{})
	}
	return err
}

func (r *Reader) readAttempts(ctx context.Context) (*Snapshot, error) {
	var last error
	for range r.attempts {
		snap, err := r.c.read()
		if err == nil {
			return snap, nil
		}
		if !errors.Is(err, errTorn) {
			// The socket may hold the rest of an abandoned reply.
			r.drop()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("read IPVS: %w", ctx.Err())
			}
			return nil, fmt.Errorf("read IPVS: %w", classify(err))
		}
		last = err
	}
	return nil, fmt.Errorf("read IPVS: %w (%d attempts; last: %w)", ErrInconsistent, r.attempts, last)
}

func (r *Reader) drop() {
	_ = r.c.t.close()
	r.c = nil
}

// conn is the request/reply exchange with the IPVS family over one
// transport.
type conn struct {
	endpoint
	seq uint32
	req []byte // request buffer, reused

	// Sizes of the previous snapshot, to allocate the next one at once.
	nServices, nDests int
}

func newConn(ep endpoint) *conn { return &conn{endpoint: ep} }

// read makes one attempt at a snapshot. It returns an error wrapping
// errTorn when the table changed in a way that may have torn a dump.
func (c *conn) read() (*Snapshot, error) {
	s := &Snapshot{Daemons: []Daemon{}, Services: make([]Service, 0, c.nServices)}
	if err := collect(c, cmdGetInfo, false, decodeInfo, func(i Info) { s.Info = i }); err != nil {
		return nil, fmt.Errorf("get info: %w", err)
	}
	if err := collect(c, cmdGetConfig, false, decodeConfig, func(t Timeouts) { s.Timeouts = t }); err != nil {
		return nil, fmt.Errorf("get config: %w", err)
	}
	if err := collect(c, cmdGetDaemon, true, decodeDaemon, func(d Daemon) { s.Daemons = append(s.Daemons, d) }); err != nil {
		return nil, fmt.Errorf("get daemons: %w", err)
	}
	if err := collect(c, cmdGetService, true, decodeService, func(v Service) { s.Services = append(s.Services, v) }); err != nil {
		return nil, fmt.Errorf("get services: %w", err)
	}
	if k, dup := dupService(s.Services); dup {
		return nil, tornf("service %s listed twice", k.Label())
	}

	// All real servers share one array; each service gets a capped slice
	// of it once the array stops growing.
	all := make([]Dest, 0, c.nDests)
	ends := make([]int, len(s.Services))
	for i := range s.Services {
		svc := &s.Services[i]
		off := len(all)
		parts, err := c.exchange(command{cmd: cmdGetDest, dump: true, svc: &svc.ServiceKey}, func(b []byte) error {
			d, err := decodeDest(b, svc.Family)
			all = append(all, d)
			return err
		})
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH) {
			return nil, tornf("service %s vanished: %w", svc.Label(), err)
		}
		if err != nil {
			return nil, fmt.Errorf("get real servers of %s: %w", svc.Label(), err)
		}
		if d, dup := dupDest(all[off:]); dup {
			return nil, tornf("real server %s of %s listed twice", d.Label(), svc.Label())
		}
		if parts > 1 {
			// The dump spanned several datagrams, so the kernel let go of
			// its lock between them: check it against a second one.
			if err := c.checkDests(&svc.ServiceKey, all[off:]); err != nil {
				return nil, err
			}
		}
		ends[i] = len(all)
	}
	off := 0
	for i := range s.Services {
		s.Services[i].Dests = all[off:ends[i]:ends[i]]
		off = ends[i]
	}

	// A service that vanished before its real servers were dumped yields
	// an empty dump, not an error, and a dump that spanned datagrams can
	// skip a service: the list must be the same at the end of the read.
	if err := c.checkServices(s.Services); err != nil {
		return nil, err
	}
	c.nServices, c.nDests = len(s.Services), len(all)
	return s, nil
}

// collect runs cmd (a dump when dump is set) and hands each reply, decoded
// with decode, to keep.
func collect[T any](c *conn, cmd uint8, dump bool, decode func([]byte) (T, error), keep func(T)) error {
	_, err := c.exchange(command{cmd: cmd, dump: dump}, func(b []byte) error {
		v, err := decode(b)
		if err == nil {
			keep(v)
		}
		return err
	})
	return err
}

// exchange sends one request and passes the attributes of every reply to
// fn. It returns how many datagrams carried replies: a dump in one
// datagram was built in one go under the kernel's lock.
func (c *conn) exchange(q command, fn func(attrs []byte) error) (int, error) {
	dump := q.dump
	c.seq++
	c.req = appendRequest(c.req[:0], c.family, c.seq, c.pid, q)
	if err := c.t.send(c.req); err != nil {
		return 0, err
	}
	var parts int
	var fnErr error
	var intr bool
	for {
		b, err := c.t.recv()
		if err != nil {
			return parts, err
		}
		var got, done bool
		for len(b) > 0 && !done {
			var m nlMsg
			if m, b, err = nextMsg(b); err != nil {
				return parts, err
			}
			if m.seq != c.seq || m.pid != c.pid {
				continue // a late reply to an earlier request
			}
			if m.flags&nlmFDumpIntr != 0 {
				intr = true
			}
			switch m.typ {
			case nlmsgNoop:
				continue
			case nlmsgError, nlmsgDone:
				errno, err := m.errno()
				if err != nil {
					return parts, err
				}
				if errno != 0 {
					return parts, errno
				}
				done = true
				continue
			case c.family:
			default:
				return parts, fmt.Errorf("%w: unexpected message type %d", errMalformed, m.typ)
			}
			got = true
			_, a, err := genlAttrs(m.data)
			if err == nil && fnErr == nil {
				err = fn(a)
			}
			if fnErr == nil {
				// Keep reading to the end of the dump, so the socket
				// stays in step, and report the first error then.
				fnErr = err
			}
			if !dump {
				done = true
			}
		}
		if got {
			parts++
		}
		if done {
			break
		}
	}
	if fnErr != nil {
		return parts, fnErr
	}
	if intr {
		return parts, tornf("the kernel flagged the dump as interrupted")
	}
	return parts, nil
}
