package ipvsproc

import (
	"errors"
	"testing"
)

// statsFile is /proc/net/ip_vs_stats as the kernel's ip_vs_stats_show
// writes it.
const statsFile = `   Total Incoming Outgoing         Incoming         Outgoing
   Conns  Packets  Packets            Bytes            Bytes
      10       68       4F             19E7             1CDA

 Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s
       1        A        0         100000000                0
`

func TestParseTotals(t *testing.T) {
	got, err := ParseTotals([]byte(statsFile))
	want := Totals{Conns: 16, InPkts: 104, OutPkts: 79, InBytes: 0x19e7, OutBytes: 0x1cda,
		CPS: 1, InPPS: 10, OutPPS: 0, InBPS: 1 << 32, OutBPS: 0}
	if err != nil || got != want {
		t.Fatalf("ParseTotals = %+v, %v; want %+v", got, err, want)
	}
	for name, bad := range map[string]string{
		"empty":               "",
		"no rates":            statsFile[:200],
		"three lines":         statsFile + "1 2 3 4 5\n",
		"one line of numbers": "Pro x y z w\n1 2 3 4 5\n",
	} {
		if _, err := ParseTotals([]byte(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err %v, want ErrFormat", name, err)
		}
	}
}

func FuzzParseTotals(f *testing.F) {
	f.Add([]byte(statsFile))
	f.Add([]byte("1 2 3 4 5\n6 7 8 9 A\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseTotals(b)
	})
}
