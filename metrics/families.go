package metrics

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// kind is a family's Prometheus type.
type kind uint8

const (
	counter kind = iota
	gauge
	info // a gauge named _info whose value is always 1; its labels carry the data
)

// conv turns a cell into a sample value.
type conv uint8

const (
	number  conv = iota // the number as the MIB serves it
	seconds             // TimeTicks, hundredths of a second
	truth               // TruthValue: true(1) is 1, false(2) is 0
)

// family is one metric family.
type family struct {
	name  string // without _total for counters
	kind  kind
	table mib.Table
	help  string
	cells []cell // one series per row for each cell
	// always: written also for a context whose IPVS could not be read
	// (the agent's own view of it); the others are left out then.
	always bool
}

// cell is where a series' value and its own labels come from.
type cell struct {
	col   mib.Column
	conv  conv
	label string // fixed label pairs of the series, such as defense="drop_entry"
	// infoLabels: an info series' labels, each a column's value (its
	// enumeration's name where it has one).
	infoLabels []infoLabel
	// stat: the value comes from the context's reads, not the view.
	stat func(ipvslive.ReadStats) float64
}

type infoLabel struct {
	name string
	col  mib.Column
}

// column resolves a served LVS-MIB object; the tables below name only
// objects the MIB package serves, which the tests check.
func column(name string) mib.Column {
	c, ok := mib.ColumnOf(name)
	if !ok {
		panic(fmt.Sprintf("metrics: %s is no served LVS-MIB object", name))
	}
	return c
}

// describe is the help of a family from object name: the first sentence
// of its DESCRIPTION (the rest explains SNMP matters).
func describe(name string) string {
	d, _ := mib.Define(name)
	if i := strings.Index(d.Description, ". "); i >= 0 {
		return d.Description[:i+1]
	}
	return d.Description
}

// builder collects families.
type builder []family

// from adds a family whose value is one object, with its description.
func (b *builder) from(name string, k kind, t mib.Table, object string) {
	*b = append(*b, family{name: name, kind: k, table: t, help: describe(object), cells: []cell{{col: column(object)}}})
}

// own adds a family whose help is its own, not the object's: its value is
// converted, or it comes from no object.
func (b *builder) own(f family) { *b = append(*b, f) }

// families returns every family in the order they are written.
func families() []family {
	var b builder
	b.agentFamilies()
	b.healthFamilies()
	b.rowFamilies()
	return b
}

// agentFamilies are the agent's view of each namespace and the classic
// module's scalars.
func (b *builder) agentFamilies() {
	stat := func(name string, k kind, help string, v func(ipvslive.ReadStats) float64) {
		b.own(family{name: name, kind: k, help: help, always: true, cells: []cell{{stat: v}}})
	}
	sc := mib.Scalars
	b.own(family{name: "lvs_up", kind: gauge, always: true, cells: []cell{{col: column("lvsIpvsAvailable"), conv: truth}},
		help: "1 when IPVS could be read at the last refresh, 0 when not (IPVS module not loaded, no permission); the other lvs_ series of the context are left out while it is 0."})
	b.own(family{name: "lvs_data_age_seconds", kind: gauge, always: true, cells: []cell{{col: column("lvsDataAge"), conv: seconds}},
		help: "How old the data being served is: the time from the start of the last read of IPVS to this scrape."})
	b.own(family{name: "lvs_changes", kind: counter, always: true, help: describe("lvsChanges"),
		cells: []cell{{col: column("lvsChanges")}}})
	stat("lvs_reads", counter, "Reads of IPVS in this context since the agent started: the scrapes', SNMP requests', the watch's.",
		func(s ipvslive.ReadStats) float64 { return float64(s.Reads) })
	stat("lvs_read_failures", counter, "Reads of IPVS that failed, or found the tables changing under every attempt.",
		func(s ipvslive.ReadStats) float64 { return float64(s.Failures) })
	stat("lvs_read_duration_seconds", gauge, "How long the last read of IPVS and the build of its view took.",
		func(s ipvslive.ReadStats) float64 { return s.LastDuration.Seconds() })

	b.own(family{name: "lvs_info", kind: info, table: sc, help: "The IPVS version the kernel reports, as the label version; the value is 1.",
		cells: []cell{{infoLabels: []infoLabel{{"version", column("lvsVersion")}}}}})
	b.from("lvs_services", gauge, sc, "lvsNumServices")
	b.from("lvs_connection_hash_buckets", gauge, sc, "lvsHashTableSize")
	b.from("lvs_tcp_timeout_seconds", gauge, sc, "lvsTcpTimeOut")
	b.from("lvs_tcp_fin_timeout_seconds", gauge, sc, "lvsTcpFinTimeOut")
	b.from("lvs_udp_timeout_seconds", gauge, sc, "lvsUdpTimeOut")
}

// healthFamilies are the director's health: totals, connection table,
// defenses, settings, sync daemons.
func (b *builder) healthFamilies() {
	sc := mib.Scalars
	for _, t := range []struct{ name, object string }{{"connections", "Conns"}, {"in_packets", "InPkts"},
		{"out_packets", "OutPkts"}, {"in_bytes", "InBytes"}, {"out_bytes", "OutBytes"}} {
		b.from("lvs_"+t.name, counter, sc, "lvsTotal"+t.object)
	}
	for _, t := range []struct{ name, object string }{{"connections", "Cps"}, {"in_packets", "InPPS"},
		{"out_packets", "OutPPS"}, {"in_bytes", "InBPSHC"}, {"out_bytes", "OutBPSHC"}} {
		b.from("lvs_"+t.name+"_per_second", gauge, sc, "lvsTotalRate"+t.object)
	}
	b.from("lvs_connection_entries", gauge, sc, "lvsConnEntries")
	b.from("lvs_connection_templates", gauge, sc, "lvsConnTemplates")
	b.from("lvs_connection_entries_from_sync", gauge, sc, "lvsConnFromSync")
	b.own(family{name: "lvs_connection_table_age_seconds", kind: gauge, table: sc, cells: []cell{{col: column("lvsConnDataAge"), conv: seconds}},
		help: "How long ago the connection table was read for lvs_connection_entries, lvs_connection_templates, lvs_connection_entries_from_sync and lvs_connection_state_entries."})
	b.from("lvs_connection_state_entries", gauge, mib.ConnStateTable, "lvsConnStateCount")
	b.own(family{name: "lvs_defense_state", kind: gauge, table: sc, cells: []cell{
		{col: column("lvsDropEntry"), label: `defense="drop_entry"`},
		{col: column("lvsDropPacket"), label: `defense="drop_packet"`},
		{col: column("lvsSecureTcp"), label: `defense="secure_tcp"`},
	}, help: "The state of an IPVS defense (drop_entry, drop_packet, secure_tcp) as its sysctl reports it: 0 off, 1 automatic and idle, 2 automatic and turned on by the kernel (memory is short), 3 always on."})
	b.from("lvs_amemthresh_pages", gauge, sc, "lvsAmemthresh")
	b.own(family{name: "lvs_rates_estimated", kind: gauge, table: sc, cells: []cell{{col: column("lvsRatesEstimated"), conv: truth}},
		help: "1 when the kernel computes rates in this namespace (run_estimation, always on kernels before 5.16); while 0 the _per_second series are not updated (6.1 keeps the last values)."})
	b.from("lvs_setting", gauge, mib.SettingTable, "lvsSettingInteger")
	b.own(family{name: "lvs_setting_info", kind: info, table: mib.SettingTable,
		help:  "An IPVS sysctl of /proc/sys/net/ipv4/vs: its name in the label setting, its text in the label value; the value is 1.",
		cells: []cell{{infoLabels: []infoLabel{{"value", column("lvsSettingValue")}}}}})
	b.own(family{name: "lvs_sync_daemon_info", kind: info, table: mib.DaemonTable,
		help: "A connection synchronisation daemon (role master or backup) and its settings as labels; the value is 1.",
		cells: []cell{{infoLabels: []infoLabel{{"interface", column("lvsSyncDaemonInterface")},
			{"sync_id", column("lvsSyncDaemonSyncId")}, {"group", column("lvsSyncDaemonGroupAddr")},
			{"port", column("lvsSyncDaemonPort")}, {"ttl", column("lvsSyncDaemonTtl")}, {"max_len", column("lvsSyncDaemonMaxLen")}}}}})
}

// rowFamilies are the services' and the real servers'.
func (b *builder) rowFamilies() {
	rows := []struct {
		prefix, object string
		table          mib.Table
	}{{"lvs_service_", "lvsService", mib.ServiceTable}, {"lvs_real_server_", "lvsReal", mib.RealTable}}
	for _, r := range rows {
		if r.table == mib.ServiceTable {
			b.own(family{name: "lvs_service_info", kind: info, table: r.table,
				help:  "A virtual service's scheduler, as the label scheduler; the value is 1.",
				cells: []cell{{infoLabels: []infoLabel{{"scheduler", column("lvsServiceSchedType")}}}}})
		} else {
			b.own(family{name: "lvs_real_server_info", kind: info, table: r.table,
				help:  "A real server's forwarding method (masq, local, tunnel, route, bypass), as the label forwarding; the value is 1.",
				cells: []cell{{infoLabels: []infoLabel{{"forwarding", column("lvsRealServerFlags")}}}}})
			b.from("lvs_real_server_weight", gauge, r.table, "lvsRealServerWeight")
		}
		for _, t := range []struct{ name, object string }{{"connections", "Conns"}, {"in_packets", "InPkts"},
			{"out_packets", "OutPkts"}, {"in_bytes", "InBytes"}, {"out_bytes", "OutBytes"}} {
			hc := "HC"
			if t.name == "in_bytes" || t.name == "out_bytes" {
				hc = "" // 64 bits from the start
			}
			b.from(r.prefix+t.name, counter, r.table, r.object+"Stats"+t.object+hc)
		}
		for _, t := range []struct{ name, object string }{{"connections", "Cps"}, {"in_packets", "InPPS"},
			{"out_packets", "OutPPS"}, {"in_bytes", "InBPSHC"}, {"out_bytes", "OutBPSHC"}} {
			b.from(r.prefix+t.name+"_per_second", gauge, r.table, r.object+"Rate"+t.object)
		}
		for _, t := range []struct{ name, object string }{{"active", "Active"}, {"inactive", "Inactive"}, {"persistent", "Persist"}} {
			b.from(r.prefix+t.name+"_connections", gauge, r.table, r.object+t.object+"Conns")
		}
	}
	b.from("lvs_service_real_servers", gauge, mib.ServiceTable, "lvsServiceNumDests")
	b.from("lvs_service_available_real_servers", gauge, mib.ServiceTable, "lvsServiceNumAvailDests")
	b.from("lvs_service_persistence_timeout_seconds", gauge, mib.ServiceTable, "lvsServicePersistTimeout")
	b.from("lvs_real_server_upper_threshold_connections", gauge, mib.RealTable, "lvsRealUpperThreshold")
	b.from("lvs_real_server_lower_threshold_connections", gauge, mib.RealTable, "lvsRealLowerThreshold")
}

// appendValue appends the sample value of vb to dst, or returns false
// when there is none (an exception: the view has no such instance).
// Integers are written as integers, exact beyond float64's 2^53.
func appendValue(dst []byte, vb agentx.VarBind, c conv) ([]byte, bool) {
	switch vb.Type {
	case agentx.Integer:
		if c == truth {
			return strconv.AppendInt(dst, int64(boolInt(vb.Int == 1)), 10), true
		}
		return strconv.AppendInt(dst, int64(vb.Int), 10), true
	case agentx.Counter32, agentx.Gauge32, agentx.Counter64:
		return strconv.AppendUint(dst, vb.Uint, 10), true
	case agentx.TimeTicks:
		if c == seconds {
			return strconv.AppendFloat(dst, float64(vb.Uint)/100, 'g', -1, 64), true
		}
		return strconv.AppendUint(dst, vb.Uint, 10), true
	}
	return dst, false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FamilyInfo describes a family as a scrape shows it, for programs that
// compare scrapes with IPVS (check).
type FamilyInfo struct {
	Name string // as in the exposition: counters end in _total
	// Class says how the values relate to IPVS: counters may lag the
	// kernel, gauges move, the agent's own account (ClassAgent) is not
	// IPVS's; the rest must be equal.
	Class mib.Class
	// Table is the table its rows come from (mib.Scalars for one row).
	Table mib.Table
}

// Families describes every LVS family a scrape may carry.
func Families() []FamilyInfo {
	fs := families()
	out := make([]FamilyInfo, len(fs))
	for i, f := range fs {
		out[i] = FamilyInfo{Name: f.name, Class: mib.ClassAgent, Table: f.table}
		if f.kind == counter {
			out[i].Name += "_total"
		}
		switch {
		case f.kind == info:
			out[i].Class = mib.ClassSetting // its labels are the data
		case f.cells[0].stat == nil:
			out[i].Class = f.cells[0].col.Object().Class
		}
	}
	return out
}
