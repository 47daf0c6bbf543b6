package ipvsstats

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Attribute numbers of include/uapi/linux/ip_vs.h.
const (
	cmdNewService = 1
	cmdGetService = 4
	cmdNewDest    = 5
	cmdSetDest    = 6
	cmdGetDest    = 8
	cmdNewDaemon  = 9
	cmdGetDaemon  = 11
	cmdSetConfig  = 12
	cmdGetConfig  = 13
	cmdSetInfo    = 14
	cmdGetInfo    = 15

	attrCmdService    = 1
	attrCmdDest       = 2
	attrCmdDaemon     = 3
	attrCmdTimeoutTCP = 4
	attrCmdTimeoutFin = 5
	attrCmdTimeoutUDP = 6

	attrSvcAF        = 1
	attrSvcProtocol  = 2
	attrSvcAddr      = 3
	attrSvcPort      = 4
	attrSvcFWMark    = 5
	attrSvcSchedName = 6
	attrSvcFlags     = 7
	attrSvcTimeout   = 8
	attrSvcNetmask   = 9
	attrSvcStats     = 10
	attrSvcPEName    = 11
	attrSvcStats64   = 12

	attrDestAddr         = 1
	attrDestPort         = 2
	attrDestFwdMethod    = 3
	attrDestWeight       = 4
	attrDestUThresh      = 5
	attrDestLThresh      = 6
	attrDestActiveConns  = 7
	attrDestInactConns   = 8
	attrDestPersistConns = 9
	attrDestStats        = 10
	attrDestAddrFamily   = 11
	attrDestStats64      = 12
	attrDestTunType      = 13
	attrDestTunPort      = 14
	attrDestTunFlags     = 15

	attrDaemonState      = 1
	attrDaemonMcastIfn   = 2
	attrDaemonSyncID     = 3
	attrDaemonSyncMaxLen = 4
	attrDaemonMcastGroup = 5
	attrDaemonMcastGrp6  = 6
	attrDaemonMcastPort  = 7
	attrDaemonMcastTTL   = 8

	attrStatsConns    = 1
	attrStatsInPkts   = 2
	attrStatsOutPkts  = 3
	attrStatsInBytes  = 4
	attrStatsOutBytes = 5
	attrStatsCPS      = 6
	attrStatsInPPS    = 7
	attrStatsOutPPS   = 8
	attrStatsInBPS    = 9
	attrStatsOutBPS   = 10

	attrInfoVersion     = 1
	attrInfoConnTabSize = 2

	fwdMask = 0x7 // IP_VS_CONN_F_FWD_MASK
)

// decodeFlat decodes attributes b that are the fields of a T: set stores
// the one a points at in v. what names the T in errors.
func decodeFlat[T any](b []byte, what string, set func(v *T, a *attrs)) (T, error) {
	var v T
	a := attrs{b: b}
	for a.next() {
		set(&v, &a)
	}
	if a.err != nil {
		return *new(T), fmt.Errorf("%s: %w", what, a.err)
	}
	return v, nil
}

// decodeInfo decodes the attributes of a GET_INFO reply.
func decodeInfo(b []byte) (Info, error) {
	return decodeFlat(b, "info", func(info *Info, a *attrs) {
		switch a.typ {
		case attrInfoVersion:
			info.VersionCode = a.u32()
		case attrInfoConnTabSize:
			info.ConnTableSize = a.u32()
		}
	})
}

// decodeConfig decodes the attributes of a GET_CONFIG reply.
func decodeConfig(b []byte) (Timeouts, error) {
	return decodeFlat(b, "config", func(t *Timeouts, a *attrs) {
		switch a.typ {
		case attrCmdTimeoutTCP:
			t.TCP = a.u32()
		case attrCmdTimeoutFin:
			t.TCPFin = a.u32()
		case attrCmdTimeoutUDP:
			t.UDP = a.u32()
		}
	})
}

// decodeMessage passes the payload of each attribute typ of a dump
// message's attributes b to fn, and fails when there is none; what names
// the message in errors.
func decodeMessage(b []byte, typ uint16, what string, fn func(payload []byte) error) error {
	var found bool
	a := attrs{b: b}
	for a.next() {
		if a.typ != typ {
			continue
		}
		found = true
		if err := fn(a.data); err != nil {
			return err
		}
	}
	if a.err != nil {
		return fmt.Errorf("%s: %w", what, a.err)
	}
	if !found {
		return fmt.Errorf("%s: %w: no %s attribute", what, errMalformed, what)
	}
	return nil
}

// decodeDaemon decodes the attributes of one GET_DAEMON dump message.
func decodeDaemon(b []byte) (Daemon, error) {
	var d Daemon
	err := decodeMessage(b, attrCmdDaemon, "daemon", func(p []byte) (err error) {
		d, err = decodeFlat(p, "daemon", setDaemon)
		return err
	})
	return d, err
}

// setDaemon stores one sync daemon attribute in d.
func setDaemon(d *Daemon, a *attrs) {
	switch a.typ {
	case attrDaemonState:
		d.State = DaemonState(a.u32())
	case attrDaemonMcastIfn:
		d.Interface = string(a.str())
	case attrDaemonSyncID:
		d.SyncID = a.u32()
	case attrDaemonSyncMaxLen:
		d.MaxLen = a.u16()
	case attrDaemonMcastGroup:
		d.Group = addr(a, FamilyIPv4)
	case attrDaemonMcastGrp6:
		d.Group = addr(a, FamilyIPv6)
	case attrDaemonMcastPort:
		d.Port = a.u16()
	case attrDaemonMcastTTL:
		d.TTL = a.u8()
	}
}

// decodeService decodes the attributes of one GET_SERVICE dump message.
//
// It and decodeDest allocate nothing: they run once per row of a read.
func decodeService(b []byte) (Service, error) {
	var s Service
	if err := decodeMessage(b, attrCmdService, "service", func(p []byte) error {
		return decodeServiceAttrs(p, &s, false)
	}); err != nil {
		return Service{}, err
	}
	return s, nil
}

// decodeServiceKey decodes only the identity of a GET_SERVICE dump message,
// for the re-read that checks a snapshot's service list.
func decodeServiceKey(b []byte) (ServiceKey, error) {
	var s Service
	a := attrs{b: b}
	for a.next() {
		if a.typ == attrCmdService {
			if err := decodeServiceAttrs(a.data, &s, true); err != nil {
				return ServiceKey{}, err
			}
			return s.ServiceKey, nil
		}
	}
	if a.err != nil {
		return ServiceKey{}, fmt.Errorf("service: %w", a.err)
	}
	return ServiceKey{}, fmt.Errorf("service: %w: no service attribute", errMalformed)
}

func decodeServiceAttrs(b []byte, s *Service, keyOnly bool) error {
	var rawAddr []byte
	var rawMask []byte
	var st32, st64 Stats
	var has64 bool
	a := attrs{b: b}
	for a.next() {
		switch a.typ {
		case attrSvcAF:
			s.Family = Family(a.u16())
		case attrSvcProtocol:
			s.Protocol = Protocol(a.u16())
		case attrSvcAddr:
			rawAddr = a.data
		case attrSvcPort:
			s.Port = a.be16()
		case attrSvcFWMark:
			s.FWMark = a.u32()
		}
		if keyOnly {
			continue
		}
		switch a.typ {
		case attrSvcSchedName:
			s.Scheduler = intern(a.str())
		case attrSvcFlags:
			// struct ip_vs_flags {flags, mask}: the kernel sends mask ~0.
			s.Flags = Flags(binary.NativeEndian.Uint32(a.sized(8)))
		case attrSvcTimeout:
			s.Timeout = a.u32()
		case attrSvcNetmask:
			// Opaque to the kernel: ipvsadm stores an IPv4 mask in network
			// order and an IPv6 prefix length as a host integer.
			if m := a.sized(4); len(a.data) == 4 {
				rawMask = m
			}
		case attrSvcStats:
			st32 = decodeStats(&a, false)
		case attrSvcStats64:
			st64, has64 = decodeStats(&a, true), true
		case attrSvcPEName:
			s.PEName = intern(a.str())
		}
	}
	if a.err != nil {
		return fmt.Errorf("service: %w", a.err)
	}
	if s.FWMark == 0 && rawAddr != nil {
		var err error
		if s.Addr, err = addrOf(rawAddr, s.Family); err != nil {
			return fmt.Errorf("service: %w", err)
		}
	}
	if keyOnly {
		return nil
	}
	if rawMask != nil {
		s.Netmask = binary.NativeEndian.Uint32(rawMask)
		if s.Family == FamilyIPv4 {
			s.Netmask = binary.BigEndian.Uint32(rawMask)
		}
	}
	s.Stats = st32
	if has64 {
		s.Stats = st64
	}
	return nil
}

// decodeDest decodes the attributes of one GET_DEST dump message. Real
// servers of kernels without IPVS_DEST_ATTR_ADDR_FAMILY have the service's
// family.
func decodeDest(b []byte, svcFamily Family) (Dest, error) {
	var d Dest
	if err := decodeMessage(b, attrCmdDest, "dest", func(p []byte) error {
		return decodeDestAttrs(p, &d, svcFamily)
	}); err != nil {
		return Dest{}, err
	}
	return d, nil
}

func decodeDestAttrs(b []byte, d *Dest, svcFamily Family) error {
	var rawAddr []byte
	var st32, st64 Stats
	var has64 bool
	d.Family = svcFamily
	a := attrs{b: b}
	for a.next() {
		switch a.typ {
		case attrDestAddr:
			rawAddr = a.data
		case attrDestPort:
			d.Port = a.be16()
		case attrDestFwdMethod:
			d.FwdMethod = FwdMethod(a.u32() & fwdMask)
		case attrDestWeight:
			d.Weight = int32(a.u32())
		case attrDestUThresh:
			d.UpperThreshold = a.u32()
		case attrDestLThresh:
			d.LowerThreshold = a.u32()
		case attrDestActiveConns:
			d.ActiveConns = a.u32()
		case attrDestInactConns:
			d.InactiveConns = a.u32()
		case attrDestPersistConns:
			d.PersistConns = a.u32()
		case attrDestStats:
			st32 = decodeStats(&a, false)
		case attrDestAddrFamily:
			d.Family = Family(a.u16())
		case attrDestStats64:
			st64, has64 = decodeStats(&a, true), true
		case attrDestTunType:
			d.TunnelType = TunnelType(a.u8())
		case attrDestTunPort:
			d.TunnelPort = a.be16()
		case attrDestTunFlags:
			d.TunnelFlags = a.u16()
		}
	}
	if a.err != nil {
		return fmt.Errorf("dest: %w", a.err)
	}
	if rawAddr == nil {
		return fmt.Errorf("dest: %w: no address", errMalformed)
	}
	var err error
	if d.Addr, err = addrOf(rawAddr, d.Family); err != nil {
		return fmt.Errorf("dest: %w", err)
	}
	d.Stats = st32
	if has64 {
		d.Stats = st64
	}
	return nil
}

// decodeStats decodes the nested stats attribute a points at; wide says
// whether it is STATS64 (all u64) or STATS (u32 but for the byte counters).
// Errors are recorded in a.
func decodeStats(a *attrs, wide bool) Stats {
	var s Stats
	n := a.nested()
	for n.next() {
		var v uint64
		switch {
		case n.typ == 0 || n.typ > attrStatsOutBPS:
			continue // PAD, or a counter newer than this reader
		case wide || n.typ == attrStatsInBytes || n.typ == attrStatsOutBytes:
			v = n.u64()
		default:
			v = uint64(n.u32())
		}
		switch n.typ {
		case attrStatsConns:
			s.Conns = v
		case attrStatsInPkts:
			s.InPkts = v
		case attrStatsOutPkts:
			s.OutPkts = v
		case attrStatsInBytes:
			s.InBytes = v
		case attrStatsOutBytes:
			s.OutBytes = v
		case attrStatsCPS:
			s.CPS = v
		case attrStatsInPPS:
			s.InPPS = v
		case attrStatsOutPPS:
			s.OutPPS = v
		case attrStatsInBPS:
			s.InBPS = v
		case attrStatsOutBPS:
			s.OutBPS = v
		}
	}
	if n.err != nil && a.err == nil {
		a.err = fmt.Errorf("stats: %w", n.err)
	}
	return s
}

// addr decodes an address attribute of a known family into a.
func addr(a *attrs, family Family) netip.Addr {
	ip, err := addrOf(a.data, family)
	if err != nil && a.err == nil {
		a.err = err
	}
	return ip
}

// addrOf trims the kernel's 16-byte union nf_inet_addr to the family.
func addrOf(b []byte, family Family) (netip.Addr, error) {
	switch {
	case family == FamilyIPv4 && len(b) >= 4:
		return netip.AddrFrom4([4]byte(b[:4])), nil
	case family == FamilyIPv6 && len(b) >= 16:
		return netip.AddrFrom16([16]byte(b[:16])), nil
	}
	return netip.Addr{}, fmt.Errorf("%w: %d-byte address of family %d", errMalformed, len(b), family)
}

// intern returns the kernel's scheduler and PE names without allocating a
// new string for each service.
func intern(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "rr":
		return "rr"
	case "wrr":
		return "wrr"
	case "lc":
		return "lc"
	case "wlc":
		return "wlc"
	case "lblc":
		return "lblc"
	case "lblcr":
		return "lblcr"
	case "dh":
		return "dh"
	case "sh":
		return "sh"
	case "sed":
		return "sed"
	case "nq":
		return "nq"
	case "fo":
		return "fo"
	case "ovf":
		return "ovf"
	case "mh":
		return "mh"
	case "twos":
		return "twos"
	case "sip":
		return "sip"
	}
	return string(b)
}
