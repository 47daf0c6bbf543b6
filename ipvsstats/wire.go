package ipvsstats

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
)

// Netlink and generic netlink framing. The reader parses replies in place,
// without copying, so that decoding costs no allocation beyond the values
// it keeps.
const (
	nlmsgHdrLen = 16
	genlHdrLen  = 4
	nlaHdrLen   = 4

	nlmsgNoop    = 1
	nlmsgError   = 2
	nlmsgDone    = 3
	nlmsgOverrun = 4

	nlmFRequest  = 0x1
	nlmFMulti    = 0x2
	nlmFAck      = 0x4
	nlmFDumpIntr = 0x10
	nlmFDump     = 0x300 // NLM_F_ROOT|NLM_F_MATCH

	nlaTypeMask = 0x3fff // drops NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

// errMalformed marks a reply the decoder could not make sense of.
var errMalformed = errors.New("malformed IPVS netlink message")

// nlMsg is one netlink message whose data aliases the receive buffer.
type nlMsg struct {
	typ   uint16
	flags uint16
	seq   uint32
	pid   uint32
	data  []byte
}

// nextMsg splits the first netlink message off b.
func nextMsg(b []byte) (nlMsg, []byte, error) {
	if len(b) < nlmsgHdrLen {
		return nlMsg{}, nil, fmt.Errorf("%w: %d bytes left, less than a message header", errMalformed, len(b))
	}
	l := binary.NativeEndian.Uint32(b)
	if l < nlmsgHdrLen || uint64(l) > uint64(len(b)) {
		return nlMsg{}, nil, fmt.Errorf("%w: message length %d with %d bytes left", errMalformed, l, len(b))
	}
	m := nlMsg{
		typ:   binary.NativeEndian.Uint16(b[4:]),
		flags: binary.NativeEndian.Uint16(b[6:]),
		seq:   binary.NativeEndian.Uint32(b[8:]),
		pid:   binary.NativeEndian.Uint32(b[12:]),
		data:  b[nlmsgHdrLen:l],
	}
	next := min(align4(int(l)), len(b))
	return m, b[next:], nil
}

// errno returns the error number carried by an NLMSG_ERROR or NLMSG_DONE
// message (0 is an acknowledgement or a clean end).
func (m nlMsg) errno() (syscall.Errno, error) {
	if len(m.data) < 4 {
		if m.typ == nlmsgDone {
			return 0, nil
		}
		return 0, fmt.Errorf("%w: short error message", errMalformed)
	}
	return syscall.Errno(-int32(binary.NativeEndian.Uint32(m.data))), nil
}

// genlAttrs returns the attributes of a generic netlink message and its
// command.
func genlAttrs(data []byte) (cmd uint8, attrs []byte, err error) {
	if len(data) < genlHdrLen {
		return 0, nil, fmt.Errorf("%w: %d bytes, less than a generic netlink header", errMalformed, len(data))
	}
	return data[0], data[genlHdrLen:], nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// attrs iterates over netlink attributes without copying them. After next
// returns false, err tells whether the input was malformed.
type attrs struct {
	b    []byte
	typ  uint16
	data []byte
	err  error
}

func (a *attrs) next() bool {
	if a.err != nil || len(a.b) == 0 {
		return false
	}
	if len(a.b) < nlaHdrLen {
		a.err = fmt.Errorf("%w: %d trailing bytes, less than an attribute header", errMalformed, len(a.b))
		return false
	}
	l := int(binary.NativeEndian.Uint16(a.b))
	if l < nlaHdrLen || l > len(a.b) {
		a.err = fmt.Errorf("%w: attribute length %d with %d bytes left", errMalformed, l, len(a.b))
		return false
	}
	a.typ = binary.NativeEndian.Uint16(a.b[2:]) & nlaTypeMask
	a.data = a.b[nlaHdrLen:l]
	a.b = a.b[min(align4(l), len(a.b)):]
	return true
}

// Typed views of the current attribute. Each checks the length, recording
// the first mismatch in a.err so that callers check once, after the loop.

// sized returns the attribute's payload when it has n bytes; otherwise it
// records the error and returns n zero bytes, so that typed views need no
// check of their own.
func (a *attrs) sized(n int) []byte {
	if len(a.data) == n {
		return a.data
	}
	if a.err == nil {
		a.err = fmt.Errorf("%w: attribute %d has %d bytes, want %d", errMalformed, a.typ, len(a.data), n)
	}
	return make([]byte, n)
}

func (a *attrs) u8() uint8    { return a.sized(1)[0] }
func (a *attrs) u16() uint16  { return binary.NativeEndian.Uint16(a.sized(2)) }
func (a *attrs) be16() uint16 { return binary.BigEndian.Uint16(a.sized(2)) }
func (a *attrs) u32() uint32  { return binary.NativeEndian.Uint32(a.sized(4)) }
func (a *attrs) u64() uint64  { return binary.NativeEndian.Uint64(a.sized(8)) }

// str returns a NUL-terminated string attribute's bytes without the NUL.
func (a *attrs) str() []byte {
	for i, c := range a.data {
		if c == 0 {
			return a.data[:i]
		}
	}
	return a.data
}

// nested returns an iterator over the current attribute's payload.
func (a *attrs) nested() attrs { return attrs{b: a.data} }

// appendAttr appends one attribute to b.
func appendAttr(b []byte, typ uint16, data ...byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(nlaHdrLen+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
