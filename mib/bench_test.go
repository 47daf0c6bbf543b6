package mib_test

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// bigSnapshot has nSvc TCP services with nDest real servers each.
func bigSnapshot(nSvc, nDest int) *ipvsstats.Snapshot {
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
				Family: ipvsstats.FamilyIPv4, Weight: 1, Stats: ipvsstats.Stats{Conns: uint64(j)}}
		}
	}
	return snap
}

// BenchmarkBuild builds the view of 5000 services x 10 real servers with
// warm indexes (the steady state of a refresh) and reports the heap the
// view itself keeps beyond the snapshot, and the snapshot's own heap.
func BenchmarkBuild(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	snap := bigSnapshot(5000, 10)
	runtime.GC()
	runtime.ReadMemStats(&after)
	snapHeap := after.HeapAlloc - before.HeapAlloc
	idx := ipvslive.NewIndexes()
	mib.Build(snap, idx, fixture.Clock)
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := mib.Build(snap, idx, fixture.Clock)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	b.ReportAllocs()
	for b.Loop() {
		mib.Build(snap, idx, fixture.Clock)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc), "view-heap-bytes")
	b.ReportMetric(float64(snapHeap), "snapshot-heap-bytes")
}

// BenchmarkNext walks the whole 5000 x 10 view with GetNext (about 1.6M
// varbinds) as the agent does, each name built in storage reused from the
// one before last; the time and allocations are per varbind.
func BenchmarkNext(b *testing.B) {
	v := mib.Build(bigSnapshot(5000, 10), ipvslive.NewIndexes(), fixture.Clock)
	b.ReportAllocs()
	var from, dst agentx.OID
	for b.Loop() {
		vb, ok := v.Next(dst, from, false, nil)
		if !ok {
			from = nil
			continue
		}
		from, dst = vb.Name, from
	}
}

// BenchmarkGet gets real-table cells of the 5000 x 10 view.
func BenchmarkGet(b *testing.B) {
	v := mib.Build(bigSnapshot(5000, 10), ipvslive.NewIndexes(), fixture.Clock)
	oid := append(append(agentx.OID{}, mib.Root...), 18, 1, 7, 2500, 5) // lvsRealStatsConns.2500.5
	b.ReportAllocs()
	for b.Loop() {
		if vb := v.Get(oid); vb.Type != agentx.Counter32 {
			b.Fatal(vb.Type)
		}
	}
}
