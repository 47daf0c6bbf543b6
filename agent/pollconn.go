package agent

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// pollConn is a stream socket whose reads and writes are raw system calls
// made through the runtime's network poller. A walk through snmpd is one
// AgentX round trip per varbind, so the runtime's cost around each request
// counts as much as our own: a raw read or write skips the runtime's
// system-call bookkeeping (which wakes its idle monitor thread every time),
// and waiting in the poller, as every idle goroutine does, lets one thread
// sleep in epoll and answer the next request itself.
type pollConn struct {
	c            net.Conn
	rc           syscall.RawConn
	writeTimeout time.Duration
	// A read and a write may overlap (one goroutine reads, the session
	// serializes writes), so each has its own.
	read, write rawCall
}

// rawCall is one read(2) or write(2) as RawConn runs it. Its method value
// is bound once: a closure per call would cost an allocation per request.
type rawCall struct {
	trap uintptr
	wait bool // whether EAGAIN means waiting in the poller
	fn   func(fd uintptr) bool
	b    []byte
	n    int
	e    syscall.Errno
}

func (r *rawCall) call(fd uintptr) bool {
	r.n, r.e = rawIO(r.trap, fd, r.b)
	return !r.wait || r.e != syscall.EAGAIN
}

// do runs the call on b through rc and returns its outcome.
func (r *rawCall) do(rc func(func(uintptr) bool) error, b []byte) (int, syscall.Errno, error) {
	r.b = b
	err := rc(r.fn)
	r.b = nil
	return r.n, r.e, err
}

// newPollConn wraps c, which must have a socket. Writes that make no
// progress for writeTimeout fail.
func newPollConn(c net.Conn, writeTimeout time.Duration) (*pollConn, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%T has no file descriptor", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	pc := &pollConn{c: c, rc: rc, writeTimeout: writeTimeout}
	// A read waits in the poller while the socket is empty; a write never
	// waits there, since Write decides what a short write means.
	pc.read = rawCall{trap: syscall.SYS_READ, wait: true}
	pc.write = rawCall{trap: syscall.SYS_WRITE}
	pc.read.fn, pc.write.fn = pc.read.call, pc.write.call
	return pc, nil
}

// rawIO makes one read(2) or write(2) without telling the scheduler: the
// socket is non-blocking, so the call returns at once.
func rawIO(trap, fd uintptr, b []byte) (int, syscall.Errno) {
	for {
		n, _, e := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		if e != syscall.EINTR {
			return int(n), e
		}
	}
}

// Read reads what the socket holds, waiting in the poller while it holds
// nothing.
func (c *pollConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, e, err := c.read.do(c.rc.Read, b)
	if err != nil {
		return 0, err
	}
	switch {
	case e != 0:
		return 0, os.NewSyscallError("read", e)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes b. An answer nearly always fits in the socket's buffer at
// once; only the rest, if any, waits, and that wait has a deadline.
func (c *pollConn) Write(b []byte) (int, error) {
	n, e, err := c.write.do(c.rc.Write, b)
	if err != nil {
		return 0, err
	}
	switch e {
	case 0:
	case syscall.EAGAIN: // the buffer is full: all of b waits
		n = 0
	default:
		return 0, os.NewSyscallError("write", e)
	}
	if n == len(b) {
		return n, nil
	}
	c.c.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	m, err := c.c.Write(b[n:])
	c.c.SetWriteDeadline(time.Time{})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("write stalled: %w", err)
	}
	return n + m, err
}

// Close closes the socket, waking a read or write waiting on it.
func (c *pollConn) Close() error { return c.c.Close() }
