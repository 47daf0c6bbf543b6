package agentx

import "math"

// internet is 1.3.6.1, the prefix RFC 2741 section 5.1 compresses.
var internet = [4]uint32{1, 3, 6, 1}

func put16(b []byte, v uint16, big bool) []byte {
	if big {
		return append(b, byte(v>>8), byte(v))
	}
	return append(b, byte(v), byte(v>>8))
}

func put32(b []byte, v uint32, big bool) []byte {
	if big {
		return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func put64(b []byte, v uint64, big bool) []byte {
	if big {
		return put32(put32(b, uint32(v>>32), big), uint32(v), big)
	}
	return put32(put32(b, uint32(v), big), uint32(v>>32), big)
}

// appendOID encodes o, using the internet prefix form when it applies.
func appendOID(b []byte, o OID, include bool, big bool) ([]byte, error) {
	var prefix uint32
	if len(o) >= 5 && o[0] == internet[0] && o[1] == internet[1] &&
		o[2] == internet[2] && o[3] == internet[3] && o[4] >= 1 && o[4] <= 255 {
		prefix = o[4]
		o = o[5:]
	}
	if len(o) > MaxSubIDs {
		return b, &EncodeError{Index: -1, Msg: "OID has more than 128 sub-identifiers"}
	}
	var inc byte
	if include {
		inc = 1
	}
	b = append(b, byte(len(o)), byte(prefix), inc, 0)
	for _, v := range o {
		b = put32(b, v, big)
	}
	return b, nil
}

// appendOctets encodes an octet string padded to a multiple of 4 bytes.
func appendOctets(b []byte, s []byte, big bool) []byte {
	b = put32(b, uint32(len(s)), big)
	b = append(b, s...)
	for i := len(s); i%4 != 0; i++ {
		b = append(b, 0)
	}
	return b
}

// appendVarBind encodes one varbind, checking that its value fits its type.
func appendVarBind(b []byte, vb *VarBind, big bool) ([]byte, error) {
	b = put16(b, uint16(vb.Type), big)
	b = append(b, 0, 0)
	b, err := appendOID(b, vb.Name, false, big)
	if err != nil {
		return b, err
	}
	switch vb.Type {
	case Integer:
		return put32(b, uint32(vb.Int), big), nil
	case Counter32, Gauge32, TimeTicks:
		if vb.Uint > math.MaxUint32 {
			return b, &EncodeError{Index: -1, Msg: "value of " + vb.Type.String() + " exceeds 32 bits"}
		}
		return put32(b, uint32(vb.Uint), big), nil
	case Counter64:
		return put64(b, vb.Uint, big), nil
	case IPAddress:
		if len(vb.Bytes) != 4 {
			return b, &EncodeError{Index: -1, Msg: "IpAddress is not 4 bytes"}
		}
		return appendOctets(b, vb.Bytes, big), nil
	case OctetString, Opaque:
		if uint64(len(vb.Bytes)) > math.MaxUint32 {
			return b, &EncodeError{Index: -1, Msg: "octet string too long"}
		}
		return appendOctets(b, vb.Bytes, big), nil
	case ObjectIdentifier:
		return appendOID(b, vb.OID, false, big)
	case Null, NoSuchObject, NoSuchInstance, EndOfMIBView:
		return b, nil
	}
	return b, &EncodeError{Index: -1, Msg: "unknown varbind type " + vb.Type.String()}
}

func appendVarBinds(b []byte, vbs []VarBind, big bool) ([]byte, error) {
	for i := range vbs {
		var err error
		if b, err = appendVarBind(b, &vbs[i], big); err != nil {
			if e, ok := err.(*EncodeError); ok {
				e.Index = i
			}
			return b, err
		}
	}
	return b, nil
}

func appendRanges(b []byte, rs []SearchRange, big bool) ([]byte, error) {
	for _, r := range rs {
		var err error
		if b, err = appendOID(b, r.Start, r.Include, big); err != nil {
			return b, err
		}
		if b, err = appendOID(b, r.End, false, big); err != nil {
			return b, err
		}
	}
	return b, nil
}

// decoder reads payload fields; every read checks the remaining length
// first, so no allocation exceeds what the payload holds.
type decoder struct {
	b   []byte
	off int
	big bool
	// A Decoder's reused storage, nil for fresh allocations: OIDs are
	// carved from subIDs (used counts what they took), search ranges
	// appended to rangeBuf.
	subIDs   *[]uint32
	used     int
	rangeBuf *[]SearchRange
}

func (d *decoder) fail(field string, err error) error {
	return &DecodeError{Field: field, Offset: d.off, Err: err}
}

func (d *decoder) left() int { return len(d.b) - d.off }

func (d *decoder) need(n int, field string) error {
	if d.left() < n {
		return d.fail(field, ErrTruncated)
	}
	return nil
}

func (d *decoder) u8() byte { v := d.b[d.off]; d.off++; return v }

func (d *decoder) u16() uint16 {
	p := d.b[d.off : d.off+2]
	d.off += 2
	if d.big {
		return uint16(p[0])<<8 | uint16(p[1])
	}
	return uint16(p[1])<<8 | uint16(p[0])
}

func (d *decoder) u32() uint32 {
	p := d.b[d.off : d.off+4]
	d.off += 4
	if d.big {
		return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
	}
	return uint32(p[3])<<24 | uint32(p[2])<<16 | uint32(p[1])<<8 | uint32(p[0])
}

func (d *decoder) u64() uint64 {
	a, b := uint64(d.u32()), uint64(d.u32())
	if d.big {
		return a<<32 | b
	}
	return b<<32 | a
}

// oid reads an Object Identifier and its include byte.
func (d *decoder) oid(field string) (OID, bool, error) {
	if err := d.need(4, field); err != nil {
		return nil, false, err
	}
	n, prefix, include := int(d.b[d.off]), d.b[d.off+1], d.b[d.off+2]
	if n > MaxSubIDs {
		return nil, false, d.fail(field, ErrOIDLength)
	}
	d.off += 4
	if err := d.need(4*n, field); err != nil {
		return nil, false, err
	}
	if n == 0 && prefix == 0 {
		return nil, include != 0, nil
	}
	var o OID
	if d.subIDs != nil {
		o = (*d.subIDs)[:0]
	} else {
		o = make(OID, 0, 5+n)
	}
	if prefix != 0 {
		o = append(append(o, internet[:]...), uint32(prefix))
	}
	for range n {
		o = append(o, d.u32())
	}
	if d.subIDs != nil {
		// The next OID goes after this one (in a larger array if append
		// had to move this one; earlier OIDs keep theirs).
		*d.subIDs = o[len(o):]
		d.used += len(o)
		o = o[:len(o):len(o)]
	}
	return o, include != 0, nil
}

// octets reads a padded octet string into a new slice.
func (d *decoder) octets(field string) ([]byte, error) {
	if err := d.need(4, field); err != nil {
		return nil, err
	}
	start := d.off
	n := d.u32()
	padded := (uint64(n) + 3) &^ 3
	if uint64(d.left()) < padded {
		d.off = start
		return nil, d.fail(field, ErrTruncated)
	}
	s := make([]byte, n)
	copy(s, d.b[d.off:])
	d.off += int(padded)
	return s, nil
}

func (d *decoder) varBind() (VarBind, error) {
	var vb VarBind
	start := d.off
	if err := d.need(4, "vb.type"); err != nil {
		return vb, err
	}
	vb.Type = Type(d.u16())
	d.off += 2
	name, _, err := d.oid("vb.name")
	if err != nil {
		return vb, err
	}
	vb.Name = name
	switch vb.Type {
	case Integer:
		if err := d.need(4, "vb.data"); err != nil {
			return vb, err
		}
		vb.Int = int32(d.u32())
	case Counter32, Gauge32, TimeTicks:
		if err := d.need(4, "vb.data"); err != nil {
			return vb, err
		}
		vb.Uint = uint64(d.u32())
	case Counter64:
		if err := d.need(8, "vb.data"); err != nil {
			return vb, err
		}
		vb.Uint = d.u64()
	case OctetString, Opaque, IPAddress:
		off := d.off
		if vb.Bytes, err = d.octets("vb.data"); err != nil {
			return vb, err
		}
		if vb.Type == IPAddress && len(vb.Bytes) != 4 {
			return vb, &DecodeError{Field: "vb.data", Offset: off, Err: ErrIPAddress}
		}
	case ObjectIdentifier:
		if vb.OID, _, err = d.oid("vb.data"); err != nil {
			return vb, err
		}
	case Null, NoSuchObject, NoSuchInstance, EndOfMIBView:
	default:
		return vb, &DecodeError{Field: "vb.type", Offset: start, Err: ErrValueType}
	}
	return vb, nil
}

func (d *decoder) varBinds() ([]VarBind, error) {
	var vbs []VarBind
	for d.left() > 0 {
		vb, err := d.varBind()
		if err != nil {
			return vbs, err
		}
		vbs = append(vbs, vb)
	}
	return vbs, nil
}

func (d *decoder) ranges() ([]SearchRange, error) {
	var rs []SearchRange
	if d.rangeBuf != nil {
		rs = (*d.rangeBuf)[:0]
	}
	var err error
	for d.left() > 0 && err == nil {
		var r SearchRange
		if r.Start, r.Include, err = d.oid("sr.start"); err == nil {
			r.End, _, err = d.oid("sr.end")
		}
		if err == nil {
			rs = append(rs, r)
		}
	}
	if d.rangeBuf != nil {
		*d.rangeBuf = rs
	}
	return rs, err
}
