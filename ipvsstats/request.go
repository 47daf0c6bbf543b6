package ipvsstats

import (
	"encoding/binary"
	"net/netip"
)

// command is one IPVS request: a dump when dump is set, about the service
// svc when it is not nil (GET_DEST, SET_DEST), setting the real server
// dest when it is not nil (SET_DEST, acknowledged).
type command struct {
	cmd  uint8
	dump bool
	svc  *ServiceKey
	dest *Dest
}

// appendRequest appends the generic netlink request of q to b.
func appendRequest(b []byte, family uint16, seq, pid uint32, q command) []byte {
	flags := uint16(nlmFRequest)
	if q.dump {
		flags |= nlmFDump
	}
	start := len(b)
	b = append(b, make([]byte, nlmsgHdrLen)...)
	b = append(b, q.cmd, 1, 0, 0) // command, IPVS_GENL_VERSION, reserved
	if q.svc != nil {
		b = appendServiceKey(b, q.svc)
	}
	if q.dest != nil {
		flags |= nlmFAck
		b = appendDest(b, q.dest)
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
		a := inetAddr(k.Addr)
		b = appendAttr(b, attrSvcProtocol, binary.NativeEndian.AppendUint16(nil, uint16(k.Protocol))...)
		b = appendAttr(b, attrSvcAddr, a[:]...)
		b = appendAttr(b, attrSvcPort, binary.BigEndian.AppendUint16(nil, k.Port)...)
	}
	binary.NativeEndian.PutUint16(b[start:], uint16(len(b)-start))
	return b
}

// appendDest appends the nested real server SET_DEST needs: its identity
// and every attribute the kernel sets from it, as `ipvsadm -e` sends them.
func appendDest(b []byte, d *Dest) []byte {
	start := len(b)
	b = appendAttr(b, attrCmdDest)
	a := inetAddr(d.Addr)
	u32 := func(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
	b = appendAttr(b, attrDestAddr, a[:]...)
	b = appendAttr(b, attrDestPort, binary.BigEndian.AppendUint16(nil, d.Port)...)
	b = appendAttr(b, attrDestFwdMethod, u32(uint32(d.FwdMethod))...)
	b = appendAttr(b, attrDestWeight, u32(uint32(d.Weight))...)
	b = appendAttr(b, attrDestUThresh, u32(d.UpperThreshold)...)
	b = appendAttr(b, attrDestLThresh, u32(d.LowerThreshold)...)
	b = appendAttr(b, attrDestAddrFamily, binary.NativeEndian.AppendUint16(nil, uint16(d.Family))...)
	b = appendAttr(b, attrDestTunType, byte(d.TunnelType))
	b = appendAttr(b, attrDestTunPort, binary.BigEndian.AppendUint16(nil, d.TunnelPort)...)
	b = appendAttr(b, attrDestTunFlags, binary.NativeEndian.AppendUint16(nil, d.TunnelFlags)...)
	binary.NativeEndian.PutUint16(b[start:], uint16(len(b)-start))
	return b
}

// inetAddr is a as the kernel's union nf_inet_addr: 16 bytes, an IPv4
// address in the first four.
func inetAddr(a netip.Addr) [16]byte {
	if a.Is4() {
		var b [16]byte
		a4 := a.As4()
		copy(b[:], a4[:])
		return b
	}
	return a.As16()
}
