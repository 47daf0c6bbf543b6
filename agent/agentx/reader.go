package agentx

import (
	"bufio"
	"fmt"
	"io"
)

// Reader frames PDUs from a byte stream. A header may arrive split across
// reads and several PDUs may arrive in one read; Reader buffers as needed.
type Reader struct {
	br      *bufio.Reader
	max     int
	hdr     [HeaderSize]byte
	payload []byte
}

// NewReader returns a Reader that rejects payloads longer than maxPayload
// bytes (DefaultMaxPDUSize when maxPayload <= 0).
func NewReader(r io.Reader, maxPayload int) *Reader {
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPDUSize
	}
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), max: maxPayload}
}

// Next reads the next PDU and returns its header and payload. The payload
// is valid until the next call. An error means the stream cannot be framed
// any further (I/O error, bad version, oversized length) and the
// connection should be dropped; payload errors are left to DecodePayload.
func (r *Reader) Next() (Header, []byte, error) {
	if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
		return Header{}, nil, fmt.Errorf("read header: %w", err)
	}
	h, err := ParseHeader(r.hdr[:], r.max)
	if err != nil {
		return h, nil, err
	}
	n := int(h.PayloadLength)
	if cap(r.payload) < n {
		r.payload = make([]byte, n)
	}
	r.payload = r.payload[:n]
	if _, err := io.ReadFull(r.br, r.payload); err != nil {
		return h, nil, fmt.Errorf("read %s payload of %d bytes: %w", h.Type, n, err)
	}
	return h, r.payload, nil
}

// Ready reports whether a complete PDU is already buffered, so that Next
// will return without reading from the stream.
func (r *Reader) Ready() bool {
	if r.br.Buffered() < HeaderSize {
		return false
	}
	b, err := r.br.Peek(HeaderSize)
	if err != nil {
		return false
	}
	h, err := ParseHeader(b, r.max)
	return err == nil && uint64(r.br.Buffered()) >= HeaderSize+uint64(h.PayloadLength)
}
