package ipvsstats

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// transport carries request datagrams to the kernel's IPVS family and
// reply datagrams back. The Reader owns one at a time; tests replace the
// socket with recorded replies.
type transport interface {
	// send writes one request datagram.
	send(req []byte) error
	// recv returns the next reply datagram. It stays valid until the next
	// recv: the decoders read it in place.
	recv() ([]byte, error)
	// setDeadline bounds send and recv; the zero time removes the bound.
	setDeadline(t time.Time) error
	close() error
}

// endpoint is an open transport and what the Reader needs to address the
// IPVS family over it.
type endpoint struct {
	t      transport
	family uint16 // the IPVS family's generic netlink message type
	pid    uint32 // our port id, echoed in the kernel's replies
}

// dialFunc opens an endpoint. It fails with an error wrapping
// ErrNotLoaded when the kernel has no IPVS family.
type dialFunc func() (endpoint, error)

// socket is the transport over a generic netlink socket. It reads and
// writes the raw socket so that the reader sees datagram boundaries and
// the NLM_F_DUMP_INTR flag, and reuses its receive buffer.
type socket struct {
	nc  *netlink.Conn
	rc  syscall.RawConn
	buf []byte // larger than any datagram the kernel makes
}

// recvBufSize is above the kernel's cap on dump datagrams (32 KiB): a
// reader that passes a large buffer gets large dump datagrams, so most
// dumps arrive in one piece, built under the kernel's IPVS lock.
const recvBufSize = 64 << 10

// dialSocket opens a generic netlink socket in the network namespace at
// netns ("" for the caller's) and looks up the IPVS family.
func dialSocket(netns string) (endpoint, error) {
	cfg := &netlink.Config{}
	if netns != "" {
		f, err := os.Open(netns)
		if err != nil {
			return endpoint{}, fmt.Errorf("%w %s: %w", ErrNetNS, netns, err)
		}
		defer f.Close()
		cfg.NetNS = int(f.Fd())
	}
	nc, err := netlink.Dial(unix.NETLINK_GENERIC, cfg)
	if err != nil {
		if netns != "" {
			return endpoint{}, fmt.Errorf("%w %s: %w", ErrNetNS, netns, err)
		}
		return endpoint{}, fmt.Errorf("open generic netlink socket: %w", err)
	}
	fam, err := genetlink.NewConn(nc).GetFamily("IPVS")
	if err != nil {
		_ = nc.Close()
		if errors.Is(err, syscall.ENOENT) {
			return endpoint{}, fmt.Errorf("%w: %w", ErrNotLoaded, err)
		}
		return endpoint{}, fmt.Errorf("look up the IPVS generic netlink family: %w", classify(err))
	}
	rc, err := nc.SyscallConn()
	if err != nil {
		_ = nc.Close()
		return endpoint{}, fmt.Errorf("generic netlink socket: %w", err)
	}
	s := &socket{nc: nc, rc: rc, buf: make([]byte, recvBufSize)}
	return endpoint{t: s, family: fam.ID, pid: nc.PID()}, nil
}

func (s *socket) send(req []byte) error {
	var werr error
	err := s.rc.Write(func(fd uintptr) bool {
		_, werr = unix.Write(int(fd), req)
		return werr != unix.EAGAIN
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

func (s *socket) recv() ([]byte, error) {
	var n int
	var rerr error
	err := s.rc.Read(func(fd uintptr) bool {
		n, rerr = unix.Read(int(fd), s.buf)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	if n >= len(s.buf) {
		return nil, fmt.Errorf("%w: datagram larger than %d bytes", errMalformed, len(s.buf))
	}
	return s.buf[:n], nil
}

func (s *socket) setDeadline(t time.Time) error { return s.nc.SetDeadline(t) }

func (s *socket) close() error { return s.nc.Close() }
