package metrics

import (
	"testing"

	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// bigView is the view of nSvc TCP services with nDest real servers each.
func bigView(nSvc, nDest int) *mib.View {
	snap := fixture.BigSnapshot(nSvc, nDest)
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
				e.cache[0].written = false // render anew, into a buffer of the last size
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
