package ipvsstats

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// replay is a transport that answers each request with the replies the
// kernel sent to the same request when the fixtures were recorded, so that
// tests drive the real Read: request encoding, the exchange, the retry and
// the consistency checks.
type replay struct {
	t        testing.TB
	services [][]byte // the recorded GET_SERVICE messages, in dump order
	keys     []ServiceKey

	// perDatagram is how many messages the kernel packs into one datagram
	// (0: the whole reply in one, as a large receive buffer gets it).
	perDatagram int
	// script, when set, turns the reply to a request into the datagrams
	// recv returns, to tear, interrupt or break a dump.
	script func(req request, msgs [][]byte) []datagram

	requests []request
	sets     []setDest // the SET_DEST requests, acknowledged
	queue    []datagram
	closed   bool
	unread   int // datagrams of a reply still queued when the reader closed

	mu       sync.Mutex // guards deadline and gen: Read's AfterFunc sets the deadline from another goroutine
	deadline time.Time
	gen      int // which dialled socket is the current one
}

// replaySocket is one socket dialled from the replay. A deadline set on a
// socket that has since been replaced (a cancellation landing late, after
// the reader dropped it) does not reach the new one, as with real sockets.
type replaySocket struct {
	r   *replay
	gen int
}

func (s replaySocket) send(b []byte) error   { return s.r.send(b) }
func (s replaySocket) recv() ([]byte, error) { return s.r.recv() }
func (s replaySocket) close() error          { return s.r.close() }

func (s replaySocket) setDeadline(t time.Time) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.gen == s.r.gen {
		s.r.deadline = t
	}
	return nil
}

// request is what the replay decoded of one request.
type request struct {
	n    int // 1 for the first request the replay got
	cmd  uint8
	dump bool
	svc  int // GET_DEST: position of the service in services.bin, -1 if unknown
	seq  uint32
}

// setDest is what the replay decoded of one SET_DEST request.
type setDest struct {
	svc  ServiceKey
	dest Dest
	ack  bool // NLM_F_ACK was set
}

// datagram is what one recv returns: bytes, or an error.
type datagram struct {
	b   []byte
	err error
}

const (
	replayFamily = 0x1c // the IPVS family's id where the fixtures were recorded
	replayPID    = 4242
)

func newReplay(t testing.TB) *replay {
	r := &replay{t: t, services: fixtureRaw(t, "services.bin")}
	for _, m := range r.services {
		k, err := decodeServiceKey(attrsOf(t, m))
		if err != nil {
			t.Fatal(err)
		}
		r.keys = append(r.keys, k)
	}
	return r
}

// dial is a dialFunc handing out this replay.
func (r *replay) dial() (endpoint, error) {
	r.closed = false
	r.mu.Lock()
	r.gen++
	r.deadline = time.Time{} // a new socket
	gen := r.gen
	r.mu.Unlock()
	return endpoint{t: replaySocket{r: r, gen: gen}, family: replayFamily, pid: replayPID}, nil
}

func (r *replay) send(b []byte) error {
	r.t.Helper()
	if r.closed {
		return fmt.Errorf("send: %w", syscall.EBADF)
	}
	if len(r.queue) > 0 {
		r.t.Errorf("request sent with %d reply datagrams unread", len(r.queue))
	}
	m, rest, err := nextMsg(b)
	if err != nil || len(rest) > 0 || m.typ != replayFamily || m.pid != replayPID || m.flags&nlmFRequest == 0 {
		r.t.Fatalf("bad request %x: %+v, %v", b, m, err)
	}
	cmd, attrs, err := genlAttrs(m.data)
	if err != nil {
		r.t.Fatal(err)
	}
	req := request{n: len(r.requests) + 1, cmd: cmd, dump: m.flags&nlmFDump == nlmFDump, svc: -1, seq: m.seq}
	var msgs [][]byte
	switch cmd {
	case cmdGetInfo:
		msgs = fixtureRaw(r.t, "info.bin")
	case cmdGetConfig:
		msgs = fixtureRaw(r.t, "config.bin")
	case cmdGetDaemon:
		msgs = fixtureRaw(r.t, "daemons.bin")
	case cmdGetService:
		for _, m := range r.services {
			msgs = append(msgs, append([]byte(nil), m...))
		}
	case cmdGetDest:
		k, err := decodeServiceKey(attrs)
		if err != nil {
			r.t.Fatalf("GET_DEST request: %v", err)
		}
		for i := range r.keys {
			if r.keys[i] == k {
				req.svc = i
			}
		}
		if req.svc < 0 {
			msgs = [][]byte{errorMsg(syscall.ENOENT)}
			break
		}
		msgs = fixtureRaw(r.t, fmt.Sprintf("dests-%d.bin", req.svc))
	case cmdSetDest:
		k, err := decodeServiceKey(attrs)
		if err != nil {
			r.t.Fatalf("SET_DEST request: %v", err)
		}
		d, err := decodeDest(attrs, k.Family)
		if err != nil {
			r.t.Fatalf("SET_DEST request: %v", err)
		}
		if !slices.Contains(r.keys, k) {
			msgs = [][]byte{errorMsg(syscall.ESRCH)}
			break
		}
		r.sets = append(r.sets, setDest{svc: k, dest: d, ack: m.flags&nlmFAck != 0})
		msgs = [][]byte{errorMsg(0)} // the acknowledgement
	default:
		r.t.Fatalf("unexpected command %d", cmd)
	}
	if req.dump {
		msgs = append(msgs, doneMsg())
	}
	for _, m := range msgs {
		readdress(m, req.seq)
	}
	r.requests = append(r.requests, req)
	if r.script != nil {
		r.queue = r.script(req, msgs)
	} else {
		r.queue = r.pack(msgs)
	}
	return nil
}

// pack puts msgs into datagrams of perDatagram messages each.
func (r *replay) pack(msgs [][]byte) []datagram {
	n := r.perDatagram
	if n <= 0 {
		n = len(msgs)
	}
	var out []datagram
	for len(msgs) > 0 {
		k := min(n, len(msgs))
		var b []byte
		for _, m := range msgs[:k] {
			b = append(b, m...)
		}
		out = append(out, datagram{b: b})
		msgs = msgs[k:]
	}
	return out
}

func (r *replay) recv() ([]byte, error) {
	r.mu.Lock()
	dl := r.deadline
	r.mu.Unlock()
	switch {
	case r.closed:
		return nil, fmt.Errorf("receive: %w", syscall.EBADF)
	case !dl.IsZero() && time.Now().After(dl):
		return nil, fmt.Errorf("receive: %w", os.ErrDeadlineExceeded)
	case len(r.queue) == 0:
		r.t.Fatal("recv with no reply pending: the reader would block forever")
	}
	d := r.queue[0]
	r.queue = r.queue[1:]
	return d.b, d.err
}

func (r *replay) setDeadline(t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deadline = t
	return nil
}

func (r *replay) close() error {
	r.closed = true
	r.unread = len(r.queue)
	r.queue = nil
	return nil
}

// count returns how many requests of command cmd the replay answered.
func (r *replay) count(cmd uint8) int {
	n := 0
	for _, q := range r.requests {
		if q.cmd == cmd {
			n++
		}
	}
	return n
}

// fixtureRaw returns the messages of a recorded reply file, headers
// included, each in its own copy.
func fixtureRaw(t testing.TB, name string) [][]byte {
	t.Helper()
	b := fixtureBytes(t, name)
	var out [][]byte
	for len(b) > 0 {
		l := align4(int(binary.NativeEndian.Uint32(b)))
		out = append(out, append([]byte(nil), b[:min(l, len(b))]...))
		b = b[min(l, len(b)):]
	}
	return out
}

// attrsOf returns the generic netlink attributes of one raw message.
func attrsOf(t testing.TB, raw []byte) []byte {
	t.Helper()
	m, _, err := nextMsg(raw)
	if err != nil {
		t.Fatal(err)
	}
	_, a, err := genlAttrs(m.data)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// readdress makes a raw message a reply to sequence number seq of our port.
func readdress(m []byte, seq uint32) {
	binary.NativeEndian.PutUint32(m[8:], seq)
	binary.NativeEndian.PutUint32(m[12:], replayPID)
}

// rawMsg builds a raw netlink message, padded as the kernel pads it.
func rawMsg(typ, flags uint16, payload []byte) []byte {
	b := make([]byte, nlmsgHdrLen, align4(nlmsgHdrLen+len(payload)))
	binary.NativeEndian.PutUint32(b, uint32(nlmsgHdrLen+len(payload)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	b = append(b, payload...)
	return b[:cap(b)]
}

func doneMsg() []byte { return rawMsg(nlmsgDone, nlmFMulti, make([]byte, 4)) }

// errorMsg is the NLMSG_ERROR the kernel sends for a failed request.
func errorMsg(errno syscall.Errno) []byte {
	return rawMsg(nlmsgError, 0, binary.NativeEndian.AppendUint32(nil, uint32(-int32(errno))))
}

// setFlags adds flags to a raw message's header.
func setFlags(m []byte, flags uint16) {
	binary.NativeEndian.PutUint16(m[6:], binary.NativeEndian.Uint16(m[6:])|flags)
}
