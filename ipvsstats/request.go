package ipvsstats

import (
	"encoding/binary"
)

// appendRequest appends one generic netlink request for the IPVS command
// cmd to b: a dump when dump is set, about the service svc when it is not
// nil (GET_DEST).
func appendRequest(b []byte, family uint16, seq, pid uint32, cmd uint8, dump bool, svc *ServiceKey) []byte {
	flags := uint16(nlmFRequest)
	if dump {
		flags |= nlmFDump
	}
	start := len(b)
	b = append(b, make([]byte, nlmsgHdrLen)...)
	b = append(b, cmd, 1, 0, 0) // command, IPVS_GENL_VERSION, reserved
	if svc != nil {
		b = appendServiceKey(b, svc)
	}
	h := b[start:]
	binary.NativeEndian.PutUint32(h[0:], uint32(len(h)))
	binary.NativeEndian.PutUint16(h[4:], family)
	binary.NativeEndian.PutUint16(h[6:], flags)
	binary.NativeEndian.PutUint32(h[8:], seq)
	binary.NativeEndian.PutUint32(h[12:], pid)
	return b
}

// appendServiceKey appends the nested service identity GET_DEST needs.
func appendServiceKey(b []byte, k *ServiceKey) []byte {
	start := len(b)
	b = appendAttr(b, attrCmdService)
	b = appendAttr(b, attrSvcAF, binary.NativeEndian.AppendUint16(nil, uint16(k.Family))...)
	if k.FWMark != 0 {
		b = appendAttr(b, attrSvcFWMark, binary.NativeEndian.AppendUint32(nil, k.FWMark)...)
	} else {
		var a [16]byte
		if k.Addr.Is4() {
			a4 := k.Addr.As4()
			copy(a[:], a4[:])
		} else {
			a = k.Addr.As16()
		}
		b = appendAttr(b, attrSvcProtocol, binary.NativeEndian.AppendUint16(nil, uint16(k.Protocol))...)
		b = appendAttr(b, attrSvcAddr, a[:]...)
		b = appendAttr(b, attrSvcPort, binary.BigEndian.AppendUint16(nil, k.Port)...)
	}
	binary.NativeEndian.PutUint16(b[start:], uint16(len(b)-start))
	return b
}
