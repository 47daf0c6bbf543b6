package agentx

import (
	"strconv"
	"strings"
)

// OID is an SNMP object identifier as a sequence of sub-identifiers.
type OID []uint32

// ParseOID parses a dotted OID such as ".1.3.6.1.4.1.8225.4711" (the
// leading dot is optional).
func ParseOID(s string) (OID, error) {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return OID{}, nil
	}
	parts := strings.Split(s, ".")
	o := make(OID, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, &OIDSyntaxError{OID: s, Part: p}
		}
		o[i] = uint32(v)
	}
	return o, nil
}

// OIDSyntaxError reports an OID string that is not dotted decimal.
type OIDSyntaxError struct {
	OID, Part string
}

func (e *OIDSyntaxError) Error() string {
	return "agentx: bad OID " + strconv.Quote(e.OID) + ": sub-identifier " + strconv.Quote(e.Part)
}

// String formats o in dotted form with a leading dot, as net-snmp's -On does.
func (o OID) String() string {
	var b strings.Builder
	for _, v := range o {
		b.WriteByte('.')
		b.WriteString(strconv.FormatUint(uint64(v), 10))
	}
	return b.String()
}

// Compare orders OIDs lexicographically, as SNMP does: -1, 0 or +1.
func (o OID) Compare(p OID) int {
	n := min(len(o), len(p))
	for i := 0; i < n; i++ {
		switch {
		case o[i] < p[i]:
			return -1
		case o[i] > p[i]:
			return 1
		}
	}
	switch {
	case len(o) < len(p):
		return -1
	case len(o) > len(p):
		return 1
	}
	return 0
}

// HasPrefix reports whether p is a prefix of o (or equal to it).
func (o OID) HasPrefix(p OID) bool {
	if len(p) > len(o) {
		return false
	}
	for i := range p {
		if o[i] != p[i] {
			return false
		}
	}
	return true
}

// Type is the type tag of a variable binding (RFC 2741 section 5.4).
type Type uint16

// Variable binding types.
const (
	Integer          Type = 2
	OctetString      Type = 4
	Null             Type = 5
	ObjectIdentifier Type = 6
	IPAddress        Type = 64
	Counter32        Type = 65
	Gauge32          Type = 66
	TimeTicks        Type = 67
	Opaque           Type = 68
	Counter64        Type = 70
	NoSuchObject     Type = 128
	NoSuchInstance   Type = 129
	EndOfMIBView     Type = 130
)

// VarBind is one variable binding. Which value field is meaningful depends
// on Type, so no combination of fields can be of the wrong Go type:
//
//	Integer                          Int (int32 range)
//	Counter32, Gauge32, TimeTicks    Uint (uint32 range)
//	Counter64                        Uint
//	OctetString, Opaque, IPAddress   Bytes (IPAddress: exactly 4 bytes)
//	ObjectIdentifier                 OID
//	Null and the three exceptions    none
type VarBind struct {
	Name  OID
	Type  Type
	Int   int32
	Uint  uint64
	Bytes []byte
	OID   OID
}

var typeNamesVB = map[Type]string{
	Integer: "Integer", OctetString: "OctetString", Null: "Null",
	ObjectIdentifier: "ObjectIdentifier", IPAddress: "IpAddress",
	Counter32: "Counter32", Gauge32: "Gauge32", TimeTicks: "TimeTicks",
	Opaque: "Opaque", Counter64: "Counter64", NoSuchObject: "noSuchObject",
	NoSuchInstance: "noSuchInstance", EndOfMIBView: "endOfMibView",
}

// String returns the SMI name of t.
func (t Type) String() string {
	if s, ok := typeNamesVB[t]; ok {
		return s
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}
