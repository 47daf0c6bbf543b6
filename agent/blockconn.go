package agent

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// blockingConn is a connected stream socket driven with blocking system
// calls: a request costs one read(2) and its answer one write(2). Go's
// network poller would add a failed read, an epoll wait and scheduler
// clock reads around every request, which dominate when each varbind of a
// walk is its own AgentX round trip.
type blockingConn struct {
	f         *os.File // owns the descriptor; closed after the last I/O returns
	rc        syscall.RawConn
	closeOnce sync.Once
}

// newBlockingConn takes over c's socket; c is closed. Writes that make no
// progress for writeTimeout fail, since a blocking write has no deadline.
func newBlockingConn(c net.Conn, writeTimeout time.Duration) (*blockingConn, error) {
	defer c.Close()
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%T has no file descriptor", c)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	if cerr := raw.Control(func(s uintptr) {
		fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, fmt.Errorf("dup socket: %w", err)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("set socket blocking: %w", err)
	}
	tv := unix.NsecToTimeval(writeTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("set socket write timeout: %w", err)
	}
	f := os.NewFile(uintptr(fd), "agentx")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &blockingConn{f: f, rc: rc}, nil
}

func (c *blockingConn) Read(b []byte) (int, error) { return c.f.Read(b) }

func (c *blockingConn) Write(b []byte) (int, error) {
	n, err := c.f.Write(b)
	if errors.Is(err, syscall.EAGAIN) {
		err = fmt.Errorf("write stalled: %w", os.ErrDeadlineExceeded)
	}
	return n, err
}

// Close wakes a read or write blocked on the socket (closing alone would
// not) and releases the descriptor once they have returned.
func (c *blockingConn) Close() error {
	c.closeOnce.Do(func() {
		c.rc.Control(func(s uintptr) { unix.Shutdown(int(s), unix.SHUT_RDWR) })
		c.f.Close()
	})
	return nil
}
