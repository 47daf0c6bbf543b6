package agent

import (
	"math"
	"testing"
	"time"
)

func TestUptimeAt(t *testing.T) {
	u := NewUptime()
	start := u.at
	if got := u.At(start.Add(1234 * time.Millisecond)); got != 123 {
		t.Errorf("1.234 s after start: %d, want 123", got)
	}
	// A master that has run for a day says so in its Open response.
	opened := start.Add(10 * time.Second)
	u.set(8_640_000, opened)
	tests := []struct {
		at   time.Time
		want uint32
	}{
		{opened, 8_640_000},
		{opened.Add(2 * time.Second), 8_640_200},
		{opened.Add(-time.Hour), 8_280_000},
		{opened.Add(-25 * time.Hour), 0}, // before the master started
	}
	for _, tt := range tests {
		if got := u.At(tt.at); got != tt.want {
			t.Errorf("At(open %+v) = %d, want %d", tt.at.Sub(opened), got, tt.want)
		}
	}
	// TimeTicks wrap after about 497 days.
	u.set(math.MaxUint32, opened)
	if got := u.At(opened.Add(20 * time.Millisecond)); got != 1 {
		t.Errorf("past 2^32-1: %d, want 1", got)
	}
}
