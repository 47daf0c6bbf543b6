package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// maxQueued bounds the encoded PDUs waiting for the writer; a master that
// stops reading stalls the reader rather than growing memory.
const maxQueued = 256

// session is one connection to the master: a reader goroutine answering
// requests as they are framed, a writer goroutine batching what is queued
// into single writes, and the agent's own requests waiting for responses.
type session struct {
	a    *Agent
	conn net.Conn
	rd   *agentx.Reader
	out  chan *[]byte
	pool sync.Pool

	done      chan struct{}
	closeOnce sync.Once
	err       error // why the session ended; read after done is closed

	id     atomic.Uint32 // h.sessionID assigned by the master
	nextID atomic.Uint32

	pmu     sync.Mutex
	pending map[uint32]chan *agentx.Packet
}

func newSession(a *Agent, conn net.Conn) *session {
	s := &session{
		a:       a,
		conn:    conn,
		rd:      agentx.NewReader(conn, agentx.DefaultMaxPDUSize),
		out:     make(chan *[]byte, maxQueued),
		done:    make(chan struct{}),
		pending: make(map[uint32]chan *agentx.Packet),
	}
	s.pool.New = func() any { b := make([]byte, 0, 512); return &b }
	return s
}

// close ends the session once, recording why.
func (s *session) close(err error) {
	s.closeOnce.Do(func() {
		s.err = err
		close(s.done)
		s.conn.Close()
	})
}

// send queues an encoded PDU for the writer.
func (s *session) send(b *[]byte) error {
	select {
	case s.out <- b:
		return nil
	case <-s.done:
		return s.err
	}
}

func (s *session) writeLoop() {
	bufs := make([]*[]byte, 0, maxQueued)
	var iov net.Buffers
	for {
		select {
		case <-s.done:
			return
		case b := <-s.out:
			bufs = append(bufs[:0], b)
		}
		// Coalesce whatever else is queued into one write.
	drain:
		for len(bufs) < maxQueued {
			select {
			case b := <-s.out:
				bufs = append(bufs, b)
			default:
				break drain
			}
		}
		iov = iov[:0]
		for _, b := range bufs {
			iov = append(iov, *b)
		}
		s.conn.SetWriteDeadline(time.Now().Add(s.a.cfg.Timeout))
		_, err := iov.WriteTo(s.conn)
		for _, b := range bufs {
			*b = (*b)[:0]
			s.pool.Put(b)
		}
		if err != nil {
			s.close(fmt.Errorf("write: %w", err))
			return
		}
	}
}

func (s *session) readLoop() {
	for {
		h, payload, err := s.rd.Next()
		if err != nil {
			s.close(fmt.Errorf("read: %w", err))
			return
		}
		switch h.Type {
		case agentx.TypeResponse:
			s.deliver(h, payload)
		case agentx.TypeClose:
			reason := "unreadable"
			if p, err := agentx.DecodePayload(h, payload); err == nil {
				reason = fmt.Sprint(p.PDU.(*agentx.Close).Reason)
			}
			s.close(fmt.Errorf("master closed the session (reason %s)", reason))
			return
		default:
			if err := s.handle(h, payload); err != nil {
				s.close(err)
				return
			}
		}
	}
}

// deliver hands a response to the call waiting for it. Responses nobody
// waits for (a call that timed out) are dropped.
func (s *session) deliver(h agentx.Header, payload []byte) {
	s.pmu.Lock()
	ch := s.pending[h.PacketID]
	delete(s.pending, h.PacketID)
	s.pmu.Unlock()
	if ch == nil {
		s.a.log.Debug("agentx: dropping unexpected response", "packet_id", h.PacketID)
		return
	}
	p, err := agentx.DecodePayload(h, payload)
	if err != nil {
		s.a.log.Debug("agentx: malformed response from master", "err", err)
		p = &agentx.Packet{SessionID: h.SessionID, PacketID: h.PacketID,
			PDU: &agentx.Response{Error: agentx.ParseError}}
	}
	ch <- p
}

// errTimeout reports a master that did not answer within Config.Timeout.
var errTimeout = errors.New("no response from master")

// call sends one of our own requests and waits for the master's response.
func (s *session) call(ctx context.Context, p *agentx.Packet) (*agentx.Packet, error) {
	id := s.nextID.Add(1)
	p.SessionID, p.PacketID = s.id.Load(), id
	p.Flags |= agentx.FlagNetworkByteOrder
	bp := s.pool.Get().(*[]byte)
	b, err := p.AppendTo((*bp)[:0])
	if err != nil {
		s.pool.Put(bp)
		return nil, err
	}
	*bp = b
	ch := make(chan *agentx.Packet, 1)
	s.pmu.Lock()
	s.pending[id] = ch
	s.pmu.Unlock()
	defer func() {
		s.pmu.Lock()
		delete(s.pending, id)
		s.pmu.Unlock()
	}()
	if err := s.send(bp); err != nil {
		return nil, err
	}
	t := time.NewTimer(s.a.cfg.Timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r, nil
	case <-t.C:
		return nil, fmt.Errorf("%s: %w after %v", p.PDU.Type(), errTimeout, s.a.cfg.Timeout)
	case <-s.done:
		return nil, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// callOK is call for requests whose response must carry no error.
func (s *session) callOK(ctx context.Context, pdu agentx.PDU) (*agentx.Packet, error) {
	r, err := s.call(ctx, &agentx.Packet{PDU: pdu})
	if err != nil {
		return nil, err
	}
	if res := r.PDU.(*agentx.Response); res.Error != agentx.NoError {
		return r, fmt.Errorf("%s refused: error %d", pdu.Type(), res.Error)
	}
	return r, nil
}

// open opens the session and registers the subtree.
func (s *session) open(ctx context.Context) error {
	cfg := &s.a.cfg
	r, err := s.callOK(ctx, &agentx.Open{Timeout: uint8(cfg.Timeout / time.Second),
		ID: cfg.Subtree, Description: []byte(cfg.Description)})
	if err != nil {
		return fmt.Errorf("open session: %w", err)
	}
	s.id.Store(r.SessionID)
	if _, err := s.callOK(ctx, &agentx.Register{Priority: cfg.Priority, Subtree: cfg.Subtree}); err != nil {
		return fmt.Errorf("register %s: %w", cfg.Subtree, err)
	}
	return nil
}

// serve waits for the session to end or ctx to be done, pinging the master
// every interval.
func (s *session) serve(ctx context.Context, interval time.Duration) error {
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return s.err
		case <-tick:
			if _, err := s.callOK(ctx, &agentx.Ping{}); err != nil && ctx.Err() == nil {
				err = fmt.Errorf("ping: %w", err)
				s.close(err)
				return err
			}
		}
	}
}

// errShutdown is the cause recorded when the agent stops on purpose.
var errShutdown = errors.New("agent shutting down")

// shutdown unregisters and closes the session politely; the master may be
// gone already, so errors only shorten it.
func (s *session) shutdown(subtree agentx.OID, priority uint8) {
	ctx := context.Background()
	if _, err := s.callOK(ctx, &agentx.Unregister{Priority: priority, Subtree: subtree}); err == nil {
		_, _ = s.call(ctx, &agentx.Packet{PDU: &agentx.Close{Reason: agentx.ReasonShutdown}})
	}
	s.close(errShutdown)
}
