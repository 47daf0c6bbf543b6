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
	p := &Packet{Flags: h.Flags, SessionID: h.SessionID,
		TransactionID: h.TransactionID, PacketID: h.PacketID}
	p.PDU = newPDU(h.Type)
	if p.PDU == nil {
		return p, &DecodeError{Field: "h.type", Offset: 1, Err: ErrUnknownType}
	}
	d := &decoder{b: payload, big: h.BigEndian()}
	if h.Flags&FlagNonDefaultContext != 0 {
		if !h.Type.hasContext() {
			return p, d.fail("h.flags", ErrNoContext)
		}
		ctx, err := d.octets("context")
		if err != nil {
			return p, err
		}
		p.HasContext, p.Context = true, ctx
	}
	if err := p.PDU.decode(d); err != nil {
		return p, err
	}
	if d.left() != 0 {
		return p, d.fail("payload", ErrTrailing)
	}
	return p, nil
}
