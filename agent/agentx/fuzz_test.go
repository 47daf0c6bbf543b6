package agentx

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	for _, big := range []bool{false, true} {
		for _, pdu := range allPDUs() {
			p := &Packet{PacketID: 1, PDU: pdu}
			if big {
				p.Flags = FlagNetworkByteOrder
			}
			p.HasContext = pdu.Type().hasContext() && big
			b, err := p.Encode()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// FuzzDecode checks that Decode never panics, that what it accepts
// re-encodes to a PDU that decodes to the same value, and that it never
// allocates for a payload longer than the input.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b, 1<<16)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		again, err := p.Encode()
		if err != nil {
			// Decoded values always fit their types, so they encode.
			t.Fatalf("re-encode: %v", err)
		}
		q, err := Decode(again, 1<<16)
		if err != nil {
			t.Fatalf("decode of re-encoding: %v", err)
		}
		if !reflect.DeepEqual(normalize(p.PDU), normalize(q.PDU)) {
			t.Fatalf("round trip changed the PDU: %+v vs %+v", p.PDU, q.PDU)
		}
	})
}

// FuzzDecoder checks that a Decoder, reused across the packets of a
// stream (the input twice over), decodes each as DecodePayload does.
func FuzzDecoder(f *testing.F) {
	fuzzSeeds(f)
	// A request with ranges, then each kind with none: the reused range
	// storage must not make the second differ from a fresh decode (CI's
	// fuzzing found this).
	for _, empty := range []PDU{&Get{}, &GetNext{}, &GetBulk{}} {
		var b []byte
		for _, pdu := range []PDU{&Get{Ranges: []SearchRange{{Start: lvs}}}, empty} {
			e, err := (&Packet{PacketID: 1, PDU: pdu}).Encode()
			if err != nil {
				f.Fatal(err)
			}
			b = append(b, e...)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var dc Decoder
		r := NewReader(bytes.NewReader(append(append([]byte(nil), b...), b...)), 1<<16)
		for range 4 {
			h, payload, err := r.Next()
			if err != nil {
				return
			}
			want, werr := DecodePayload(h, payload)
			got, gerr := dc.Decode(h, payload)
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
				t.Fatalf("Decode error %v, DecodePayload %v", gerr, werr)
			}
			if werr == nil && !reflect.DeepEqual(normalize(want.PDU), normalize(got.PDU)) {
				t.Fatalf("Decode gave %+v, DecodePayload %+v", got.PDU, want.PDU)
			}
			if werr == nil && (want.Flags != got.Flags || want.PacketID != got.PacketID || want.HasContext != got.HasContext ||
				!bytes.Equal(want.Context, got.Context)) {
				t.Fatalf("Decode gave header %+v, DecodePayload %+v", got, want)
			}
		}
	})
}

// FuzzReader feeds arbitrary streams to the framer in small chunks.
func FuzzReader(f *testing.F) {
	fuzzSeeds(f)
	f.Add(bytes.Repeat([]byte{1, 5, 0, 0}, 11))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(&chunkReader{b: b, n: 3}, 4096)
		for range 1000 {
			h, payload, err := r.Next()
			if err != nil {
				return
			}
			if len(payload) != int(h.PayloadLength) || len(payload) > 4096 {
				t.Fatalf("payload %d bytes for length %d", len(payload), h.PayloadLength)
			}
			_, _ = DecodePayload(h, payload)
		}
	})
}
