package agent

import (
	"errors"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// maxBulkVarBinds caps a GetBulk response; the response is cut at a whole
// repetition, which RFC 3416 allows, to keep one PDU within what an SNMP
// message can carry anyway.
const maxBulkVarBinds = 1024

// handle answers one request PDU from the master. It returns an error only
// when the session cannot continue.
func (s *session) handle(h agentx.Header, payload []byte) error {
	res := s.response()
	p, err := s.dec.Decode(h, payload)
	switch {
	case err != nil:
		s.a.log.Debug("agentx: malformed request", "type", h.Type, "err", err)
		res.Error = agentx.ParseError
	case h.SessionID != s.id.Load():
		res.Error = agentx.NotOpen
	default:
		if _, ok := p.PDU.(*agentx.CleanupSet); ok {
			// RFC 2741 section 7.2.4.4: CleanupSet is not answered.
			s.setPhase(nil, p.TransactionID, p.PDU, res)
			return nil
		}
		s.answer(p, res)
	}
	return s.reply(h, res)
}

// maxKeptVarBinds bounds the varbinds a session's reused Response keeps
// room for between requests.
const maxKeptVarBinds = 4 * maxBulkVarBinds

// response returns the session's Response, emptied, for the request being
// handled: requests are answered one at a time, each written before the
// next is read, so one Response (and its varbinds' array) serves them all.
func (s *session) response() *agentx.Response {
	vbs := s.res.VarBinds[:0]
	if cap(vbs) > maxKeptVarBinds {
		vbs = nil
	}
	s.res = agentx.Response{VarBinds: vbs}
	s.names.reset()
	return &s.res
}

// answer fills res, whose VarBinds is empty, for a well-formed request.
func (s *session) answer(p *agentx.Packet, res *agentx.Response) {
	var src ViewSource
	switch p.PDU.(type) {
	case *agentx.Get, *agentx.GetNext, *agentx.GetBulk, *agentx.TestSet:
		if src = s.a.source(p.HasContext, p.Context); src == nil {
			// Not a context we serve (any more: a request may cross
			// its Unregister).
			res.Error = agentx.UnsupportedContext
			return
		}
	}
	switch q := p.PDU.(type) {
	case *agentx.Get:
		v := view(src)
		for _, r := range q.Ranges {
			res.VarBinds = append(res.VarBinds, v.Get(r.Start))
		}
	case *agentx.GetNext:
		v := view(src)
		for _, r := range q.Ranges {
			res.VarBinds = append(res.VarBinds, s.names.next(v, r.Start, r.Include, r.End))
		}
	case *agentx.GetBulk:
		res.VarBinds = s.names.bulk(res.VarBinds, view(src), q)
	case *agentx.TestSet, *agentx.CommitSet, *agentx.UndoSet:
		s.setPhase(src, p.TransactionID, q, res)
	case *agentx.Ping:
	default:
		// Subagent-to-master PDUs (Open, Register, Notify, ...) sent to us.
		res.Error = agentx.ProcessingError
	}
}

// view returns src's view for one request; a nil view serves nothing.
func view(src ViewSource) View {
	if v := src.CurrentView(); v != nil {
		return v
	}
	return emptyView{}
}

// names holds the names a view builds for one response's varbinds. The
// session keeps it from one request to the next, so answering a walk
// allocates nothing.
type names struct{ buf []uint32 }

// maxKeptNameSubIDs bounds the storage names keeps between requests.
const maxKeptNameSubIDs = 1 << 16

// reset makes room for a new response's names.
func (n *names) reset() {
	if cap(n.buf) > maxKeptNameSubIDs {
		n.buf = nil
	}
	n.buf = n.buf[:0]
}

// next answers one search range: the first variable in range, or
// endOfMibView named by the range's start.
func (n *names) next(v View, from agentx.OID, include bool, to agentx.OID) agentx.VarBind {
	if cap(n.buf)-len(n.buf) < agentx.MaxSubIDs {
		// Names already given out keep the old storage alive.
		n.buf = make([]uint32, 0, max(2*cap(n.buf), 16*agentx.MaxSubIDs))
	}
	free := n.buf[len(n.buf):]
	vb, ok := v.Next(free, from, include, to)
	if !ok {
		return agentx.VarBind{Name: from, Type: agentx.EndOfMIBView}
	}
	// Keep the name if the view built it here (a view may return a name
	// of its own), and clip it so that nothing appends over the next.
	if k := len(vb.Name); k > 0 && k <= cap(free) && &vb.Name[0] == &free[:1][0] {
		n.buf = n.buf[:len(n.buf)+k]
		vb.Name = vb.Name[:k:k]
	}
	return vb
}

// bulk answers a GetBulk as RFC 2741 section 7.2.3.3 describes: the
// non-repeaters once, then the repeaters row by row, each continuing after
// its previous result. The answer is appended to out.
func (n *names) bulk(out []agentx.VarBind, v View, q *agentx.GetBulk) []agentx.VarBind {
	nonRep := min(int(q.NonRepeaters), len(q.Ranges))
	for _, r := range q.Ranges[:nonRep] {
		out = append(out, n.next(v, r.Start, r.Include, r.End))
	}
	reps := q.Ranges[nonRep:]
	if len(reps) == 0 || q.MaxRepetitions == 0 {
		return out
	}
	rows := min(int(q.MaxRepetitions), max(1, (maxBulkVarBinds-nonRep)/len(reps)))
	cur := make([]agentx.SearchRange, len(reps))
	copy(cur, reps)
	done := make([]bool, len(reps))
	for range rows {
		finished := 0
		for i := range cur {
			if done[i] {
				out = append(out, agentx.VarBind{Name: cur[i].Start, Type: agentx.EndOfMIBView})
				finished++
				continue
			}
			vb := n.next(v, cur[i].Start, cur[i].Include, cur[i].End)
			out = append(out, vb)
			if vb.Type == agentx.EndOfMIBView {
				done[i] = true
				finished++
				continue
			}
			cur[i].Start, cur[i].Include = vb.Name, false
		}
		if finished == len(cur) {
			break
		}
	}
	return out
}

// reply queues the response to the request with header h, in the
// request's byte order, and writes the queue unless another request is
// already buffered (so a burst of requests is answered in one write). A
// varbind the view produced that cannot be encoded turns the response into
// genErr pointing at it.
func (s *session) reply(h agentx.Header, res *agentx.Response) error {
	// res.SysUpTime stays 0: RFC 2741 section 6.2.16 gives it a meaning
	// only from master to subagent, and reading the clock for it would
	// cost a system call per varbind of a walk in an emulated kernel.
	p := &agentx.Packet{Flags: h.Flags & agentx.FlagNetworkByteOrder,
		SessionID: h.SessionID, TransactionID: h.TransactionID, PacketID: h.PacketID, PDU: res}
	flush := !s.rd.Ready()
	err := s.write(p, flush)
	if err == nil {
		return nil
	}
	var ee *agentx.EncodeError
	if errors.As(err, &ee) {
		s.a.log.Debug("agentx: unencodable varbind from view", "err", err)
		*res = agentx.Response{SysUpTime: res.SysUpTime, Error: agentx.GenErr, Index: uint16(min(ee.Index+1, 0xffff))}
		err = s.write(p, flush)
	}
	return err
}

// emptyView serves nothing; it stands in for a source without a view yet.
type emptyView struct{}

func (emptyView) Get(oid agentx.OID) agentx.VarBind {
	return agentx.VarBind{Name: oid, Type: agentx.NoSuchObject}
}

func (emptyView) Next(_, _ agentx.OID, _ bool, _ agentx.OID) (agentx.VarBind, bool) {
	return agentx.VarBind{}, false
}
