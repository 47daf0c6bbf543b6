package ipvslive

import (
	"runtime/metrics"
	"syscall"
	"time"
)

// The runtime's and the kernel's account of what the process costs: Watch
// charges a read with what these grow by (see Watch).

// runtimeCPUMetrics are the runtime's estimates of the CPU time its
// background work takes: collecting garbage, and returning freed memory
// to the kernel (the scavenger's madvise calls, costly where system calls
// are).
var runtimeCPUMetrics = []string{"/cpu/classes/gc/total:cpu-seconds", "/cpu/classes/scavenge/total:cpu-seconds"}

// gcCPUTime returns the CPU time the garbage collector and the scavenger
// have used so far, as the runtime estimates it (0 where it does not say).
func gcCPUTime() time.Duration {
	samples := make([]metrics.Sample, len(runtimeCPUMetrics))
	for i, name := range runtimeCPUMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples)
	var total float64
	for _, s := range samples {
		if s.Value.Kind() == metrics.KindFloat64 {
			total += s.Value.Float64()
		}
	}
	return time.Duration(total * float64(time.Second))
}

// gcCycles returns the number of garbage collections so far.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// processCPUTime returns the user and system CPU time the process has used
// so far (0 when the kernel does not say).
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
