package main

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The pairs' statistics. bench.sh prints, for each pair of a size, its
// inputs as "SIZE @pair OV OS OT KV KS KT" (our varbinds, seconds and CPU
// ticks; keepalived's), and "SIZE @pairstats" where the statistics go;
// summarize puts them there, in the keys BENCHMARKS.md reads.

// pairRatios returns a pair's ratios, ours over keepalived's, each rounded
// to two places as printed: varbinds per second, and agent CPU per
// varbind. ok is false for a ratio with a zero in a denominator, which
// has none.
func pairRatios(ov, os, ot, kv, ks, kt float64) (vbPerS float64, vbOK bool, cpu float64, cpuOK bool) {
	if os != 0 && kv != 0 && ks != 0 {
		vbPerS, vbOK = round2((ov/os)/(kv/ks)), true
	}
	if ov != 0 && kv != 0 && kt != 0 {
		cpu, cpuOK = round2((ot/ov)/(kt/kv)), true
	}
	return
}

// round2 is x as printed with two places, read back.
func round2(x float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 64)
	return r
}

// median returns the median of xs (the mean of the middle two for an even
// count), 0 for none.
func median(xs []float64) float64 {
	s := sorted(xs)
	n := len(s)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// boundRank is the k for a 95% confidence interval of the median of n
// samples: the k-th smallest and k-th largest, k the greatest with
// P(Binomial(n, 1/2) < k) <= 0.025. It needs no assumption about the
// samples' distribution; 0 (below six samples) means even the smallest
// is not low enough.
func boundRank(n int) int {
	k, cdf := 0, 0.0
	c := 1.0 // n choose i
	for i := 0; i < n; i++ {
		cdf += c / math.Pow(2, float64(n))
		if cdf > 0.025 {
			break
		}
		k = i + 1
		c = c * float64(n-i) / float64(i+1)
	}
	return k
}

// medianBound returns the low (or high) end of the median's 95%
// confidence interval, or false where there is none.
func medianBound(xs []float64, high bool) (float64, bool) {
	s := sorted(xs)
	k := boundRank(len(s))
	if k == 0 {
		return 0, false
	}
	if high {
		return s[len(s)-k], true
	}
	return s[k-1], true
}

func sorted(xs []float64) []float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s
}

// summarize returns the guest's output with its @pair lines dropped and
// each @pairstats line replaced with that size's ratios, medians and
// bounds.
func summarize(out string) string {
	var b strings.Builder
	var size string // of the pairs in vb and cpu
	var vb, cpu []float64
	for _, line := range strings.SplitAfter(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 8 && f[1] == "@pair":
			if f[0] != size { // a size whose pairs failed left no @pairstats
				size, vb, cpu = f[0], nil, nil
			}
			var v [6]float64
			for i := range v {
				v[i], _ = strconv.ParseFloat(f[2+i], 64)
			}
			r, rok, c, cok := pairRatios(v[0], v[1], v[2], v[3], v[4], v[5])
			if rok {
				vb = append(vb, r)
			}
			if cok {
				cpu = append(cpu, c)
			}
		case len(f) == 2 && f[1] == "@pairstats":
			if f[0] != size {
				vb, cpu = nil, nil
			}
			writeStats(&b, f[0], vb, cpu)
			size, vb, cpu = "", nil, nil
		default:
			b.WriteString(line)
		}
	}
	return b.String()
}

// writeStats writes a size's "SIZE KEY VALUE" lines of the pairs' ratios.
func writeStats(b *strings.Builder, size string, vb, cpu []float64) {
	bound := func(xs []float64, high bool) string {
		if x, ok := medianBound(xs, high); ok {
			return fmt.Sprintf("%.2f", x)
		}
		return "none"
	}
	for _, kv := range [][2]string{
		{"pairs_vb_per_s_ratios", list(vb)},
		{"pairs_vb_per_s_ratio_median", fmt.Sprintf("%.2f", median(vb))},
		{"pairs_vb_per_s_ratio_median_low95", bound(vb, false)},
		{"pairs_agent_ms_per_vb_ratios", list(cpu)},
		{"pairs_agent_ms_per_vb_ratio_median", fmt.Sprintf("%.2f", median(cpu))},
		{"pairs_agent_ms_per_vb_ratio_median_high95", bound(cpu, true)},
	} {
		fmt.Fprintf(b, "%s %s %s\n", size, kv[0], kv[1])
	}
}

// list is the ratios as printed, in pair order, separated by spaces.
func list(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(s, " ")
}
