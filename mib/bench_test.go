package mib_test

import (
	"runtime"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// BenchmarkBuild builds the view of 5000 services x 10 real servers with
// warm indexes (the steady state of a refresh) and reports the heap the
// view itself keeps beyond the snapshot, and the snapshot's own heap.
func BenchmarkBuild(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	snap := fixture.BigSnapshot(5000, 10)
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
	v := mib.Build(fixture.BigSnapshot(5000, 10), ipvslive.NewIndexes(), fixture.Clock)
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
	v := mib.Build(fixture.BigSnapshot(5000, 10), ipvslive.NewIndexes(), fixture.Clock)
	oid := append(append(agentx.OID{}, mib.Root...), 18, 1, 7, 2500, 5) // lvsRealStatsConns.2500.5
	b.ReportAllocs()
	for b.Loop() {
		if vb := v.Get(oid); vb.Type != agentx.Counter32 {
			b.Fatal(vb.Type)
		}
	}
}
