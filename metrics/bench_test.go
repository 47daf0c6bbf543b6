package metrics

import (
	"net/netip"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// bigView is the view of nSvc TCP services with nDest real servers each.
func bigView(nSvc, nDest int) *mib.View {
	snap := &ipvsstats.Snapshot{Info: ipvsstats.Info{VersionCode: 0x010201}, ReadAt: fixture.ReadAt,
		Services: make([]ipvsstats.Service, nSvc)}
	for i := range snap.Services {
		s := &snap.Services[i]
		s.ServiceKey = ipvsstats.ServiceKey{Family: ipvsstats.FamilyIPv4, Protocol: ipvsstats.ProtoTCP,
			Addr: netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1}), Port: 80}
		s.Scheduler = "wlc"
		s.Dests = make([]ipvsstats.Dest, nDest)
		for j := range s.Dests {
			s.Dests[j] = ipvsstats.Dest{DestKey: ipvsstats.DestKey{
				Addr: netip.AddrFrom4([4]byte{192, byte(i >> 8), byte(i), byte(j)}), Port: 8080},
				Family: ipvsstats.FamilyIPv4, Weight: 1,
				Stats: ipvsstats.Stats{Conns: uint64(j) * 1000003, InBytes: uint64(i) * 7777777, InPkts: 12345}}
		}
	}
	v := mib.Build(snap, ipvslive.NewIndexes(), fixture.Clock)
	v.SetHealth(mib.Health{Totals: fixture.Totals(), Settings: fixture.Settings(), Conns: fixture.Conns(),
		ConnsReadAt: fixture.ConnsReadAt})
	return v
}

// BenchmarkRender renders one scrape of 5000 services x 10 real servers
// (rendered anew each time, as when the view has changed), with every real
// server label, with names only and without real servers.
func BenchmarkRender(b *testing.B) {
	v := bigView(5000, 10)
	for _, tc := range []struct {
		name string
		mode RealServers
	}{{"full", RealServersFull}, {"names", RealServersNames}, {"none", RealServersNone}} {
		b.Run(tc.name, func(b *testing.B) {
			e := New(Config{RealServers: tc.mode})
			src := &fakeSource{view: v}
			e.Add("", src)
			var size int
			b.ReportAllocs()
			for b.Loop() {
				e.cache = [2]rendered{} // render anew
				body, _, err := e.body(false)
				if err != nil {
					b.Fatal(err)
				}
				size = len(body)
			}
			b.ReportMetric(float64(size), "body-bytes")
		})
	}
}
