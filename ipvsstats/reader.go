package ipvsstats

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
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
	opts Options

	mu     sync.Mutex
	c      *conn // nil after a failed read: the next Read dials again
	closed bool
}

// Open returns a Reader for the namespace in opts. It fails with ErrNetNS
// or another error describing why netlink cannot be used there. An IPVS
// that is not loaded yet is not an error here but of each Read until it is,
// so a long-running reader recovers by itself after "modprobe ip_vs".
func Open(opts Options) (*Reader, error) {
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	c, err := dial(opts.NetNS)
	if errors.Is(err, ErrNotLoaded) {
		return &Reader{opts: opts}, nil // Read dials again
	}
	if err != nil {
		return nil, err
	}
	return &Reader{opts: opts, c: c}, nil
}

// Close releases the socket.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.c == nil {
		return nil
	}
	err := r.c.nc.Close()
	r.c = nil
	return err
}

// Read returns one consistent snapshot of IPVS. When the table changes
// during the read in a way that could have torn the kernel's dumps, it
// reads again, up to Options.Attempts times, and then fails with
// ErrInconsistent rather than return a torn snapshot.
func (r *Reader) Read(ctx context.Context) (*Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.New("read IPVS: reader is closed")
	}
	start := time.Now()
	if r.c == nil {
		c, err := dial(r.opts.NetNS)
		if err != nil {
			return nil, err
		}
		r.c = c
	}
	c := r.c
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
	if dl, ok := ctx.Deadline(); ok {
		_ = c.nc.SetDeadline(dl)
	}
	snap, err := r.attempts(ctx)
	if !stop() && r.c != nil {
		// The cancellation may land after the read: do not let its
		// deadline poison the next one.
		r.drop()
	} else if r.c != nil {
		_ = c.nc.SetDeadline(time.Time{})
	}
	if err != nil {
		return nil, err
	}
	snap.ReadAt = start
	snap.ReadDuration = time.Since(start)
	return snap, nil
}

func (r *Reader) attempts(ctx context.Context) (*Snapshot, error) {
	var last error
	for range r.opts.Attempts {
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
	return nil, fmt.Errorf("read IPVS: %w (%d attempts; last: %w)", ErrInconsistent, r.opts.Attempts, last)
}

func (r *Reader) drop() {
	_ = r.c.nc.Close()
	r.c = nil
}

// conn is one generic netlink socket bound to the IPVS family. Requests
// and replies go through the raw socket so that the reader sees datagram
// boundaries and the NLM_F_DUMP_INTR flag, and reuses its buffers.
type conn struct {
	nc     *netlink.Conn
	rc     syscall.RawConn
	family uint16
	pid    uint32
	seq    uint32
	buf    []byte // receive buffer, larger than any datagram the kernel makes
	req    []byte

	// Sizes of the previous snapshot, to allocate the next one at once.
	nServices, nDests int
}

// recvBufSize is above the kernel's cap on dump datagrams (32 KiB): a
// reader that passes a large buffer gets large dump datagrams, so most
// dumps arrive in one piece, built under the kernel's IPVS lock.
const recvBufSize = 64 << 10

func dial(netns string) (*conn, error) {
	cfg := &netlink.Config{}
	if netns != "" {
		f, err := os.Open(netns)
		if err != nil {
			return nil, fmt.Errorf("%w %s: %w", ErrNetNS, netns, err)
		}
		defer f.Close()
		cfg.NetNS = int(f.Fd())
	}
	nc, err := netlink.Dial(unix.NETLINK_GENERIC, cfg)
	if err != nil {
		if netns != "" {
			return nil, fmt.Errorf("%w %s: %w", ErrNetNS, netns, err)
		}
		return nil, fmt.Errorf("open generic netlink socket: %w", err)
	}
	fam, err := genetlink.NewConn(nc).GetFamily("IPVS")
	if err != nil {
		_ = nc.Close()
		if errors.Is(err, syscall.ENOENT) {
			return nil, fmt.Errorf("%w: %w", ErrNotLoaded, err)
		}
		return nil, fmt.Errorf("look up the IPVS generic netlink family: %w", classify(err))
	}
	rc, err := nc.SyscallConn()
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("generic netlink socket: %w", err)
	}
	return &conn{nc: nc, rc: rc, family: fam.ID, pid: nc.PID(), buf: make([]byte, recvBufSize)}, nil
}

// read makes one attempt at a snapshot. It returns an error wrapping
// errTorn when the table changed in a way that may have torn a dump.
func (c *conn) read() (*Snapshot, error) {
	s := &Snapshot{Daemons: []Daemon{}, Services: make([]Service, 0, c.nServices)}
	var err error
	if _, err = c.exchange(cmdGetInfo, false, nil, func(b []byte) error {
		s.Info, err = decodeInfo(b)
		return err
	}); err != nil {
		return nil, fmt.Errorf("get info: %w", err)
	}
	if _, err = c.exchange(cmdGetConfig, false, nil, func(b []byte) error {
		s.Timeouts, err = decodeConfig(b)
		return err
	}); err != nil {
		return nil, fmt.Errorf("get config: %w", err)
	}
	if _, err = c.exchange(cmdGetDaemon, true, nil, func(b []byte) error {
		d, err := decodeDaemon(b)
		s.Daemons = append(s.Daemons, d)
		return err
	}); err != nil {
		return nil, fmt.Errorf("get daemons: %w", err)
	}
	if _, err = c.exchange(cmdGetService, true, nil, func(b []byte) error {
		svc, err := decodeService(b)
		s.Services = append(s.Services, svc)
		return err
	}); err != nil {
		return nil, fmt.Errorf("get services: %w", err)
	}
	if k, dup := dupService(s.Services); dup {
		return nil, tornf("service %s listed twice", formatKey(k))
	}

	// All real servers share one array; each service gets a capped slice
	// of it once the array stops growing.
	all := make([]Dest, 0, c.nDests)
	ends := make([]int, len(s.Services))
	for i := range s.Services {
		svc := &s.Services[i]
		off := len(all)
		parts, err := c.exchange(cmdGetDest, true, &svc.ServiceKey, func(b []byte) error {
			d, err := decodeDest(b, svc.Family)
			all = append(all, d)
			return err
		})
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH) {
			return nil, tornf("service %s vanished: %w", formatKey(svc.ServiceKey), err)
		}
		if err != nil {
			return nil, fmt.Errorf("get real servers of %s: %w", formatKey(svc.ServiceKey), err)
		}
		if k, dup := dupDest(all[off:]); dup {
			return nil, tornf("real server %s of %s listed twice", k.Addr, formatKey(svc.ServiceKey))
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

// checkServices dumps the service identities again and compares them, in
// order, with svcs.
func (c *conn) checkServices(svcs []Service) error {
	i := 0
	var differ bool
	_, err := c.exchange(cmdGetService, true, nil, func(b []byte) error {
		k, err := decodeServiceKey(b)
		if err != nil {
			return err
		}
		if i >= len(svcs) || svcs[i].ServiceKey != k {
			differ = true
		}
		i++
		return nil
	})
	if err != nil {
		return fmt.Errorf("get services again: %w", err)
	}
	if differ || i != len(svcs) {
		return tornf("service list changed during the read (%d services, then %d)", len(svcs), i)
	}
	return nil
}

// checkDests dumps a service's real servers again and compares their
// identities, in order, with ds.
func (c *conn) checkDests(k *ServiceKey, ds []Dest) error {
	i := 0
	var differ bool
	_, err := c.exchange(cmdGetDest, true, k, func(b []byte) error {
		d, err := decodeDest(b, k.Family)
		if err != nil {
			return err
		}
		if i >= len(ds) || ds[i].DestKey != d.DestKey {
			differ = true
		}
		i++
		return nil
	})
	if err != nil {
		return fmt.Errorf("get real servers of %s again: %w", formatKey(*k), err)
	}
	if differ || i != len(ds) {
		return tornf("real servers of %s changed during the read", formatKey(*k))
	}
	return nil
}

// exchange sends one request and passes the attributes of every reply to
// fn. It returns how many datagrams carried replies: a dump in one
// datagram was built in one go under the kernel's lock.
func (c *conn) exchange(cmd uint8, dump bool, svc *ServiceKey, fn func(attrs []byte) error) (int, error) {
	seq, err := c.send(cmd, dump, svc)
	if err != nil {
		return 0, err
	}
	var parts int
	var fnErr error
	var intr bool
	for {
		b, err := c.recv()
		if err != nil {
			return parts, err
		}
		var got, done bool
		for len(b) > 0 && !done {
			var m nlMsg
			if m, b, err = nextMsg(b); err != nil {
				return parts, err
			}
			if m.seq != seq || m.pid != c.pid {
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

func (c *conn) send(cmd uint8, dump bool, svc *ServiceKey) (uint32, error) {
	c.seq++
	flags := uint16(nlmFRequest)
	if dump {
		flags |= nlmFDump
	}
	b := append(c.req[:0], make([]byte, nlmsgHdrLen)...)
	b = append(b, cmd, 1, 0, 0) // command, IPVS_GENL_VERSION, reserved
	if svc != nil {
		b = appendServiceKey(b, svc)
	}
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], c.family)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], c.seq)
	binary.NativeEndian.PutUint32(b[12:], c.pid)
	c.req = b

	var werr error
	err := c.rc.Write(func(fd uintptr) bool {
		_, werr = unix.Write(int(fd), b)
		return werr != unix.EAGAIN
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return 0, fmt.Errorf("send: %w", err)
	}
	return c.seq, nil
}

func (c *conn) recv() ([]byte, error) {
	var n int
	var rerr error
	err := c.rc.Read(func(fd uintptr) bool {
		n, rerr = unix.Read(int(fd), c.buf)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	if n >= len(c.buf) {
		return nil, fmt.Errorf("%w: datagram larger than %d bytes", errMalformed, len(c.buf))
	}
	return c.buf[:n], nil
}

// appendServiceKey appends the nested service identity GET_DEST needs.
func appendServiceKey(b []byte, k *ServiceKey) []byte {
	start := len(b)
	b = appendAttr(b, attrCmdService)
	b = appendAttr(b, attrSvcAF, binary.NativeEndian.AppendUint16(nil, k.Family)...)
	if k.FWMark != 0 {
		b = appendAttr(b, attrSvcFWMark, binary.NativeEndian.AppendUint32(nil, k.FWMark)...)
	} else {
		var a [16]byte
		if k.Addr.Is4() {
			a4 := k.Addr.As4()
			copy(a[:], a4[:])
		} else {
			a = k.Addr.As16()
		}
		b = appendAttr(b, attrSvcProtocol, binary.NativeEndian.AppendUint16(nil, k.Protocol)...)
		b = appendAttr(b, attrSvcAddr, a[:]...)
		b = appendAttr(b, attrSvcPort, binary.BigEndian.AppendUint16(nil, k.Port)...)
	}
	binary.NativeEndian.PutUint16(b[start:], uint16(len(b)-start))
	return b
}

func dupService(svcs []Service) (ServiceKey, bool) {
	seen := make(map[ServiceKey]struct{}, len(svcs))
	for i := range svcs {
		k := svcs[i].ServiceKey
		if _, ok := seen[k]; ok {
			return k, true
		}
		seen[k] = struct{}{}
	}
	return ServiceKey{}, false
}

func dupDest(ds []Dest) (DestKey, bool) {
	if len(ds) <= 32 {
		// Quadratic but allocation-free for the common small service.
		for i := range ds {
			for j := i + 1; j < len(ds); j++ {
				if ds[i].DestKey == ds[j].DestKey {
					return ds[i].DestKey, true
				}
			}
		}
		return DestKey{}, false
	}
	seen := make(map[DestKey]struct{}, len(ds))
	for i := range ds {
		if _, ok := seen[ds[i].DestKey]; ok {
			return ds[i].DestKey, true
		}
		seen[ds[i].DestKey] = struct{}{}
	}
	return DestKey{}, false
}

// formatKey writes a service identity as ipvsadm does: "TCP 10.0.0.1:80",
// "TCP [::1]:80", "FWM 5 IPv6".
func formatKey(k ServiceKey) string {
	if k.FWMark != 0 {
		if k.Family == FamilyIPv6 {
			return fmt.Sprintf("FWM %d IPv6", k.FWMark)
		}
		return fmt.Sprintf("FWM %d", k.FWMark)
	}
	return k.ProtocolName() + " " + hostPort(k.Addr, k.Port)
}

func hostPort(a netip.Addr, port uint16) string {
	return netip.AddrPortFrom(a, port).String()
}
