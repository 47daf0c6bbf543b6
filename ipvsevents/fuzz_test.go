package ipvsevents

import (
	"net/netip"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// snapshots decodes b into a few small snapshots (nil: a failed read)
// whose services and real servers come from small sets, so that reads
// share, gain and lose them, with unique keys as the reader guarantees.
func snapshots(b []byte) []*ipvsstats.Snapshot {
	next := func() byte {
		if len(b) == 0 {
			return 0
		}
		c := b[0]
		b = b[1:]
		return c
	}
	var snaps []*ipvsstats.Snapshot
	for len(b) > 0 && len(snaps) < 6 {
		h := next()
		if h&0x80 != 0 {
			snaps = append(snaps, nil)
			continue
		}
		s := &ipvsstats.Snapshot{}
		if h&1 != 0 {
			s.Daemons = append(s.Daemons, ipvsstats.Daemon{State: ipvsstats.DaemonMaster, Interface: "eth" + string('0'+rune(h>>1&1))})
		}
		if h&4 != 0 {
			s.Daemons = append(s.Daemons, ipvsstats.Daemon{State: ipvsstats.DaemonBackup, SyncID: uint32(h >> 3 & 1)})
		}
		for svcMask := next() & 0xf; svcMask != 0; svcMask &= svcMask - 1 {
			id := byte(0)
			for svcMask>>id&1 == 0 {
				id++
			}
			svc := ipvsstats.Service{ServiceKey: ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4,
				Protocol: ipvsstats.ProtoTCP, Addr: netip.AddrFrom4([4]byte{10, 0, 0, id}), Port: 80}}
			for destMask := next() & 0xf; destMask != 0; destMask &= destMask - 1 {
				did := byte(0)
				for destMask>>did&1 == 0 {
					did++
				}
				c := next()
				svc.Dests = append(svc.Dests, ipvsstats.Dest{
					DestKey:        ipvsstats.DestKey{Addr: netip.AddrFrom4([4]byte{10, 1, 0, did}), Port: 80},
					Weight:         int32(c & 3),
					UpperThreshold: uint32(c>>2&3) * 4, LowerThreshold: uint32(c>>4&1) * 2,
					ActiveConns: uint32(next() & 15), InactiveConns: uint32(c >> 5),
				})
			}
			if next()&1 != 0 && len(svc.Dests) > 1 { // the kernel may list real servers in another order
				svc.Dests[0], svc.Dests[1] = svc.Dests[1], svc.Dests[0]
			}
			s.Services = append(s.Services, svc)
		}
		snaps = append(snaps, s)
	}
	return snaps
}

// FuzzCompare checks what any sequence of reads gives: events that name
// what they are about, added minus removed equal to the change in numbers,
// and down or up exactly when a service present in both reads loses or
// regains its last usable real server.
func FuzzCompare(f *testing.F) {
	f.Add([]byte{0x05, 0x03, 0x03, 0x41, 0x02, 0x42, 0x01, 0x00, 0x80, 0x01, 0x01, 0x01, 0x00, 0x00})
	f.Add([]byte{0x00, 0x01, 0x01, 0x2c, 0x0f, 0x00, 0x00, 0x01, 0x01, 0x2c, 0x00, 0x00, 0x00, 0x01, 0x01, 0x2c, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		var tr Tracker
		var last *ipvsstats.Snapshot // the last successful read
		for i, s := range snapshots(b) {
			evs := tr.Compare(s)
			count := map[Kind]int{}
			for _, e := range evs {
				count[e.Kind]++
				switch e.Kind {
				case IPVSUnreadable, IPVSReadable:
					if e.Service != nil || e.Dest != nil || e.Daemon != nil {
						t.Fatalf("read %d: %s names a row", i, e.Kind)
					}
				case DaemonStarted, DaemonStopped:
					if e.Daemon == nil || e.Service != nil {
						t.Fatalf("read %d: %s without its daemon", i, e.Kind)
					}
				case ServiceAdded, ServiceRemoved, ServiceDown, ServiceUp:
					if e.Service == nil || e.Dest != nil {
						t.Fatalf("read %d: %s without its service", i, e.Kind)
					}
				default:
					if e.Service == nil || e.Dest == nil {
						t.Fatalf("read %d: %s without its service and real server", i, e.Kind)
					}
				}
			}
			if s == nil || last == nil {
				if s != nil {
					last = s
				}
				if n := len(evs) - count[IPVSUnreadable] - count[IPVSReadable]; n != 0 {
					t.Fatalf("read %d: %d events beyond readability against no previous read", i, n)
				}
				continue
			}
			if got, want := count[ServiceAdded]-count[ServiceRemoved], len(s.Services)-len(last.Services); got != want {
				t.Fatalf("read %d: added minus removed services %d, the count changed by %d", i, got, want)
			}
			realsDelta, downs, ups := 0, 0, 0
			for j := range s.Services {
				cur := &s.Services[j]
				for k := range last.Services {
					if old := &last.Services[k]; old.ServiceKey == cur.ServiceKey {
						realsDelta += len(cur.Dests) - len(old.Dests)
						switch {
						case usable(old) && !usable(cur):
							downs++
						case !usable(old) && usable(cur):
							ups++
						}
					}
				}
			}
			if got := count[RealAdded] - count[RealRemoved]; got != realsDelta {
				t.Fatalf("read %d: added minus removed real servers %d, kept services changed by %d", i, got, realsDelta)
			}
			if count[ServiceDown] != downs || count[ServiceUp] != ups {
				t.Fatalf("read %d: %d down and %d up, want %d and %d", i, count[ServiceDown], count[ServiceUp], downs, ups)
			}
			last = s
		}
	})
}
