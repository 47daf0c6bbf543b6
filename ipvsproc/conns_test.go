package ipvsproc

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// syncFile is /proc/net/ip_vs_conn_sync as the kernel's
// ip_vs_conn_sync_seq_show writes it: connections in several states, a
// persistence template (client port 0), an IPv6 entry, a fwmark template
// (protocol IP) and an entry a sync daemon brought.
const syncFile = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires
TCP 0A630002 C350 0A630001 0050 0A000002 0050 ESTABLISHED LOCAL      899
TCP 0A630002 C351 0A630001 0050 0A000003 0050 TIME_WAIT   LOCAL      119
TCP 0A630002 C352 0A630001 0050 0A000003 0050 SYN_RECV    LOCAL       59
TCP 0A630002 C353 0A630001 0050 0A000002 0050 ESTABLISHED SYNC       899
TCP 0A630002 0000 0A630001 0050 0A000002 0050 NONE        LOCAL      359
UDP 0A630002 A000 0A630001 0035 0A000009 0035 UDP         LOCAL      299
TCP fd00:0000:0000:0000:0000:0000:0000:0002 D000 fd00:0000:0000:0000:0000:0000:0000:0001 01BB [fd00:0000:0000:0000:0000:0000:0000:000a] 01BB ESTABLISHED LOCAL      899
IP  0A630002 0000 00000007 0000 0A000002 0000 ASSURED     SYNC       300
`

// connFile is /proc/net/ip_vs_conn: no Origin column, PE data at the end.
const connFile = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
UDP 0A630002 13C4 0A630001 13C4 0A000002 13C4 UDP             299 sip 1234@host a
UDP 0A630002 0000 0A630001 13C4 0A000002 13C4 ASSURED         299 sip 1234@host a
`

func TestConnCounter(t *testing.T) {
	var c ConnCounter
	tests := []struct {
		name, file string
		want       ConnCounts
	}{
		{"conn_sync", syncFile, ConnCounts{Entries: 8, Templates: 2, FromSync: 2, States: []StateCount{
			{"IP", "ASSURED", 1}, {"TCP", "ESTABLISHED", 3}, {"TCP", "NONE", 1}, {"TCP", "SYN_RECV", 1},
			{"TCP", "TIME_WAIT", 1}, {"UDP", "UDP", 1}}}},
		{"conn with PE data", connFile, ConnCounts{Entries: 2, Templates: 1, States: []StateCount{
			{"UDP", "ASSURED", 1}, {"UDP", "UDP", 1}}}},
		{"empty table", "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires\n", ConnCounts{}},
		// The same counter again: pairs of earlier counts are gone.
		{"conn_sync again", syncFile[:strings.Index(syncFile, "TCP 0A630002 C351")], ConnCounts{Entries: 1,
			States: []StateCount{{"TCP", "ESTABLISHED", 1}}}},
	}
	for _, tt := range tests {
		got, err := c.Count(strings.NewReader(tt.file))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Count = %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
	for name, bad := range map[string]string{
		"empty":        "",
		"no header":    "TCP 0A630002 C350 0A630001 0050 0A000002 0050 ESTABLISHED LOCAL 899\n",
		"short line":   "Pro FromIP FPrt ToIP TPrt DestIP DPrt State Origin Expires\nTCP 0A630002 C350\n",
		"long line":    "Pro FPrt State\n" + strings.Repeat("x", maxLine+1) + "\n",
		"state absent": "Pro FromIP FPrt\nTCP 1 2\n",
	} {
		if _, err := c.Count(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: no error", name)
		} else if name != "long line" && !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err %v, want ErrFormat", name, err)
		}
	}
}

// bigTable is a conn_sync table of n ESTABLISHED entries.
func bigTable(n int) string {
	var b strings.Builder
	b.WriteString(syncFile[:strings.IndexByte(syncFile, '\n')+1])
	for i := range n {
		fmt.Fprintf(&b, "TCP 0A%06X C350 0A630001 0050 0A000002 0050 ESTABLISHED LOCAL      899\n", i)
	}
	return b.String()
}

// Counting allocates per count, never per entry: a table 100 times the
// size costs no more allocations.
func TestConnCounterAllocations(t *testing.T) {
	var c ConnCounter
	allocs := func(table string) float64 {
		c.Count(strings.NewReader(table)) // warm: the counter's storage
		return testing.AllocsPerRun(5, func() {
			if _, err := c.Count(strings.NewReader(table)); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, big := allocs(bigTable(100)), allocs(bigTable(10000))
	if big > small {
		t.Errorf("%v allocations for 10,000 entries, %v for 100: some are per entry", big, small)
	}
}

func BenchmarkConnCounter(b *testing.B) {
	table := bigTable(100000)
	var c ConnCounter
	b.SetBytes(int64(len(table)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Count(strings.NewReader(table)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100000), "ns/entry")
}

func FuzzConnCounter(f *testing.F) {
	f.Add([]byte(syncFile))
	f.Add([]byte(connFile))
	var c ConnCounter
	f.Fuzz(func(t *testing.T, b []byte) {
		cc, err := c.Count(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		var sum uint64
		for _, s := range cc.States {
			sum += s.Count
		}
		if sum != cc.Entries || cc.Templates > cc.Entries || cc.FromSync > cc.Entries {
			t.Fatalf("counts %+v do not add up", cc)
		}
	})
}
