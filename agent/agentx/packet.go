package agentx

// Packet is one complete AgentX PDU: the header fields a sender chooses,
// the optional context and the payload.
type Packet struct {
	// Flags holds the header flags. FlagNetworkByteOrder selects the byte
	// order of the encoding; FlagNonDefaultContext is derived from
	// HasContext when encoding and may be left unset.
	Flags         Flags
	SessionID     uint32
	TransactionID uint32
	PacketID      uint32
	// HasContext marks a non-default context, which may be empty.
	HasContext bool
	Context    []byte
	PDU        PDU
}

// AppendTo appends the encoding of p to b. On error b is returned
// unchanged in length.
func (p *Packet) AppendTo(b []byte) ([]byte, error) {
	start := len(b)
	t := p.PDU.Type()
	flags := p.Flags &^ FlagNonDefaultContext
	if p.HasContext {
		if !t.hasContext() {
			return b, &EncodeError{Index: -1, Msg: "context on a " + t.String() + " PDU"}
		}
		flags |= FlagNonDefaultContext
	}
	h := Header{Version: Version, Type: t, Flags: flags, SessionID: p.SessionID,
		TransactionID: p.TransactionID, PacketID: p.PacketID}
	big := h.BigEndian()
	b = appendHeader(b, h)
	if p.HasContext {
		b = appendOctets(b, p.Context, big)
	}
	b, err := p.PDU.appendPayload(b, big)
	if err != nil {
		return b[:start], err
	}
	n := uint32(len(b) - start - HeaderSize)
	lp := b[start+16 : start+20]
	if big {
		lp[0], lp[1], lp[2], lp[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	} else {
		lp[0], lp[1], lp[2], lp[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	}
	return b, nil
}

// Encode returns the encoding of p.
func (p *Packet) Encode() ([]byte, error) { return p.AppendTo(nil) }

// Decode decodes one complete PDU (header and payload, nothing after it).
// maxPayload bounds the payload length as in ParseHeader.
func Decode(b []byte, maxPayload int) (*Packet, error) {
	h, err := ParseHeader(b, maxPayload)
	if err != nil {
		return nil, err
	}
	rest := b[HeaderSize:]
	if uint64(len(rest)) < uint64(h.PayloadLength) {
		return nil, &DecodeError{Field: "payload", Offset: HeaderSize + len(rest), Err: ErrTruncated}
	}
	if uint64(len(rest)) > uint64(h.PayloadLength) {
		return nil, &DecodeError{Field: "payload", Offset: HeaderSize + int(h.PayloadLength), Err: ErrTrailing}
	}
	return DecodePayload(h, rest)
}

// DecodePayload decodes the payload of a PDU whose header was read with
// ParseHeader. The result does not alias payload.
func DecodePayload(h Header, payload []byte) (*Packet, error) {
	p := &Packet{}
	pdu := newPDU(h.Type)
	return p, decodeInto(p, pdu, h, &decoder{b: payload, big: h.BigEndian()})
}

// A Decoder decodes packets like DecodePayload, into storage it reuses:
// the Packet and the Get, GetNext and GetBulk PDUs, their search ranges
// and OIDs. What Decode returns is valid only until its next call, which
// suits a loop that answers each request before it reads the next: once
// it has seen its largest request, decoding one allocates nothing. The
// zero Decoder is ready to use; it is not safe for concurrent use.
type Decoder struct {
	pkt     Packet
	get     Get
	getNext GetNext
	getBulk GetBulk
	ranges  []SearchRange
	subIDs  []uint32
	// The decoder and its free OID space live here, not on the heap per
	// call: the PDUs' decode methods, called through an interface, take
	// the decoder's address.
	d    decoder
	free []uint32
}

// maxKeptSubIDs bounds the OID storage a Decoder keeps between packets, so
// one huge request does not pin its memory for the session's life.
const maxKeptSubIDs = 1 << 14

// Decode decodes the payload of a PDU whose header was read with
// ParseHeader. The result aliases neither payload nor an earlier result
// that is still valid.
func (dc *Decoder) Decode(h Header, payload []byte) (*Packet, error) {
	var pdu PDU
	switch h.Type {
	case TypeGet:
		dc.get = Get{}
		pdu = &dc.get
	case TypeGetNext:
		dc.getNext = GetNext{}
		pdu = &dc.getNext
	case TypeGetBulk:
		dc.getBulk = GetBulk{}
		pdu = &dc.getBulk
	default:
		pdu = newPDU(h.Type)
	}
	dc.free = dc.subIDs[:0]
	dc.d = decoder{b: payload, big: h.BigEndian(), subIDs: &dc.free, rangeBuf: &dc.ranges}
	d := &dc.d
	err := decodeInto(&dc.pkt, pdu, h, d)
	// Next time, one array for all of a packet this size's OIDs.
	if d.used > cap(dc.subIDs) && d.used <= maxKeptSubIDs {
		dc.subIDs = make([]uint32, 0, 2*d.used)
	}
	if cap(dc.ranges) > maxKeptSubIDs/8 {
		dc.ranges = nil
	}
	dc.d.b, dc.free = nil, nil // hold on to neither payload nor storage twice
	return &dc.pkt, err
}

// decodeInto fills p from the header h and, with d, the payload into pdu
// (nil for an unknown type).
func decodeInto(p *Packet, pdu PDU, h Header, d *decoder) error {
	*p = Packet{Flags: h.Flags, SessionID: h.SessionID,
		TransactionID: h.TransactionID, PacketID: h.PacketID, PDU: pdu}
	if pdu == nil {
		return &DecodeError{Field: "h.type", Offset: 1, Err: ErrUnknownType}
	}
	if h.Flags&FlagNonDefaultContext != 0 {
		if !h.Type.hasContext() {
			return d.fail("h.flags", ErrNoContext)
		}
		ctx, err := d.octets("context")
		if err != nil {
			return err
		}
		p.HasContext, p.Context = true, ctx
	}
	if err := pdu.decode(d); err != nil {
		return err
	}
	if d.left() != 0 {
		return d.fail("payload", ErrTrailing)
	}
	return nil
}
