package metrics

import (
	"bufio"
	"strconv"
	"strings"

	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// scraped is one context as a scrape sees it.
type scraped struct {
	name   string
	src    Source
	view   *mib.View
	stats  ipvslive.ReadStats
	labels *labels
}

// writer writes the LVS families of a scrape in the text exposition
// format (0.0.4) or OpenMetrics 1.0.
type writer struct {
	w      *bufio.Writer
	om     bool
	line   []byte // the sample line being built
	labels []byte // its labels
	head   []byte // the HELP and TYPE lines being built
}

// family writes f for every context: its HELP and TYPE once it has a
// sample, then one sample per row and cell.
func (wr *writer) family(f *family, ctxs []scraped, mode RealServers) {
	if f.table == mib.RealTable && mode == RealServersNone {
		return
	}
	headed := false
	for _, c := range ctxs {
		if !f.always && !c.view.Available() {
			continue
		}
		rows := c.view.Rows(f.table) // 1 for the scalars, the agent's own among them
		blocks := c.labels.rows[f.table]
		for ci := range f.cells {
			cl := &f.cells[ci]
			for row := 0; row < rows; row++ {
				line, ok := wr.sample(f, cl, c, row, blocks[row])
				if !ok {
					continue
				}
				if !headed {
					wr.header(f)
					headed = true
				}
				wr.w.Write(line)
			}
		}
	}
}

// sample builds one sample line, or returns false when the row has no
// such instance.
func (wr *writer) sample(f *family, cl *cell, c scraped, row int, block string) ([]byte, bool) {
	lb := append(wr.labels[:0], block...)
	if cl.label != "" {
		if len(lb) > 0 {
			lb = append(lb, ',')
		}
		lb = append(lb, cl.label...)
	}
	for _, il := range cl.infoLabels {
		lb = pair(lb, il.name, label(il.col.Object().Name, c.view.Cell(il.col, row)))
	}
	wr.labels = lb

	b := append(wr.line[:0], f.name...)
	if f.kind == counter {
		b = append(b, "_total"...)
	}
	if len(lb) > 0 {
		b = append(append(append(b, '{'), lb...), '}')
	}
	b = append(b, ' ')
	ok := true
	switch {
	case cl.stat != nil:
		b = strconv.AppendFloat(b, cl.stat(c.stats), 'g', -1, 64)
	case f.kind == info:
		b = append(b, '1')
	default:
		b, ok = appendValue(b, c.view.Cell(cl.col, row), cl.conv)
	}
	wr.line = append(b, '\n')
	return wr.line, ok
}

// header writes a family's HELP and TYPE lines.
func (wr *writer) header(f *family) {
	// OpenMetrics names counter and info families without the suffix
	// their samples carry; the text format knows neither type by name.
	name, typ := f.name, "gauge"
	switch {
	case f.kind == counter && wr.om:
		typ = "counter"
	case f.kind == counter:
		typ, name = "counter", name+"_total"
	case f.kind == info && wr.om:
		typ, name = "info", strings.TrimSuffix(name, "_info")
	}
	// The text format leaves quotes in help alone.
	b := escape(append(append(append(wr.head[:0], "# HELP "...), name...), ' '), f.help, wr.om)
	wr.head = append(append(append(append(append(b, "\n# TYPE "...), name...), ' '), typ...), '\n')
	wr.w.Write(wr.head)
}
