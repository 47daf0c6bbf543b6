package ipvsproc

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// Totals are the namespace's counters since IPVS was loaded in it, which
// keep counting after services are deleted, and the estimator's rates of
// them.
type Totals struct {
	Conns, InPkts, OutPkts, InBytes, OutBytes uint64
	CPS, InPPS, OutPPS, InBPS, OutBPS         uint64
}

// ErrFormat is the error of a file that is not what the kernel writes.
var ErrFormat = errors.New("unexpected format")

// ParseTotals parses /proc/net/ip_vs_stats: among header lines, one line
// of five hexadecimal counters, then one of five hexadecimal rates.
func ParseTotals(b []byte) (Totals, error) {
	var rows [2][5]uint64
	n := 0
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) != 5 {
			continue
		}
		var row [5]uint64
		hex := true
		for i, field := range f {
			v, err := strconv.ParseUint(string(field), 16, 64)
			if err != nil {
				hex = false
				break
			}
			row[i] = v
		}
		if !hex {
			continue // a header line
		}
		if n == len(rows) {
			return Totals{}, fmt.Errorf("ip_vs_stats: %w: more than two lines of numbers", ErrFormat)
		}
		rows[n] = row
		n++
	}
	if n != len(rows) {
		return Totals{}, fmt.Errorf("ip_vs_stats: %w: %d lines of numbers, want 2", ErrFormat, n)
	}
	c, r := rows[0], rows[1]
	return Totals{Conns: c[0], InPkts: c[1], OutPkts: c[2], InBytes: c[3], OutBytes: c[4],
		CPS: r[0], InPPS: r[1], OutPPS: r[2], InBPS: r[3], OutBPS: r[4]}, nil
}
