package main

import (
	"strings"
	"testing"
)

func TestBoundRank(t *testing.T) {
	// The sign test's ranks: P(Binomial(n, 1/2) < k) <= 0.025.
	for _, c := range []struct{ n, k int }{
		{0, 0}, {1, 0}, {4, 0}, {5, 0}, {6, 1}, {8, 1}, {9, 2}, {11, 2}, {12, 3}, {14, 3}, {15, 4}, {17, 5}, {20, 6},
	} {
		if got := boundRank(c.n); got != c.k {
			t.Errorf("boundRank(%d) = %d, want %d", c.n, got, c.k)
		}
	}
}

func TestMedianAndBound(t *testing.T) {
	for _, c := range []struct {
		xs       []float64
		median   float64
		lo, hi   float64
		hasBound bool
	}{
		{nil, 0, 0, 0, false},
		{[]float64{2.5}, 2.5, 0, 0, false},
		{[]float64{3, 1, 2, 4}, 2.5, 0, 0, false},
		{[]float64{2.1, 1.9, 2.0, 2.2, 1.8, 2.3}, 2.05, 1.8, 2.3, true},
		{[]float64{5, 1, 4, 2, 3, 6, 7}, 4, 1, 7, true},
		{[]float64{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 6.5, 3, 10, true},
	} {
		if got := median(c.xs); got != c.median {
			t.Errorf("median(%v) = %v, want %v", c.xs, got, c.median)
		}
		lo, ok := medianBound(c.xs, false)
		hi, _ := medianBound(c.xs, true)
		if ok != c.hasBound || ok && (lo != c.lo || hi != c.hi) {
			t.Errorf("medianBound(%v) = %v, %v (%v), want %v, %v (%v)", c.xs, lo, hi, ok, c.lo, c.hi, c.hasBound)
		}
	}
}

func TestPairRatios(t *testing.T) {
	for _, c := range []struct {
		in         [6]float64
		vb, cpu    float64
		vbOK, cpOK bool
	}{
		// 1000 varbinds in 2 s against 500 in 2 s: twice the rate; 10
		// ticks for 1000 against 20 for 500: a quarter of the CPU.
		{[6]float64{1000, 2, 10, 500, 2, 20}, 2, 0.25, true, true},
		// Rounded to two places as printed: 1/3 and 3.
		{[6]float64{100, 3, 30, 100, 1, 10}, 0.33, 3, true, true},
		{[6]float64{100, 1, 5, 100, 1, 0}, 1, 0, true, false}, // keepalived used no tick
		{[6]float64{100, 0, 5, 100, 1, 5}, 0, 1, false, true}, // no time measured
	} {
		vb, vbOK, cpu, cpOK := pairRatios(c.in[0], c.in[1], c.in[2], c.in[3], c.in[4], c.in[5])
		if vb != c.vb || vbOK != c.vbOK || cpu != c.cpu || cpOK != c.cpOK {
			t.Errorf("pairRatios%v = %v %v, %v %v; want %v %v, %v %v", c.in, vb, vbOK, cpu, cpOK, c.vb, c.vbOK, c.cpu, c.cpOK)
		}
	}
}

func TestSummarize(t *testing.T) {
	in := `100x4 keepalived_rss_parts_kib_after_walks Anon=1
100x4 @pair 1000 2 10 500 2 20
100x4 @pair 1000 2 10 400 2 20
100x4 @pair 900 2 10 500 2 20
100x4 @pair 1000 2 12 500 2 20
100x4 @pair 1000 2 10 500 2.5 20
100x4 @pair 1100 2 10 500 2 20
100x4 @pairstats
100x4 pairs_rss_ratio 1.04
1000x10 @pair 1 1 1 1 1 1
1000x10 pairs_error timeout
5000x10 @pairstats
`
	want := `100x4 keepalived_rss_parts_kib_after_walks Anon=1
100x4 pairs_vb_per_s_ratios 2.00 2.50 1.80 2.00 2.50 2.20
100x4 pairs_vb_per_s_ratio_median 2.10
100x4 pairs_vb_per_s_ratio_median_low95 1.80
100x4 pairs_agent_ms_per_vb_ratios 0.25 0.20 0.28 0.30 0.25 0.23
100x4 pairs_agent_ms_per_vb_ratio_median 0.25
100x4 pairs_agent_ms_per_vb_ratio_median_high95 0.30
100x4 pairs_rss_ratio 1.04
1000x10 pairs_error timeout
5000x10 pairs_vb_per_s_ratios 
5000x10 pairs_vb_per_s_ratio_median 0.00
5000x10 pairs_vb_per_s_ratio_median_low95 none
5000x10 pairs_agent_ms_per_vb_ratios 
5000x10 pairs_agent_ms_per_vb_ratio_median 0.00
5000x10 pairs_agent_ms_per_vb_ratio_median_high95 none
`
	if got := summarize(in); got != want {
		t.Errorf("summarize:\n%s\nwant:\n%s", got, want)
	}
	// Output without pairs passes through unchanged (the soak's).
	if s := "outage_s 300\nwalks_ok 12\n"; summarize(s) != s {
		t.Errorf("summarize changed %q", s)
	}
	if strings.Contains(summarize(in), "@") {
		t.Error("an @ line was left in")
	}
}
