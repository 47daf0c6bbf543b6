package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// maxWriteBuffer is the largest write buffer kept between writes; a
// larger one (after a huge response) is dropped.
const maxWriteBuffer = 1 << 20

// session is one connection to the master: a reader goroutine answers
// requests as they are framed and writes the replies itself, batching
// them while more requests are already buffered; the agent's own requests
// (Open, Ping, Notify, ...) wait for their responses by packet id.
type session struct {
	a    *Agent
	conn io.ReadWriteCloser
	rd   *agentx.Reader

	// The reader goroutine's own: requests are decoded into dec and
	// answered in res, reused from one request to the next.
	dec   agentx.Decoder
	res   agentx.Response
	names names
	txn   SetTxn // the open set transaction, nil when none
	txnID uint32 // its transaction id
	// txnFailed: its commit failed and no UndoSet has come yet.
	txnFailed bool

	wmu  sync.Mutex
	wbuf []byte // encoded PDUs not yet written

	done      chan struct{}
	closeOnce sync.Once
	err       error // why the session ended; read after done is closed

	id     atomic.Uint32 // h.sessionID assigned by the master
	nextID atomic.Uint32

	pmu     sync.Mutex
	pending map[uint32]chan *agentx.Packet
}

func newSession(a *Agent, conn io.ReadWriteCloser) *session {
	return &session{
		a:       a,
		conn:    conn,
		rd:      agentx.NewReader(conn, agentx.DefaultMaxPDUSize),
		done:    make(chan struct{}),
		pending: make(map[uint32]chan *agentx.Packet),
	}
}

// close ends the session once, recording why.
func (s *session) close(err error) {
	s.closeOnce.Do(func() {
		s.err = err
		close(s.done)
		s.conn.Close()
	})
}

// write encodes p after what is queued and, if flush is set, writes the
// queue. A write that makes no progress for the timeout ends the session
// (see newPollConn).
func (s *session) write(p *agentx.Packet, flush bool) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	select {
	case <-s.done:
		return s.err
	default:
	}
	b, err := p.AppendTo(s.wbuf)
	s.wbuf = b
	if err != nil {
		return err
	}
	if !flush {
		return nil
	}
	_, err = s.conn.Write(s.wbuf)
	s.wbuf = s.wbuf[:0]
	if cap(s.wbuf) > maxWriteBuffer {
		s.wbuf = nil
	}
	if err != nil {
		err = fmt.Errorf("write: %w", err)
		s.close(err)
	}
	return err
}

func (s *session) readLoop() {
	defer s.endSet() // a transaction the master never ended
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
	ch := make(chan *agentx.Packet, 1)
	s.pmu.Lock()
	s.pending[id] = ch
	s.pmu.Unlock()
	defer func() {
		s.pmu.Lock()
		delete(s.pending, id)
		s.pmu.Unlock()
	}()
	if err := s.write(p, true); err != nil {
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
		// The reader delivers a response before it reads further, so one
		// that arrived before the session ended is returned.
		select {
		case r := <-ch:
			return r, nil
		default:
			return nil, s.err
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// callOK is call for requests whose response must carry no error, in the
// context contextName ("" for the default).
func (s *session) callOK(ctx context.Context, contextName string, pdu agentx.PDU) (*agentx.Packet, error) {
	p := &agentx.Packet{PDU: pdu}
	if contextName != "" {
		p.HasContext, p.Context = true, []byte(contextName)
	}
	r, err := s.call(ctx, p)
	if err != nil {
		return nil, err
	}
	if res := r.PDU.(*agentx.Response); res.Error != agentx.NoError {
		return r, fmt.Errorf("%s refused: error %d", pdu.Type(), res.Error)
	}
	return r, nil
}

// open opens the session and registers the subtree in the default context
// (when it has a source) and in every named context. The master refusing
// a named context is logged and leaves the others served; only a failure
// of the session itself fails open.
func (s *session) open(ctx context.Context) error {
	cfg := &s.a.cfg
	r, err := s.callOK(ctx, "", &agentx.Open{Timeout: uint8(cfg.Timeout / time.Second),
		ID: cfg.Subtree, Description: []byte(cfg.Description)})
	if err != nil {
		return fmt.Errorf("open session: %w", err)
	}
	s.id.Store(r.SessionID)
	cfg.Uptime.set(r.PDU.(*agentx.Response).SysUpTime, time.Now())
	if cfg.Source != nil {
		if _, err := s.callOK(ctx, "", &agentx.Register{Priority: cfg.Priority, Subtree: cfg.Subtree}); err != nil {
			return fmt.Errorf("register %s: %w", cfg.Subtree, err)
		}
	}
	for _, name := range s.a.Contexts() {
		if err := s.register(ctx, name); err != nil {
			select {
			case <-s.done:
				return err
			default:
			}
		}
	}
	return nil
}

// register registers the subtree in the named context, logging a refusal.
func (s *session) register(ctx context.Context, name string) error {
	cfg := &s.a.cfg
	if _, err := s.callOK(ctx, name, &agentx.Register{Priority: cfg.Priority, Subtree: cfg.Subtree}); err != nil {
		err = fmt.Errorf("register %s in context %q: %w", cfg.Subtree, name, err)
		s.a.log.Warn("agentx registration failed", "context", name, "err", err)
		return err
	}
	s.a.log.Debug("agentx context registered", "context", name)
	return nil
}

// unregister withdraws the named context's registration.
func (s *session) unregister(ctx context.Context, name string) error {
	cfg := &s.a.cfg
	if _, err := s.callOK(ctx, name, &agentx.Unregister{Priority: cfg.Priority, Subtree: cfg.Subtree}); err != nil {
		return fmt.Errorf("unregister %s in context %q: %w", cfg.Subtree, name, err)
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
			if _, err := s.callOK(ctx, "", &agentx.Ping{}); err != nil && ctx.Err() == nil {
				err = fmt.Errorf("ping: %w", err)
				s.close(err)
				return err
			}
		}
	}
}

// errShutdown is the cause recorded when the agent stops on purpose.
var errShutdown = errors.New("agent shutting down")

// shutdown unregisters every context and closes the session politely;
// the master may be gone already, so errors only shorten it.
func (s *session) shutdown() {
	ctx := context.Background()
	cfg := &s.a.cfg
	for _, name := range s.a.Contexts() {
		if err := s.unregister(ctx, name); err != nil {
			s.close(errShutdown)
			return
		}
	}
	if cfg.Source != nil {
		if _, err := s.callOK(ctx, "", &agentx.Unregister{Priority: cfg.Priority, Subtree: cfg.Subtree}); err != nil {
			s.close(errShutdown)
			return
		}
	}
	_, _ = s.call(ctx, &agentx.Packet{PDU: &agentx.Close{Reason: agentx.ReasonShutdown}})
	s.close(errShutdown)
}
