package agentx

import (
	"errors"
	"fmt"
)

// Decoding errors; a *DecodeError wraps one of them.
var (
	ErrTruncated   = errors.New("truncated")
	ErrVersion     = errors.New("unsupported AgentX version")
	ErrTooLarge    = errors.New("payload length exceeds the maximum PDU size")
	ErrUnknownType = errors.New("unknown PDU type")
	ErrTrailing    = errors.New("bytes left after the PDU's last field")
	ErrOIDLength   = errors.New("OID has more than 128 sub-identifiers")
	ErrValueType   = errors.New("unknown varbind type")
	ErrIPAddress   = errors.New("IpAddress is not 4 bytes")
	ErrNoContext   = errors.New("context given for a PDU type that has none")
)

// DecodeError reports where and why a PDU could not be decoded.
type DecodeError struct {
	Field  string // the RFC 2741 field being read, e.g. "vb.type"
	Offset int    // byte offset of the field within the header or payload
	Err    error  // one of the Err* values above
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("agentx: decode %s at offset %d: %v", e.Field, e.Offset, e.Err)
}

// Unwrap returns the underlying reason.
func (e *DecodeError) Unwrap() error { return e.Err }

// EncodeError reports a value that cannot be encoded, such as a Counter32
// above 2^32-1 or an IpAddress that is not 4 bytes.
type EncodeError struct {
	Index int // 0-based index of the offending varbind, -1 when not in a list
	Msg   string
}

func (e *EncodeError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("agentx: encode varbind %d: %s", e.Index, e.Msg)
	}
	return "agentx: encode: " + e.Msg
}
