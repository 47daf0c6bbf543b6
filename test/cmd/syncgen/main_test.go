package main

import (
	"encoding/binary"
	"testing"
)

func TestMessage(t *testing.T) {
	for _, tt := range []struct{ i, k int }{{0, 1}, {59999, 2}, {1_000_000, 255}} {
		b := message(nil, 7, tt.i, tt.k, 900)
		if len(b) != mesgHeaderLen+tt.k*connV4Len || int(binary.BigEndian.Uint16(b[2:])) != len(b) {
			t.Fatalf("%+v: %d bytes, size field %d", tt, len(b), binary.BigEndian.Uint16(b[2:]))
		}
		if b[0] != 0 || b[1] != 7 || int(b[4]) != tt.k || b[5] != protoVersion {
			t.Errorf("%+v: header % x", tt, b[:8])
		}
		seen := map[[6]byte]bool{}
		for j := range tt.k {
			c := b[mesgHeaderLen+j*connV4Len:][:connV4Len]
			if c[1] != protoTCP || binary.BigEndian.Uint16(c[2:])&0x0fff != connV4Len ||
				binary.BigEndian.Uint16(c[8:]) != tcpEstablished || binary.BigEndian.Uint32(c[20:]) != 900 {
				t.Errorf("%+v: connection %d: % x", tt, j, c)
			}
			var key [6]byte
			copy(key[:2], c[10:12]) // cport
			copy(key[2:], c[24:28]) // caddr
			if seen[key] {
				t.Errorf("%+v: connection %d repeats client % x", tt, j, key)
			}
			seen[key] = true
		}
	}
	// Consecutive messages never repeat a client either.
	a, b := message(nil, 1, 59990, 10, 1), message(nil, 1, 60000, 10, 1)
	if string(a[mesgHeaderLen+10:mesgHeaderLen+12]) == string(b[mesgHeaderLen+10:mesgHeaderLen+12]) &&
		string(a[mesgHeaderLen+24:mesgHeaderLen+28]) == string(b[mesgHeaderLen+24:mesgHeaderLen+28]) {
		t.Errorf("connections 59990 and 60000 share a client")
	}
}
