package agentx

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

var lvs = mustParseOID("1.3.6.1.4.1.8225.4711")

func allVarBinds() []VarBind {
	n := lvs
	return []VarBind{
		{Name: append(n, 1), Type: Integer, Int: -42},
		{Name: append(n, 2), Type: OctetString, Bytes: []byte("hello")},
		{Name: append(n, 3), Type: OctetString, Bytes: []byte{}},
		{Name: append(n, 4), Type: Null},
		{Name: append(n, 5), Type: ObjectIdentifier, OID: mustParseOID("1.3.6.1.2.1.1")},
		{Name: append(n, 6), Type: IPAddress, Bytes: []byte{10, 0, 0, 1}},
		{Name: append(n, 7), Type: Counter32, Uint: 4294967295},
		{Name: append(n, 8), Type: Gauge32, Uint: 7},
		{Name: append(n, 9), Type: TimeTicks, Uint: 12345},
		{Name: append(n, 10), Type: Opaque, Bytes: []byte{1, 2, 3, 4, 5, 6, 7}},
		{Name: append(n, 11), Type: Counter64, Uint: 1<<64 - 2},
		{Name: append(n, 12), Type: NoSuchObject},
		{Name: append(n, 13), Type: NoSuchInstance},
		{Name: append(n, 14), Type: EndOfMIBView},
		{Name: mustParseOID("1.2.840.10006"), Type: ObjectIdentifier, OID: OID{}},
	}
}

func allPDUs() []PDU {
	rs := []SearchRange{
		{Start: append(OID{}, lvs...), Include: true, End: mustParseOID("1.3.6.1.4.1.8225.4712")},
		{Start: mustParseOID("1.3.6.1.4.1.8225.4711.1.1"), Include: false},
		{Start: mustParseOID("0.0")},
	}
	return []PDU{
		&Open{Timeout: 5, ID: lvs, Description: []byte("lvs-agentx")},
		&Close{Reason: ReasonShutdown},
		&Register{Timeout: 0, Priority: 127, Subtree: lvs},
		&Register{Priority: 1, RangeSubID: 9, Subtree: lvs, UpperBound: 99},
		&Unregister{Priority: 127, Subtree: lvs},
		&Unregister{Priority: 127, RangeSubID: 8, Subtree: lvs, UpperBound: 4712},
		&Get{Ranges: rs},
		&GetNext{Ranges: rs},
		&GetBulk{NonRepeaters: 1, MaxRepetitions: 10, Ranges: rs},
		&TestSet{VarBinds: allVarBinds()},
		&CommitSet{}, &UndoSet{}, &CleanupSet{}, &Ping{},
		&Notify{VarBinds: allVarBinds()},
		&IndexAllocate{VarBinds: allVarBinds()[:2]},
		&IndexDeallocate{VarBinds: allVarBinds()[:2]},
		&AddAgentCaps{ID: lvs, Description: []byte("caps!")},
		&RemoveAgentCaps{ID: lvs},
		&Response{SysUpTime: 360000, Error: NotWritable, Index: 1, VarBinds: allVarBinds()},
		&Response{},
	}
}

// normalize maps empty slices to nil so reflect.DeepEqual compares values.
func normalize(p PDU) PDU {
	v := reflect.ValueOf(p).Elem()
	var walk func(reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Slice:
			if v.Len() == 0 {
				v.Set(reflect.Zero(v.Type()))
				return
			}
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i))
			}
		}
	}
	walk(v)
	return p
}

func TestRoundTrip(t *testing.T) {
	for _, big := range []bool{false, true} {
		for _, ctx := range []bool{false, true} {
			for _, pdu := range allPDUs() {
				if ctx && !pdu.Type().hasContext() {
					continue
				}
				p := &Packet{SessionID: 7, TransactionID: 8, PacketID: 9, PDU: pdu}
				if big {
					p.Flags |= FlagNetworkByteOrder
				}
				if ctx {
					p.HasContext, p.Context = true, []byte("ctx")
				}
				b, err := p.Encode()
				if err != nil {
					t.Fatalf("%s big=%v: encode: %v", pdu.Type(), big, err)
				}
				if len(b)%4 != 0 {
					t.Errorf("%s: length %d not 4-aligned", pdu.Type(), len(b))
				}
				q, err := Decode(b, 0)
				if err != nil {
					t.Fatalf("%s big=%v ctx=%v: decode: %v", pdu.Type(), big, ctx, err)
				}
				if q.SessionID != 7 || q.TransactionID != 8 || q.PacketID != 9 || q.HasContext != ctx {
					t.Errorf("%s: header fields %+v", pdu.Type(), q)
				}
				if ctx && string(q.Context) != "ctx" {
					t.Errorf("%s: context %q", pdu.Type(), q.Context)
				}
				if got, want := normalize(q.PDU), normalize(pdu); !reflect.DeepEqual(got, want) {
					t.Errorf("%s big=%v: got %+v, want %+v", pdu.Type(), big, got, want)
				}
			}
		}
	}
}

func TestKnownEncodings(t *testing.T) {
	// Bytes written out by hand from RFC 2741 sections 5 and 6.
	tests := []struct {
		name string
		p    Packet
		want []byte
	}{{
		name: "ping little-endian",
		p:    Packet{SessionID: 1, PacketID: 2, PDU: &Ping{}},
		want: []byte{1, 13, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0},
	}, {
		name: "response big-endian, prefix-compressed name, padded string",
		p: Packet{Flags: FlagNetworkByteOrder, PacketID: 3, PDU: &Response{SysUpTime: 258, Error: NotWritable, Index: 1,
			VarBinds: []VarBind{{Name: mustParseOID("1.3.6.1.2.1.1.1.0"), Type: OctetString, Bytes: []byte("ab")}}}},
		want: []byte{1, 18, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 40,
			0, 0, 1, 2, 0, 17, 0, 1,
			0, 4, 0, 0, 4, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0,
			0, 0, 0, 2, 'a', 'b', 0, 0},
	}, {
		name: "getnext with context and include",
		p: Packet{Flags: FlagNetworkByteOrder, HasContext: true, Context: []byte("x"),
			PDU: &GetNext{Ranges: []SearchRange{{Start: OID{1, 3, 6, 1, 4, 1}, Include: true}}}},
		want: []byte{1, 6, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20,
			0, 0, 0, 1, 'x', 0, 0, 0,
			1, 4, 1, 0, 0, 0, 0, 1,
			0, 0, 0, 0},
	}}
	for _, tt := range tests {
		got, err := tt.p.Encode()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.name, got, tt.want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		vb    VarBind
		index int
	}{
		{"counter32 overflow", VarBind{Name: lvs, Type: Counter32, Uint: 1 << 32}, 1},
		{"ipv6 as IpAddress", VarBind{Name: lvs, Type: IPAddress, Bytes: make([]byte, 16)}, 1},
		{"unknown type", VarBind{Name: lvs, Type: 99}, 1},
		{"long name", VarBind{Name: make(OID, 129), Type: Null}, 1},
	}
	for _, tt := range tests {
		p := &Packet{PDU: &Response{VarBinds: []VarBind{{Name: lvs, Type: Null}, tt.vb}}}
		b, err := p.AppendTo([]byte{9})
		var ee *EncodeError
		if !errors.As(err, &ee) || ee.Index != tt.index {
			t.Errorf("%s: err %v, want EncodeError index %d", tt.name, err, tt.index)
		}
		if len(b) != 1 {
			t.Errorf("%s: buffer not restored: %d bytes", tt.name, len(b))
		}
	}
	if _, err := (&Packet{HasContext: true, PDU: &Response{}}).Encode(); err == nil {
		t.Error("context on Response encoded")
	}
}

func TestDecodeErrors(t *testing.T) {
	good, _ := (&Packet{PDU: &Response{VarBinds: allVarBinds()[:3]}}).Encode()
	hdr := func(typ byte, flags byte, n uint32) []byte {
		return []byte{1, typ, flags, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"short header", good[:10], ErrTruncated},
		{"version 2", append([]byte{2}, good[1:]...), ErrVersion},
		{"huge length", hdr(18, 0, 1<<30), ErrTooLarge},
		{"huge length big-endian", []byte{1, 18, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0}, ErrTooLarge},
		{"payload truncated", good[:len(good)-4], ErrTruncated},
		{"trailing bytes", append(append([]byte{}, good...), 0, 0, 0, 0), ErrTrailing},
		{"unknown type", hdr(99, 0, 0), ErrUnknownType},
		{"context on Response", append(hdr(18, 0x08, 4), 0, 0, 0, 0), ErrNoContext},
		{"oid too long", append(hdr(5, 0, 8), 200, 0, 0, 0, 0, 0, 0, 0), ErrOIDLength},
		{"oid truncated", append(hdr(5, 0, 8), 3, 0, 0, 0, 0, 0, 0, 0), ErrTruncated},
		{"string longer than payload", append(hdr(1, 0, 12), 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff), ErrTruncated},
		{"bad varbind type", append(hdr(8, 0, 8), 99, 0, 0, 0, 0, 0, 0, 0), ErrValueType},
		{"ipaddress of 16 bytes", append(append(hdr(8, 0, 28), 64, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0), make([]byte, 16)...), ErrIPAddress},
		{"getbulk without fields", hdr(7, 0, 0), ErrTruncated},
		{"close without reason", hdr(2, 0, 0), ErrTruncated},
		{"unaligned", append(hdr(13, 0, 1), 0), ErrTrailing},
	}
	for _, tt := range tests {
		_, err := Decode(tt.b, 1<<16)
		var de *DecodeError
		if !errors.Is(err, tt.want) || !errors.As(err, &de) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestReaderFraming(t *testing.T) {
	var stream []byte
	var want []uint32
	for i := uint32(1); i <= 5; i++ {
		p := &Packet{PacketID: i, PDU: &GetNext{}}
		if i == 3 { // a PDU well over 4 KB
			rs := make([]SearchRange, 300)
			for j := range rs {
				rs[j] = SearchRange{Start: append(append(OID{}, lvs...), uint32(j))}
			}
			p.PDU = &GetNext{Ranges: rs}
		}
		if i%2 == 0 {
			p.Flags = FlagNetworkByteOrder
		}
		stream, _ = p.AppendTo(stream)
		want = append(want, i)
	}
	// Deliver one byte at a time, then everything at once.
	for _, chunk := range []int{1, 7, len(stream)} {
		r := NewReader(&chunkReader{b: stream, n: chunk}, 0)
		for _, id := range want {
			h, payload, err := r.Next()
			if err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
			p, err := DecodePayload(h, payload)
			if err != nil || p.PacketID != id {
				t.Fatalf("chunk %d: packet %d: %v %+v", chunk, id, err, p)
			}
			if id == 3 && len(p.PDU.(*GetNext).Ranges) != 300 {
				t.Fatalf("big PDU has %d ranges", len(p.PDU.(*GetNext).Ranges))
			}
		}
		if _, _, err := r.Next(); err == nil {
			t.Fatalf("chunk %d: no error at end of stream", chunk)
		}
	}
}

func TestReaderRejectsOversized(t *testing.T) {
	b, _ := (&Packet{PDU: &GetNext{Ranges: []SearchRange{{Start: lvs}}}}).Encode()
	_, _, err := NewReader(bytes.NewReader(b), 8).Next()
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v, want ErrTooLarge", err)
	}
}

type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, errEOF
	}
	n := min(len(p), c.n, len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

var errEOF = errors.New("EOF")

// mustParseOID parses an OID the test spells out.
func mustParseOID(s string) OID {
	o, err := ParseOID(s)
	if err != nil {
		panic(err)
	}
	return o
}
