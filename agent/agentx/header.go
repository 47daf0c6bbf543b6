package agentx

import "encoding/binary"

// Version is the only AgentX protocol version (h.version).
const Version = 1

// HeaderSize is the length of the fixed AgentX header in bytes.
const HeaderSize = 20

// DefaultMaxPDUSize bounds the payload a Reader accepts when none is given.
// A GetNext of a full SNMP message's worth of OIDs stays far below it.
const DefaultMaxPDUSize = 1 << 20

// MaxSubIDs is the largest n_subid RFC 2741 section 5.1 allows.
const MaxSubIDs = 128

// PDUType is h.type, the kind of an AgentX PDU.
type PDUType uint8

// PDU types of RFC 2741 section 6.1.
const (
	TypeOpen            PDUType = 1
	TypeClose           PDUType = 2
	TypeRegister        PDUType = 3
	TypeUnregister      PDUType = 4
	TypeGet             PDUType = 5
	TypeGetNext         PDUType = 6
	TypeGetBulk         PDUType = 7
	TypeTestSet         PDUType = 8
	TypeCommitSet       PDUType = 9
	TypeUndoSet         PDUType = 10
	TypeCleanupSet      PDUType = 11
	TypeNotify          PDUType = 12
	TypePing            PDUType = 13
	TypeIndexAllocate   PDUType = 14
	TypeIndexDeallocate PDUType = 15
	TypeAddAgentCaps    PDUType = 16
	TypeRemoveAgentCaps PDUType = 17
	TypeResponse        PDUType = 18
)

var typeNames = [...]string{
	TypeOpen: "Open", TypeClose: "Close", TypeRegister: "Register",
	TypeUnregister: "Unregister", TypeGet: "Get", TypeGetNext: "GetNext",
	TypeGetBulk: "GetBulk", TypeTestSet: "TestSet", TypeCommitSet: "CommitSet",
	TypeUndoSet: "UndoSet", TypeCleanupSet: "CleanupSet", TypeNotify: "Notify",
	TypePing: "Ping", TypeIndexAllocate: "IndexAllocate",
	TypeIndexDeallocate: "IndexDeallocate", TypeAddAgentCaps: "AddAgentCaps",
	TypeRemoveAgentCaps: "RemoveAgentCaps", TypeResponse: "Response",
}

// Known reports whether t is one of the PDU types of RFC 2741.
func (t PDUType) Known() bool { return t >= TypeOpen && t <= TypeResponse }

// String returns the RFC 2741 name of t without the "agentx-" prefix.
func (t PDUType) String() string {
	if t.Known() {
		return typeNames[t]
	}
	return "Unknown(" + itoa(uint64(t)) + ")"
}

// hasContext reports whether PDUs of type t carry an optional context
// (RFC 2741 section 6.1.1).
func (t PDUType) hasContext() bool {
	switch t {
	case TypeRegister, TypeUnregister, TypeGet, TypeGetNext, TypeGetBulk,
		TypeTestSet, TypeNotify, TypePing, TypeIndexAllocate,
		TypeIndexDeallocate, TypeAddAgentCaps, TypeRemoveAgentCaps:
		return true
	}
	return false
}

// Flags is h.flags.
type Flags uint8

// Header flags of RFC 2741 section 6.1.
const (
	FlagInstanceRegistration Flags = 0x01
	FlagNewIndex             Flags = 0x02
	FlagAnyIndex             Flags = 0x04
	FlagNonDefaultContext    Flags = 0x08
	FlagNetworkByteOrder     Flags = 0x10
)

// Header is the fixed 20-byte AgentX header.
type Header struct {
	Version       uint8
	Type          PDUType
	Flags         Flags
	SessionID     uint32
	TransactionID uint32
	PacketID      uint32
	PayloadLength uint32
}

// BigEndian reports whether the PDU's multi-byte fields are in network
// byte order.
func (h Header) BigEndian() bool { return h.Flags&FlagNetworkByteOrder != 0 }

// ParseHeader decodes the header at the start of b. It checks the version
// and that the payload length does not exceed maxPayload (DefaultMaxPDUSize
// when maxPayload <= 0); the PDU type is not checked so that a caller can
// still answer a PDU of an unknown type.
func ParseHeader(b []byte, maxPayload int) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, &DecodeError{Field: "header", Offset: len(b), Err: ErrTruncated}
	}
	h := Header{Version: b[0], Type: PDUType(b[1]), Flags: Flags(b[2])}
	if h.Version != Version {
		return h, &DecodeError{Field: "h.version", Offset: 0, Err: ErrVersion}
	}
	var o binary.ByteOrder = binary.LittleEndian
	if h.BigEndian() {
		o = binary.BigEndian
	}
	h.SessionID = o.Uint32(b[4:])
	h.TransactionID = o.Uint32(b[8:])
	h.PacketID = o.Uint32(b[12:])
	h.PayloadLength = o.Uint32(b[16:])
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPDUSize
	}
	if uint64(h.PayloadLength) > uint64(maxPayload) {
		return h, &DecodeError{Field: "h.payload_length", Offset: 16, Err: ErrTooLarge}
	}
	return h, nil
}

// appendHeader appends h in the byte order its flags select.
func appendHeader(b []byte, h Header) []byte {
	b = append(b, h.Version, byte(h.Type), byte(h.Flags), 0)
	big := h.BigEndian()
	b = put32(b, h.SessionID, big)
	b = put32(b, h.TransactionID, big)
	b = put32(b, h.PacketID, big)
	return put32(b, h.PayloadLength, big)
}

func itoa(v uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(buf[i:])
		}
	}
}
