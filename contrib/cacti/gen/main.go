// Command gen writes Cacti's files for the LVS-MIB. It is a maintainer
// tool, run by `make cacti`:
//
//	gen -queries DIR   writes the SNMP data query definitions,
//	                   lvs_services.xml, lvs_realservers.xml,
//	                   lvs_totals.xml and lvs_connstates.xml, into DIR
//	                   (contrib/cacti/resource/snmp_queries, which Cacti
//	                   reads as they are: `go generate ./contrib/cacti/gen`)
//	gen -source        writes the template source to stdout
//
// The template source is one XML file in Cacti 1.2's template interchange
// format holding the data queries, their data templates (one shared by
// the services and real servers) and the graph templates. It is only an input: build-templates.sh, beside this
// file, imports it into a real Cacti and commits what Cacti itself exports
// (contrib/cacti/templates/), so the shipped files are Cacti's own output
// and import cleanly. main_test.go fails when the committed data queries
// differ from a fresh generation, or when the committed templates lack
// anything the source holds today.
//
// Every OID comes from mib.Objects(), the column table the agent serves
// from. Hashes are derived from fixed names so that re-running the tool
// gives the same objects, and a re-import updates rather than duplicates
// them. Stock Cacti objects (the "Get SNMP Data (Indexed)" input method,
// the "Normal" GPRINT, the "Turn Bytes into Bits" CDEF, the "5 Minute
// Collection" profile) are referenced by their stock hashes.
package main

//go:generate go run . -queries ../resource/snmp_queries

import (
	"crypto/md5"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lvs-agentx/lvs-agentx/mib"
)

func main() {
	queries := flag.String("queries", "", "write the data query definitions into this directory")
	source := flag.Bool("source", false, "write the template source to stdout")
	flag.Parse()
	if (*queries == "") == !*source || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gen -queries DIR | gen -source")
		os.Exit(2)
	}
	if *source {
		os.Stdout.WriteString(Source())
		return
	}
	files, err := Queries()
	if err != nil {
		fmt.Fprintln(os.Stderr, "contrib/cacti/gen:", err)
		os.Exit(1)
	}
	for _, q := range queryDefs {
		if err := os.WriteFile(filepath.Join(*queries, q.file), []byte(files[q.file]), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "contrib/cacti/gen:", err)
			os.Exit(1)
		}
	}
}

const version = "0103" // Cacti 1.2.24's hash version code

// Stock Cacti 1.2 objects.
const (
	dataInputSNMPIndexed = "hash_030103bf566c869ac6443b0c75d1c32b5a350e"
	gprintNormal         = "hash_060103e9c43831e54eca8069317a2ce8c6f751"
	cdefBytesToBits      = "hash_05010373f95f8b77b5508157d64047342c421e"
	profile5Min          = "hash_200103d62c52891f4f9688729a5bc9fad91b18"
)

// dataInputFields are the input fields of "Get SNMP Data (Indexed)"; those
// with perSource set are filled per data source from the data query.
var dataInputFields = []struct {
	hash      string
	perSource bool
}{
	{"92f5906c8dc0f964b41f4253df582c38", false},
	{"32285d5bf16e56c478f5e83f32cda9ef", false},
	{"ad14ac90641aed388139f6ba86a2e48b", false},
	{"617cdc8a230615e59f06f361ef6e7728", false},
	{"acb449d1451e8a2a655c2c99d31142c7", false},
	{"f4facc5e2ca7ebee621f09bc6d9fc792", false},
	{"1cc1493a6781af2c478fa4de971531cf", false},
	{"b5c23f246559df38662c255f4aa21d6b", false},
	{"6027a919c7c7731fbe095b6f53ab127b", true}, // index_type
	{"cbbe5c1ddfb264a6e5d509ce1c78c95f", true}, // index_value
	{"e6deda7be0f391399c5130e7c4a48b28", true}, // output_type
	{"c1f36ee60c3dc98945556d57f26e475b", false},
	{"2cf7129ad3ff819a7a7ac189bee48ce8", false},
	{"6b13ac0a0194e171d241d4b06f913158", false},
	{"3a33d4fc65b8329ab2ac46a36da26b72", false},
}

// Cacti codes.
const (
	gauge, counter       = 1, 2
	average, max, last   = 1, 3, 4
	line2, area, gprintT = 5, 7, 9
)

// h is a Cacti hash: two-digit type code, version, md5 of a fixed name.
func h(kind, key string) string {
	sum := md5.Sum([]byte("lvs-agentx/" + key))
	return "hash_" + kind + version + hex.EncodeToString(sum[:])
}

// bare is the md5 part of a hash reference.
func bare(ref string) string { return ref[len("hash_")+6:] }

// stat is one data source (DS) of a data template, such as "LVS -
// Statistics": one RRD per row holds all of them. The services and real
// servers queries name the output field that fills a DS alike, so that
// one data template serves both; service and real are the columns each
// query reads it from, column the one of a family's only query.
type stat struct {
	ds            string
	dsType        int
	field         string // data query output field
	title         string // its name in the data query
	service, real string
	column        string
}

var stats = []stat{
	{"conns", counter, "lvsConns", "Connections (64-bit)", "lvsServiceStatsConnsHC", "lvsRealStatsConnsHC", ""},
	{"inpkts", counter, "lvsInPkts", "Incoming Packets (64-bit)", "lvsServiceStatsInPktsHC", "lvsRealStatsInPktsHC", ""},
	{"outpkts", counter, "lvsOutPkts", "Outgoing Packets (64-bit)", "lvsServiceStatsOutPktsHC", "lvsRealStatsOutPktsHC", ""},
	{"inbytes", counter, "lvsInBytes", "Incoming Bytes (64-bit)", "lvsServiceStatsInBytes", "lvsRealStatsInBytes", ""},
	{"outbytes", counter, "lvsOutBytes", "Outgoing Bytes (64-bit)", "lvsServiceStatsOutBytes", "lvsRealStatsOutBytes", ""},
	{"active", gauge, "lvsActiveConns", "Active Connections", "lvsServiceActiveConns", "lvsRealActiveConns", ""},
	{"inactive", gauge, "lvsInactiveConns", "Inactive Connections", "lvsServiceInactiveConns", "lvsRealInactiveConns", ""},
}

// family is a data template and the graph templates that draw it, for
// the data queries whose rows each get one data source (RRD) of it.
type family struct {
	key    string // the hashes' names: dt/KEY, dt/KEY/DS
	name   string // the data template's
	stats  []stat
	graphs []graphTemplate
	// note ends each query definition's comment.
	note string
}

func (f *family) dataTemplate() string { return h("01", "dt/"+f.key) }

func (f *family) dsHash(name string) string { return h("08", "dt/"+f.key+"/"+name) }

var statsFamily = &family{key: "stats", name: "LVS - Statistics", stats: stats, graphs: graphs,
	note: ` The output fields have the same names in both LVS data queries, so that
 one data template ("LVS - Statistics") serves both and Cacti keeps one
 data source (RRD) per row for all four graphs.`}

// The director's health: its totals and connection table's counts (one
// row), and the connection table by protocol and state.
var totalsFamily = &family{key: "totals", name: "LVS - Director Totals", note: ` The scalars of lvsTotals and lvsConn are read as a table of one row, index
 0 (each scalar's instance): one data source (RRD) for all four graphs.`,
	stats: []stat{
		{ds: "conns", dsType: counter, field: "lvsTotalConns", title: "Connections", column: "lvsTotalConns"},
		{ds: "inpkts", dsType: counter, field: "lvsTotalInPkts", title: "Incoming Packets", column: "lvsTotalInPkts"},
		{ds: "outpkts", dsType: counter, field: "lvsTotalOutPkts", title: "Outgoing Packets", column: "lvsTotalOutPkts"},
		{ds: "inbytes", dsType: counter, field: "lvsTotalInBytes", title: "Incoming Bytes", column: "lvsTotalInBytes"},
		{ds: "outbytes", dsType: counter, field: "lvsTotalOutBytes", title: "Outgoing Bytes", column: "lvsTotalOutBytes"},
		{ds: "cps", dsType: gauge, field: "lvsTotalRateCps", title: "Kernel Estimate: Connections/s", column: "lvsTotalRateCps"},
		{ds: "inpps", dsType: gauge, field: "lvsTotalRateInPPS", title: "Kernel Estimate: Incoming Packets/s", column: "lvsTotalRateInPPS"},
		{ds: "outpps", dsType: gauge, field: "lvsTotalRateOutPPS", title: "Kernel Estimate: Outgoing Packets/s", column: "lvsTotalRateOutPPS"},
		{ds: "inbps", dsType: gauge, field: "lvsTotalRateInBPSHC", title: "Kernel Estimate: Incoming Bytes/s", column: "lvsTotalRateInBPSHC"},
		{ds: "outbps", dsType: gauge, field: "lvsTotalRateOutBPSHC", title: "Kernel Estimate: Outgoing Bytes/s", column: "lvsTotalRateOutBPSHC"},
		{ds: "entries", dsType: gauge, field: "lvsConnEntries", title: "Connection Table Entries", column: "lvsConnEntries"},
		{ds: "templates", dsType: gauge, field: "lvsConnTemplates", title: "Persistence Templates", column: "lvsConnTemplates"},
		{ds: "fromsync", dsType: gauge, field: "lvsConnFromSync", title: "Entries from Sync", column: "lvsConnFromSync"},
	},
	graphs: []graphTemplate{
		{"totals-conns", "LVS - Total Connections", "connections per second",
			[]series{{"conns", "Connections", "4668E4", area, "0"}, {"cps", "Kernel est.", "FF0000", line2, "0"}}},
		{"totals-packets", "LVS - Total Packets", "packets per second",
			[]series{{"inpkts", "Inbound", "00CF00", area, "0"}, {"outpkts", "Outbound", "002A97", line2, "0"},
				{"inpps", "In est.", "FFAB00", line2, "0"}, {"outpps", "Out est.", "FF0000", line2, "0"}}},
		{"totals-bits", "LVS - Total Traffic (bits/sec)", "bits per second",
			[]series{{"inbytes", "Inbound", "00CF00", area, cdefBytesToBits}, {"outbytes", "Outbound", "002A97", line2, cdefBytesToBits},
				{"inbps", "In est.", "FFAB00", line2, cdefBytesToBits}, {"outbps", "Out est.", "FF0000", line2, cdefBytesToBits}}},
		{"totals-table", "LVS - Connection Table", "entries",
			[]series{{"entries", "Entries", "FF7D00", area, "0"}, {"templates", "Templates", "8F005C", line2, "0"},
				{"fromsync", "From sync", "002A97", line2, "0"}}},
	},
}

var statesFamily = &family{key: "states", name: "LVS - Connection State", note: ` A state's row exists while the table has entries in that state: re-index
 the device to find new ones; a graph of a state that is gone reads
 nothing until it is back.`,
	stats: []stat{{ds: "count", dsType: gauge, field: "lvsConnStateCount", title: "Entries", column: "lvsConnStateCount"}},
	graphs: []graphTemplate{{"states-count", "LVS - Connections in State", "entries",
		[]series{{"count", "Entries", "4668E4", area, "0"}}}},
}

// families lists each family once, in the source's order.
var families = []*family{statsFamily, totalsFamily, statesFamily}

// series is one line or area of a graph template.
type series struct {
	ds, legend, colour string
	itemType           int
	cdef               string // a CDEF hash or "0"
}

type graphTemplate struct {
	key, name, vlabel string
	series            []series
}

var graphs = []graphTemplate{
	{"conns", "LVS - Connections", "connections per second",
		[]series{{"conns", "Connections", "4668E4", area, "0"}}},
	{"packets", "LVS - Packets", "packets per second",
		[]series{{"inpkts", "Inbound", "00CF00", area, "0"}, {"outpkts", "Outbound", "002A97", line2, "0"}}},
	{"bits", "LVS - Traffic (bits/sec)", "bits per second",
		[]series{{"inbytes", "Inbound", "00CF00", area, cdefBytesToBits},
			{"outbytes", "Outbound", "002A97", line2, cdefBytesToBits}}},
	{"active", "LVS - Active/Inactive Connections", "connections",
		[]series{{"active", "Active", "FF7D00", area, "0"}, {"inactive", "Inactive", "8F005C", line2, "0"}}},
}

// input is an input field of a data query: a column read as it is.
type input struct {
	object, title string
	ascii         bool
}

// query is one data query: its definition file and its template.
type query struct {
	key, name, desc, file string
	label                 string // graph and data source title
	table                 mib.Table
	comment               string // the definition's comment; %s: the table's OID
	index                 string // the column the rows are found by
	indexParse            string
	numIndexes            string // scalar counting the rows
	indexOrder            string
	indexOrderType        string
	indexTitle            string
	indexField            *[2]string // an input field holding the index: name, title
	inputs                []input
	family                *family
}

var queryDefs = []query{
	{
		key: "services", name: "LVS - Virtual Services",
		desc: "Linux Virtual Server services from the LVS-MIB (lvsServiceTable)",
		file: "lvs_services.xml", label: "|query_lvsServiceName|", table: mib.ServiceTable,
		comment: ` LVS-MIB virtual services (lvsServiceTable, %s) for
 Cacti's SNMP data queries; the lvs-agentx project. The index is
 lvsServiceNumber, which lvs-agentx keeps stable for as long as a service
 exists and across agent restarts, so a graph keeps following its service.
 Counters are the 64-bit columns: poll with SNMP v2c or v3.
`,
		index: "lvsServiceNumber", numIndexes: "lvsNumServices",
		indexOrder: "lvsServiceName:lvsServiceNumber", indexOrderType: "numeric",
		indexTitle: "|chosen_order_field|",
		inputs: []input{
			{"lvsServiceNumber", "Service Number", false},
			{"lvsServiceName", "Name", true},
			{"lvsServiceSchedType", "Scheduler", true},
			{"lvsServiceNumDests", "Real Servers", false},
		},
		family: statsFamily,
	},
	{
		key: "realservers", name: "LVS - Real Servers",
		desc: "Linux Virtual Server real servers from the LVS-MIB (lvsRealTable)",
		file: "lvs_realservers.xml", label: "|query_lvsRealServerName| (|query_lvsRealIndex|)", table: mib.RealTable,
		comment: ` LVS-MIB real servers (lvsRealTable, %s) for Cacti's
 SNMP data queries; the lvs-agentx project. The index is the pair
 lvsRealServiceNumber.lvsRealServerNumber, which lvs-agentx keeps stable for
 as long as the real server exists and across agent restarts. Counters are
 the 64-bit columns: poll with SNMP v2c or v3.
`,
		index: "lvsRealServerNumber", indexParse: `OID/REGEXP:.*\.([0-9]+\.[0-9]+)$`,
		indexOrder: "lvsRealIndex", indexOrderType: "alphabetic",
		indexTitle: "|query_lvsRealServerName| (|query_lvsRealIndex|)",
		indexField: &[2]string{"lvsRealIndex", "Service.Server Index"},
		inputs: []input{
			{"lvsRealServiceNumber", "Service Number", false},
			{"lvsRealServerName", "Name", true},
			{"lvsRealServerWeight", "Weight", false},
		},
		family: statsFamily,
	},
	{
		key: "totals", name: "LVS - Director Totals",
		desc: "Linux Virtual Server director totals and connection table counts from the LVS-MIB (lvsTotals, lvsConn)",
		file: "lvs_totals.xml", label: "Director", table: mib.Scalars,
		comment: ` LVS-MIB director totals (lvsTotals, %s) and the connection table's
 counts (lvsConn) for Cacti's SNMP data queries; the lvs-agentx project.
 The totals are the namespace's: they keep counting after services are
 deleted. Counters are Counter64: poll with SNMP v2c or v3.
`,
		index: "lvsTotalConns", indexParse: `OID/REGEXP:.*\.([0-9]+)$`,
		indexOrder: "lvsTotalsIndex", indexOrderType: "numeric",
		indexTitle: "Director",
		indexField: &[2]string{"lvsTotalsIndex", "Index"},
		family:     totalsFamily,
	},
	{
		key: "connstates", name: "LVS - Connection States",
		desc: "Linux Virtual Server connection table by protocol and state from the LVS-MIB (lvsConnStateTable)",
		file: "lvs_connstates.xml", label: "|query_lvsConnStateName| (|query_lvsConnStateProto|)", table: mib.ConnStateTable,
		comment: ` LVS-MIB connection states (lvsConnStateTable, %s) for Cacti's
 SNMP data queries; the lvs-agentx project. The index is the pair
 lvsConnStateProto.lvsConnStateIndex: the protocol number (6 TCP, 17 UDP,
 132 SCTP, 0 templates of firewall-mark services) and a number fixed per
 state name, the same on every director and agent version.
`,
		index: "lvsConnStateProto", indexParse: `OID/REGEXP:.*\.([0-9]+\.[0-9]+)$`,
		indexOrder: "lvsConnStateIndex", indexOrderType: "alphabetic",
		indexTitle: "|query_lvsConnStateName| (|query_lvsConnStateProto|)",
		indexField: &[2]string{"lvsConnStateIndex", "Protocol.State Index"},
		inputs: []input{
			{"lvsConnStateProto", "Protocol", false},
			{"lvsConnStateName", "State", true},
		},
		family: statesFamily,
	},
}

// column returns the stat's column in q's table.
func (q query) column(s stat) string {
	if s.column != "" {
		return s.column
	}
	if q.table == mib.ServiceTable {
		return s.service
	}
	return s.real
}

var esc = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// Queries returns the data query definitions by file name.
func Queries() (map[string]string, error) {
	objs := map[string]mib.Object{}
	for _, o := range mib.Objects() {
		if o.Served() {
			objs[o.Name] = o
		}
	}
	out := map[string]string{}
	for _, q := range queryDefs {
		oid := func(name string, table mib.Table) (string, error) {
			o, ok := objs[name]
			if !ok || o.Table != table {
				return "", fmt.Errorf("%s: %s is not an object the agent serves in its table", q.file, name)
			}
			return o.OID.String(), nil
		}
		index, err := oid(q.index, q.table)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
		o := objs[q.index].OID
		if q.table == mib.Scalars {
			o = o[:len(o)-1] // the group's OID
		} else {
			o = o[:len(o)-2] // the table's: a column's without .1.C
		}
		p("<!--\n"+q.comment+q.family.note+"\n-->", o)
		p("<interface>")
		p("\t<name>%s</name>", esc(q.name))
		p("\t<description>%s</description>", esc(q.desc))
		p("\t<oid_index>%s</oid_index>", index)
		if q.indexParse != "" {
			p("\t<oid_index_parse>%s</oid_index_parse>", esc(q.indexParse))
		}
		if q.numIndexes != "" {
			n, err := oid(q.numIndexes, mib.Scalars)
			if err != nil {
				return nil, err
			}
			p("\t<oid_num_indexes>%s.0</oid_num_indexes>", n)
		}
		p("\t<index_order>%s</index_order>", q.indexOrder)
		p("\t<index_order_type>%s</index_order_type>", q.indexOrderType)
		p("\t<index_title_format>%s</index_title_format>", esc(q.indexTitle))
		p("\n\t<fields>")
		if f := q.indexField; f != nil {
			p("\t\t<%s>\n\t\t\t<name>%s</name>\n\t\t\t<source>index</source>\n\t\t\t<direction>input</direction>\n\t\t</%s>", f[0], esc(f[1]), f[0])
		}
		field := func(name, title, object string, ascii bool, direction string) error {
			o, err := oid(object, q.table)
			if err != nil {
				return err
			}
			p("\t\t<%s>\n\t\t\t<name>%s</name>\n\t\t\t<method>walk</method>", name, esc(title))
			if ascii {
				p("\t\t\t<output_format>ascii</output_format>")
			}
			p("\t\t\t<source>value</source>\n\t\t\t<direction>%s</direction>\n\t\t\t<oid>%s</oid>\n\t\t</%s>", direction, o, name)
			return nil
		}
		for _, in := range q.inputs {
			if err := field(in.object, in.title, in.object, in.ascii, "input"); err != nil {
				return nil, err
			}
		}
		for _, s := range q.family.stats {
			if err := field(s.field, s.title, q.column(s), false, "output"); err != nil {
				return nil, err
			}
		}
		p("\t</fields>\n</interface>")
		out[q.file] = b.String()
	}
	return out, nil
}

// graphFields are a graph template's settings; title and vertical_label
// come from the template.
var graphFields = [][2]string{
	{"title", ""}, {"vertical_label", ""}, {"image_format_id", "1"}, {"height", "200"},
	{"width", "700"}, {"base_value", "1000"}, {"slope_mode", "on"}, {"auto_scale", "on"},
	{"auto_scale_opts", "2"}, {"auto_scale_log", ""}, {"scale_log_units", ""},
	{"auto_scale_rigid", ""}, {"upper_limit", "100"}, {"lower_limit", "0"},
	{"unit_value", ""}, {"unit_exponent_value", ""}, {"unit_length", ""}, {"no_gridfit", ""},
	{"alt_y_grid", ""}, {"right_axis", ""}, {"right_axis_label", ""}, {"right_axis_format", "0"},
	{"right_axis_formatter", ""}, {"left_axis_formatter", ""}, {"auto_padding", "on"},
	{"dynamic_labels", ""}, {"force_rules_legend", ""}, {"tab_width", ""},
	{"legend_position", ""}, {"legend_direction", ""},
}

// Source returns the template source.
func Source() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("<cacti>")
	for _, q := range queryDefs {
		dataQuery(p, q)
	}
	for _, f := range families {
		for _, g := range f.graphs {
			writeGraphTemplate(p, f, g)
		}
		writeDataTemplate(p, f)
	}
	p("</cacti>")
	return b.String()
}

type printer func(format string, args ...any)

func writeGraphTemplate(p printer, fam *family, g graphTemplate) {
	gt := h("00", "gt/"+g.key)
	p("\t<%s>", gt)
	p("\t\t<name>%s</name>", esc(g.name))
	p("\t\t<multiple></multiple>\n\t\t<test_source></test_source>\n\t\t<graph>")
	for _, f := range graphFields {
		v := f[1]
		switch f[0] {
		case "title":
			v = "|host_description| - " + g.name
		case "vertical_label":
			v = g.vlabel
		}
		p("\t\t\t<t_%s></t_%s>", f[0], f[0])
		p("\t\t\t<%s>%s</%s>", f[0], esc(v), f[0])
	}
	p("\t\t</graph>\n\t\t<items>")
	seq := 0
	type graphInput struct {
		ds, legend string
		members    []string
	}
	var inputs []graphInput
	for _, s := range g.series {
		var members []string
		type row struct {
			itemType     int
			colour       string
			cf           int
			text, hardRt string
		}
		rows := []row{
			{s.itemType, s.colour, average, fmt.Sprintf("%-10s", s.legend), ""},
			{gprintT, "0", last, "Current:", ""},
			{gprintT, "0", average, "Average:", ""},
			{gprintT, "0", max, "Maximum:", "on"},
		}
		for _, r := range rows {
			seq++
			item := h("10", fmt.Sprintf("gt/%s/item%d", g.key, seq))
			members = append(members, item)
			p("\t\t\t<%s>", item)
			for _, f := range [][2]string{
				{"graph_type_id", fmt.Sprint(r.itemType)}, {"task_item_id", fam.dsHash(s.ds)}, {"color_id", r.colour},
				{"alpha", "FF"}, {"consolidation_function_id", fmt.Sprint(r.cf)}, {"cdef_id", s.cdef},
				{"vdef_id", "0"}, {"shift", ""}, {"value", ""}, {"gprint_id", gprintNormal},
				{"textalign", ""}, {"text_format", r.text}, {"hard_return", r.hardRt},
				{"line_width", "0.00"}, {"dashes", ""}, {"dash_offset", "0"}, {"sequence", fmt.Sprint(seq)},
			} {
				p("\t\t\t\t<%s>%s</%s>", f[0], esc(f[1]), f[0])
			}
			p("\t\t\t</%s>", item)
		}
		inputs = append(inputs, graphInput{s.ds, s.legend, members})
	}
	p("\t\t</items>\n\t\t<inputs>")
	for _, in := range inputs {
		inp := h("09", fmt.Sprintf("gt/%s/input/%s", g.key, in.ds))
		p("\t\t\t<%s>", inp)
		p("\t\t\t\t<name>%s Data Source</name>", esc(in.legend))
		p("\t\t\t\t<description></description>\n\t\t\t\t<column_name>task_item_id</column_name>")
		var refs []string
		for _, m := range in.members {
			refs = append(refs, "hash_00"+version+bare(m))
		}
		p("\t\t\t\t<items>%s</items>", strings.Join(refs, "|"))
		p("\t\t\t</%s>", inp)
	}
	p("\t\t</inputs>\n\t</%s>", gt)
}

func writeDataTemplate(p printer, f *family) {
	p("\t<%s>", f.dataTemplate())
	p("\t\t<name>%s</name>\n\t\t<ds>", esc(f.name))
	p("\t\t\t<t_name></t_name>\n\t\t\t<name>|host_description| - LVS</name>")
	p("\t\t\t<data_source_path></data_source_path>")
	p("\t\t\t<data_input_id>%s</data_input_id>", dataInputSNMPIndexed)
	p("\t\t\t<t_data_source_profile_id></t_data_source_profile_id>")
	p("\t\t\t<data_source_profile_id>%s</data_source_profile_id>", profile5Min)
	p("\t\t\t<t_rrd_step></t_rrd_step>\n\t\t\t<rrd_step>300</rrd_step>")
	p("\t\t\t<t_active></t_active>\n\t\t\t<active>on</active>\n\t\t</ds>\n\t\t<items>")
	for _, s := range f.stats {
		item := f.dsHash(s.ds)
		p("\t\t\t<%s>", item)
		for _, f := range [][2]string{
			{"data_source_name", s.ds}, {"rrd_minimum", "0"}, {"rrd_maximum", "U"},
			{"data_source_type_id", fmt.Sprint(s.dsType)}, {"rrd_heartbeat", "600"},
			{"data_input_field_id", "0"},
		} {
			p("\t\t\t\t<t_%s></t_%s>\n\t\t\t\t<%s>%s</%s>", f[0], f[0], f[0], f[1], f[0])
		}
		p("\t\t\t</%s>", item)
	}
	p("\t\t</items>\n\t\t<data>")
	for i, f := range dataInputFields {
		p("\t\t\t<item_%03d>", i)
		p("\t\t\t\t<data_input_field_id>hash_07%s%s</data_input_field_id>", version, f.hash)
		on := ""
		if f.perSource {
			on = "on"
		}
		p("\t\t\t\t<t_value>%s</t_value>\n\t\t\t\t<value></value>", on)
		p("\t\t\t</item_%03d>", i)
	}
	p("\t\t</data>\n\t</%s>", f.dataTemplate())
}

func dataQuery(p printer, q query) {
	dq := h("04", "dq/"+q.key)
	p("\t<%s>", dq)
	p("\t\t<name>%s</name>\n\t\t<description>%s</description>", esc(q.name), esc(q.desc))
	p("\t\t<xml_path>&lt;path_cacti&gt;/resource/snmp_queries/%s</xml_path>", q.file)
	p("\t\t<data_input_id>%s</data_input_id>\n\t\t<graphs>", dataInputSNMPIndexed)
	fam := q.family
	for _, g := range fam.graphs {
		short := strings.TrimPrefix(g.name, "LVS - ")
		qg := h("11", fmt.Sprintf("dq/%s/%s", q.key, g.key))
		p("\t\t\t<%s>", qg)
		p("\t\t\t\t<graph_template_id>%s</graph_template_id>", h("00", "gt/"+g.key))
		p("\t\t\t\t<name>%s</name>\n\t\t\t\t<rrd>", esc(short))
		// Every graph maps all the family's DSs, not only those it draws:
		// Cacti reuses a row's data source for another graph only when the
		// mappings agree, and polls the fields of the graph that made it.
		for i, s := range fam.stats {
			p("\t\t\t\t\t<item_%03d>", i)
			p("\t\t\t\t\t\t<snmp_field_name>%s</snmp_field_name>", s.field)
			p("\t\t\t\t\t\t<data_template_id>%s</data_template_id>", fam.dataTemplate())
			p("\t\t\t\t\t\t<data_template_rrd_id>%s</data_template_rrd_id>", fam.dsHash(s.ds))
			p("\t\t\t\t\t</item_%03d>", i)
		}
		p("\t\t\t\t</rrd>\n\t\t\t\t<sv_graph>")
		sv := h("12", fmt.Sprintf("dq/%s/%s/title", q.key, g.key))
		p("\t\t\t\t\t<%s>\n\t\t\t\t\t\t<field_name>title</field_name>\n\t\t\t\t\t\t<sequence>1</sequence>", sv)
		p("\t\t\t\t\t\t<text>|host_description| - LVS %s - %s</text>", esc(q.label), esc(short))
		p("\t\t\t\t\t</%s>\n\t\t\t\t</sv_graph>\n\t\t\t\t<sv_data_source>", sv)
		sv = h("13", fmt.Sprintf("dq/%s/%s/name", q.key, g.key))
		p("\t\t\t\t\t<%s>\n\t\t\t\t\t\t<field_name>name</field_name>", sv)
		p("\t\t\t\t\t\t<data_template_id>%s</data_template_id>\n\t\t\t\t\t\t<sequence>1</sequence>", fam.dataTemplate())
		p("\t\t\t\t\t\t<text>|host_description| - LVS %s</text>", esc(q.label))
		p("\t\t\t\t\t</%s>\n\t\t\t\t</sv_data_source>", sv)
		p("\t\t\t</%s>", qg)
	}
	p("\t\t</graphs>\n\t</%s>", dq)
}
