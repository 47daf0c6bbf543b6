package agentx

// SearchRange is a GetNext/GetBulk search range (RFC 2741 section 5.2):
// names greater than Start (or equal when Include is set) and less than End;
// an empty End means no upper bound. Get uses only Start.
type SearchRange struct {
	Start   OID
	Include bool
	End     OID
}

// PDU is the payload of one AgentX PDU; the concrete types below are the
// PDUs of RFC 2741 section 6.2.
type PDU interface {
	Type() PDUType
	appendPayload(b []byte, big bool) ([]byte, error)
	decode(d *decoder) error
}

// CloseReason is the reason field of a Close PDU.
type CloseReason uint8

// Close reasons of RFC 2741 section 6.2.2.
const (
	ReasonOther         CloseReason = 1
	ReasonParseError    CloseReason = 2
	ReasonProtocolError CloseReason = 3
	ReasonTimeouts      CloseReason = 4
	ReasonShutdown      CloseReason = 5
	ReasonByManager     CloseReason = 6
)

// ErrorStatus is res.error of a Response PDU: an SNMP error status or one
// of the AgentX errors of RFC 2741 section 6.2.16.
type ErrorStatus uint16

// Error statuses used by subagents and master agents.
const (
	NoError               ErrorStatus = 0
	GenErr                ErrorStatus = 5
	NoAccess              ErrorStatus = 6
	WrongType             ErrorStatus = 7
	WrongLength           ErrorStatus = 8
	WrongValue            ErrorStatus = 10
	NoCreation            ErrorStatus = 11
	InconsistentValue     ErrorStatus = 12
	ResourceUnavailable   ErrorStatus = 13
	CommitFailed          ErrorStatus = 14
	UndoFailed            ErrorStatus = 15
	NotWritable           ErrorStatus = 17
	OpenFailed            ErrorStatus = 256
	NotOpen               ErrorStatus = 257
	IndexWrongType        ErrorStatus = 258
	IndexAlreadyAllocated ErrorStatus = 259
	IndexNoneAvailable    ErrorStatus = 260
	IndexNotAllocated     ErrorStatus = 261
	UnsupportedContext    ErrorStatus = 262
	DuplicateRegistration ErrorStatus = 263
	UnknownRegistration   ErrorStatus = 264
	UnknownAgentCaps      ErrorStatus = 265
	ParseError            ErrorStatus = 266
	RequestDenied         ErrorStatus = 267
	ProcessingError       ErrorStatus = 268
)

// Open is agentx-Open-PDU.
type Open struct {
	Timeout     uint8 // seconds; 0 lets the master use its default
	ID          OID
	Description []byte
}

// Close is agentx-Close-PDU.
type Close struct{ Reason CloseReason }

// Register is agentx-Register-PDU. UpperBound is used when RangeSubID is
// not zero.
type Register struct {
	Timeout    uint8
	Priority   uint8
	RangeSubID uint8
	Subtree    OID
	UpperBound uint32
}

// Unregister is agentx-Unregister-PDU.
type Unregister struct {
	Priority   uint8
	RangeSubID uint8
	Subtree    OID
	UpperBound uint32
}

// Get is agentx-Get-PDU.
type Get struct{ Ranges []SearchRange }

// GetNext is agentx-GetNext-PDU.
type GetNext struct{ Ranges []SearchRange }

// GetBulk is agentx-GetBulk-PDU.
type GetBulk struct {
	NonRepeaters   uint16
	MaxRepetitions uint16
	Ranges         []SearchRange
}

// TestSet is agentx-TestSet-PDU.
type TestSet struct{ VarBinds []VarBind }

// CommitSet is agentx-CommitSet-PDU (header only).
type CommitSet struct{}

// UndoSet is agentx-UndoSet-PDU (header only).
type UndoSet struct{}

// CleanupSet is agentx-CleanupSet-PDU (header only).
type CleanupSet struct{}

// Notify is agentx-Notify-PDU.
type Notify struct{ VarBinds []VarBind }

// Ping is agentx-Ping-PDU.
type Ping struct{}

// IndexAllocate is agentx-IndexAllocate-PDU.
type IndexAllocate struct{ VarBinds []VarBind }

// IndexDeallocate is agentx-IndexDeallocate-PDU.
type IndexDeallocate struct{ VarBinds []VarBind }

// AddAgentCaps is agentx-AddAgentCaps-PDU.
type AddAgentCaps struct {
	ID          OID
	Description []byte
}

// RemoveAgentCaps is agentx-RemoveAgentCaps-PDU.
type RemoveAgentCaps struct{ ID OID }

// Response is agentx-Response-PDU. Index is 1-based; 0 when no varbind is
// at fault.
type Response struct {
	SysUpTime uint32 // centiseconds
	Error     ErrorStatus
	Index     uint16
	VarBinds  []VarBind
}

// Type implementations.
func (*Open) Type() PDUType            { return TypeOpen }
func (*Close) Type() PDUType           { return TypeClose }
func (*Register) Type() PDUType        { return TypeRegister }
func (*Unregister) Type() PDUType      { return TypeUnregister }
func (*Get) Type() PDUType             { return TypeGet }
func (*GetNext) Type() PDUType         { return TypeGetNext }
func (*GetBulk) Type() PDUType         { return TypeGetBulk }
func (*TestSet) Type() PDUType         { return TypeTestSet }
func (*CommitSet) Type() PDUType       { return TypeCommitSet }
func (*UndoSet) Type() PDUType         { return TypeUndoSet }
func (*CleanupSet) Type() PDUType      { return TypeCleanupSet }
func (*Notify) Type() PDUType          { return TypeNotify }
func (*Ping) Type() PDUType            { return TypePing }
func (*IndexAllocate) Type() PDUType   { return TypeIndexAllocate }
func (*IndexDeallocate) Type() PDUType { return TypeIndexDeallocate }
func (*AddAgentCaps) Type() PDUType    { return TypeAddAgentCaps }
func (*RemoveAgentCaps) Type() PDUType { return TypeRemoveAgentCaps }
func (*Response) Type() PDUType        { return TypeResponse }

func (p *Open) appendPayload(b []byte, big bool) ([]byte, error) {
	b = append(b, p.Timeout, 0, 0, 0)
	b, err := appendOID(b, p.ID, false, big)
	return appendOctets(b, p.Description, big), err
}

func (p *Open) decode(d *decoder) (err error) {
	if err = d.need(4, "o.timeout"); err != nil {
		return err
	}
	p.Timeout = d.u8()
	d.off += 3
	if p.ID, _, err = d.oid("o.id"); err != nil {
		return err
	}
	p.Description, err = d.octets("o.descr")
	return err
}

func (p *Close) appendPayload(b []byte, _ bool) ([]byte, error) {
	return append(b, byte(p.Reason), 0, 0, 0), nil
}

func (p *Close) decode(d *decoder) error {
	if err := d.need(4, "c.reason"); err != nil {
		return err
	}
	p.Reason = CloseReason(d.u8())
	d.off += 3
	return nil
}

func appendRegion(b []byte, rangeSubID uint8, subtree OID, upper uint32, big bool) ([]byte, error) {
	b, err := appendOID(b, subtree, false, big)
	if rangeSubID != 0 {
		b = put32(b, upper, big)
	}
	return b, err
}

func decodeRegion(d *decoder, rangeSubID uint8) (OID, uint32, error) {
	subtree, _, err := d.oid("r.subtree")
	if err != nil || rangeSubID == 0 {
		return subtree, 0, err
	}
	if err := d.need(4, "r.upper_bound"); err != nil {
		return subtree, 0, err
	}
	return subtree, d.u32(), nil
}

func (p *Register) appendPayload(b []byte, big bool) ([]byte, error) {
	b = append(b, p.Timeout, p.Priority, p.RangeSubID, 0)
	return appendRegion(b, p.RangeSubID, p.Subtree, p.UpperBound, big)
}

func (p *Register) decode(d *decoder) (err error) {
	if err = d.need(4, "r.timeout"); err != nil {
		return err
	}
	p.Timeout, p.Priority, p.RangeSubID = d.u8(), d.u8(), d.u8()
	d.off++
	p.Subtree, p.UpperBound, err = decodeRegion(d, p.RangeSubID)
	return err
}

func (p *Unregister) appendPayload(b []byte, big bool) ([]byte, error) {
	b = append(b, 0, p.Priority, p.RangeSubID, 0)
	return appendRegion(b, p.RangeSubID, p.Subtree, p.UpperBound, big)
}

func (p *Unregister) decode(d *decoder) (err error) {
	if err = d.need(4, "u.priority"); err != nil {
		return err
	}
	d.off++
	p.Priority, p.RangeSubID = d.u8(), d.u8()
	d.off++
	p.Subtree, p.UpperBound, err = decodeRegion(d, p.RangeSubID)
	return err
}

func (p *Get) appendPayload(b []byte, big bool) ([]byte, error) {
	return appendRanges(b, p.Ranges, big)
}

func (p *Get) decode(d *decoder) (err error) {
	p.Ranges, err = d.ranges()
	return err
}

func (p *GetNext) appendPayload(b []byte, big bool) ([]byte, error) {
	return appendRanges(b, p.Ranges, big)
}

func (p *GetNext) decode(d *decoder) (err error) {
	p.Ranges, err = d.ranges()
	return err
}

func (p *GetBulk) appendPayload(b []byte, big bool) ([]byte, error) {
	b = put16(b, p.NonRepeaters, big)
	b = put16(b, p.MaxRepetitions, big)
	return appendRanges(b, p.Ranges, big)
}

func (p *GetBulk) decode(d *decoder) (err error) {
	if err = d.need(4, "g.non_repeaters"); err != nil {
		return err
	}
	p.NonRepeaters, p.MaxRepetitions = d.u16(), d.u16()
	p.Ranges, err = d.ranges()
	return err
}

func (p *TestSet) appendPayload(b []byte, big bool) ([]byte, error) {
	return appendVarBinds(b, p.VarBinds, big)
}

func (p *TestSet) decode(d *decoder) (err error) {
	p.VarBinds, err = d.varBinds()
	return err
}

func (*CommitSet) appendPayload(b []byte, _ bool) ([]byte, error)  { return b, nil }
func (*CommitSet) decode(*decoder) error                           { return nil }
func (*UndoSet) appendPayload(b []byte, _ bool) ([]byte, error)    { return b, nil }
func (*UndoSet) decode(*decoder) error                             { return nil }
func (*CleanupSet) appendPayload(b []byte, _ bool) ([]byte, error) { return b, nil }
func (*CleanupSet) decode(*decoder) error                          { return nil }
func (*Ping) appendPayload(b []byte, _ bool) ([]byte, error)       { return b, nil }
func (*Ping) decode(*decoder) error                                { return nil }

func (p *Notify) appendPayload(b []byte, big bool) ([]byte, error) {
	return appendVarBinds(b, p.VarBinds, big)
}

func (p *Notify) decode(d *decoder) (err error) {
	p.VarBinds, err = d.varBinds()
	return err
}

func (p *IndexAllocate) appendPayload(b []byte, big bool) ([]byte, error) {
	return appendVarBinds(b, p.VarBinds, big)
}

func (p *IndexAllocate) decode(d *decoder) (err error) {
	p.VarBinds, err = d.varBinds()
	return err
}

func (p *IndexDeallocate) appendPayload(b []byte, big bool) ([]byte, error) {
	return appendVarBinds(b, p.VarBinds, big)
}

func (p *IndexDeallocate) decode(d *decoder) (err error) {
	p.VarBinds, err = d.varBinds()
	return err
}

func (p *AddAgentCaps) appendPayload(b []byte, big bool) ([]byte, error) {
	b, err := appendOID(b, p.ID, false, big)
	return appendOctets(b, p.Description, big), err
}

func (p *AddAgentCaps) decode(d *decoder) (err error) {
	if p.ID, _, err = d.oid("a.id"); err != nil {
		return err
	}
	p.Description, err = d.octets("a.descr")
	return err
}

func (p *RemoveAgentCaps) appendPayload(b []byte, big bool) ([]byte, error) {
	return appendOID(b, p.ID, false, big)
}

func (p *RemoveAgentCaps) decode(d *decoder) (err error) {
	p.ID, _, err = d.oid("a.id")
	return err
}

func (p *Response) appendPayload(b []byte, big bool) ([]byte, error) {
	b = put32(b, p.SysUpTime, big)
	b = put16(b, uint16(p.Error), big)
	b = put16(b, p.Index, big)
	return appendVarBinds(b, p.VarBinds, big)
}

func (p *Response) decode(d *decoder) (err error) {
	if err = d.need(8, "res.sysUpTime"); err != nil {
		return err
	}
	p.SysUpTime = d.u32()
	p.Error = ErrorStatus(d.u16())
	p.Index = d.u16()
	p.VarBinds, err = d.varBinds()
	return err
}

// newPDU returns an empty PDU of type t, or nil when t is unknown.
func newPDU(t PDUType) PDU {
	switch t {
	case TypeOpen:
		return &Open{}
	case TypeClose:
		return &Close{}
	case TypeRegister:
		return &Register{}
	case TypeUnregister:
		return &Unregister{}
	case TypeGet:
		return &Get{}
	case TypeGetNext:
		return &GetNext{}
	case TypeGetBulk:
		return &GetBulk{}
	case TypeTestSet:
		return &TestSet{}
	case TypeCommitSet:
		return &CommitSet{}
	case TypeUndoSet:
		return &UndoSet{}
	case TypeCleanupSet:
		return &CleanupSet{}
	case TypeNotify:
		return &Notify{}
	case TypePing:
		return &Ping{}
	case TypeIndexAllocate:
		return &IndexAllocate{}
	case TypeIndexDeallocate:
		return &IndexDeallocate{}
	case TypeAddAgentCaps:
		return &AddAgentCaps{}
	case TypeRemoveAgentCaps:
		return &RemoveAgentCaps{}
	case TypeResponse:
		return &Response{}
	}
	return nil
}
