// Command gen writes the source of the Zabbix 6.0 template for the LVS-MIB
// (JSON, in configuration.import's format) to stdout. It is a maintainer
// tool: build-template.sh, beside it (`make zabbix`), imports its output
// into a real Zabbix and commits what Zabbix exports
// (contrib/zabbix/template_lvs_agentx.yaml), so the shipped file is
// Zabbix's own YAML and imports cleanly; main_test.go fails when that file
// lacks anything this command makes today.
//
// Every OID comes from mib.Objects(), the column table the agent serves
// from; each item's key is its object's descriptor, so a reader of the
// template (and the tests) can tell which object an item polls.
package main

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/lvs-agentx/lvs-agentx/mib"
)

func main() {
	b, err := Source()
	if err != nil {
		fmt.Fprintln(os.Stderr, "contrib/zabbix/gen:", err)
		os.Exit(1)
	}
	os.Stdout.Write(b)
}

// Names shared with the tests and the README.
const (
	// TemplateName is the template's technical name (Zabbix allows no
	// parentheses there); TemplateVisibleName is what the frontend shows.
	TemplateName        = "LVS by SNMP lvs-agentx"
	TemplateVisibleName = "LVS by SNMP (lvs-agentx)"
	// ServiceMacro and RealMacro are the LLD macros holding the rows'
	// Name columns, which key the discovered items.
	ServiceMacro = "{#LVS.SERVICE}"
	RealMacro    = "{#LVS.REAL}"
	// ProtoMacro and StateMacro hold a connection state row's protocol
	// number and state name; SettingMacro a setting row's name.
	ProtoMacro   = "{#LVS.PROTO}"
	StateMacro   = "{#LVS.STATE}"
	SettingMacro = "{#LVS.SETTING}"
	// DefenseTrigger and RatesTrigger are the director's health triggers.
	DefenseTrigger = "LVS: IPVS defense active on the director"
	RatesTrigger   = "LVS: IPVS rates not estimated"
)

// column is one LVS-MIB object polled by an item (prototype).
type column struct {
	object string // descriptor in mib.Objects()
	name   string // item name, after the row's name
	units  string
	// perSecond: a counter, stored as its change per second.
	perSecond bool
	char      bool   // a string
	valuemap  string // name of a value map in valueMaps
	mult      string // preprocessing multiplier
}

// Scalars polled once per director.
var scalars = []column{
	{object: "lvsVersion", name: "IPVS version", char: true},
	{object: "lvsIpvsAvailable", name: "IPVS available", valuemap: "TruthValue"},
	{object: "lvsNumServices", name: "Virtual services"},
	{object: "lvsDaemonState", name: "Sync daemon state", valuemap: "LvsDaemonState"},
	// TimeTicks: hundredths of a second.
	{object: "lvsDataAge", name: "Age of the agent's data", units: "s", mult: "0.01"},
	// The director's health: the namespace's totals (which keep counting
	// after services are deleted), the kernel's rates (0 while rates are
	// not estimated), the connection table, the defenses.
	{object: "lvsTotalConns", name: "Total: connections per second", units: "conn/s", perSecond: true},
	{object: "lvsTotalInPkts", name: "Total: incoming packets per second", units: "pps", perSecond: true},
	{object: "lvsTotalOutPkts", name: "Total: outgoing packets per second", units: "pps", perSecond: true},
	{object: "lvsTotalInBytes", name: "Total: incoming bytes per second", units: "Bps", perSecond: true},
	{object: "lvsTotalOutBytes", name: "Total: outgoing bytes per second", units: "Bps", perSecond: true},
	{object: "lvsTotalRateCps", name: "Total, kernel estimate: connections per second", units: "conn/s"},
	{object: "lvsTotalRateInPPS", name: "Total, kernel estimate: incoming packets per second", units: "pps"},
	{object: "lvsTotalRateOutPPS", name: "Total, kernel estimate: outgoing packets per second", units: "pps"},
	{object: "lvsTotalRateInBPSHC", name: "Total, kernel estimate: incoming bytes per second", units: "Bps"},
	{object: "lvsTotalRateOutBPSHC", name: "Total, kernel estimate: outgoing bytes per second", units: "Bps"},
	{object: "lvsRatesEstimated", name: "Rates estimated", valuemap: "TruthValue"},
	{object: "lvsConnEntries", name: "Connection table: entries"},
	{object: "lvsConnTemplates", name: "Connection table: persistence templates"},
	{object: "lvsConnFromSync", name: "Connection table: entries from the sync daemon"},
	{object: "lvsDropEntry", name: "Defense: drop_entry", valuemap: "LvsDefenseState"},
	{object: "lvsDropPacket", name: "Defense: drop_packet", valuemap: "LvsDefenseState"},
	{object: "lvsSecureTcp", name: "Defense: secure_tcp", valuemap: "LvsDefenseState"},
	{object: "lvsAmemthresh", name: "Defense: free memory threshold", units: "pages"},
}

// Template graphs of the scalars.
var scalarGraphs = []graph{
	{"Total connections", []string{"lvsTotalConns"}},
	{"Total traffic", []string{"lvsTotalInBytes", "lvsTotalOutBytes"}},
	{"Total packets", []string{"lvsTotalInPkts", "lvsTotalOutPkts"}},
	{"Connection table", []string{"lvsConnEntries", "lvsConnTemplates", "lvsConnFromSync"}},
}

// One item per connection state row (its count) and per setting row (its
// content: a setting may be a list, such as est_cpulist).
var stateColumns = []column{
	{object: "lvsConnStateCount", name: "Connections"},
}

var settingColumns = []column{
	{object: "lvsSettingValue", name: "Value", char: true},
}

// The counters use the 64-bit columns (…HC, and the byte counters, which
// are Counter64 in the classic MIB already); the gauges include the 64-bit
// byte rates.
var serviceColumns = []column{
	{object: "lvsServiceStatsConnsHC", name: "Connections per second", units: "conn/s", perSecond: true},
	{object: "lvsServiceStatsInPktsHC", name: "Incoming packets per second", units: "pps", perSecond: true},
	{object: "lvsServiceStatsOutPktsHC", name: "Outgoing packets per second", units: "pps", perSecond: true},
	{object: "lvsServiceStatsInBytes", name: "Incoming bytes per second", units: "Bps", perSecond: true},
	{object: "lvsServiceStatsOutBytes", name: "Outgoing bytes per second", units: "Bps", perSecond: true},
	{object: "lvsServiceActiveConns", name: "Active connections"},
	{object: "lvsServiceInactiveConns", name: "Inactive connections"},
	{object: "lvsServicePersistConns", name: "Persistence templates"},
	{object: "lvsServiceNumDests", name: "Real servers"},
	{object: "lvsServiceNumAvailDests", name: "Usable real servers"},
	{object: "lvsServiceRateCps", name: "Kernel estimate: connections per second", units: "conn/s"},
	{object: "lvsServiceRateInPPS", name: "Kernel estimate: incoming packets per second", units: "pps"},
	{object: "lvsServiceRateOutPPS", name: "Kernel estimate: outgoing packets per second", units: "pps"},
	{object: "lvsServiceRateInBPSHC", name: "Kernel estimate: incoming bytes per second", units: "Bps"},
	{object: "lvsServiceRateOutBPSHC", name: "Kernel estimate: outgoing bytes per second", units: "Bps"},
}

var realColumns = []column{
	{object: "lvsRealStatsConnsHC", name: "Connections per second", units: "conn/s", perSecond: true},
	{object: "lvsRealStatsInPktsHC", name: "Incoming packets per second", units: "pps", perSecond: true},
	{object: "lvsRealStatsOutPktsHC", name: "Outgoing packets per second", units: "pps", perSecond: true},
	{object: "lvsRealStatsInBytes", name: "Incoming bytes per second", units: "Bps", perSecond: true},
	{object: "lvsRealStatsOutBytes", name: "Outgoing bytes per second", units: "Bps", perSecond: true},
	{object: "lvsRealActiveConns", name: "Active connections"},
	{object: "lvsRealInactiveConns", name: "Inactive connections"},
	{object: "lvsRealPersistConns", name: "Persistence templates"},
	{object: "lvsRealServerWeight", name: "Weight"},
	{object: "lvsRealRateCps", name: "Kernel estimate: connections per second", units: "conn/s"},
	{object: "lvsRealRateInPPS", name: "Kernel estimate: incoming packets per second", units: "pps"},
	{object: "lvsRealRateOutPPS", name: "Kernel estimate: outgoing packets per second", units: "pps"},
	{object: "lvsRealRateInBPSHC", name: "Kernel estimate: incoming bytes per second", units: "Bps"},
	{object: "lvsRealRateOutBPSHC", name: "Kernel estimate: outgoing bytes per second", units: "Bps"},
}

// graph is a graph (prototype): lines of the row's items.
type graph struct {
	name    string
	objects []string
}

var serviceGraphs = []graph{
	{"Connections", []string{"lvsServiceStatsConnsHC"}},
	{"Traffic", []string{"lvsServiceStatsInBytes", "lvsServiceStatsOutBytes"}},
	{"Packets", []string{"lvsServiceStatsInPktsHC", "lvsServiceStatsOutPktsHC"}},
	{"Connection table", []string{"lvsServiceActiveConns", "lvsServiceInactiveConns"}},
}

var realGraphs = []graph{
	{"Connections", []string{"lvsRealStatsConnsHC"}},
	{"Traffic", []string{"lvsRealStatsInBytes", "lvsRealStatsOutBytes"}},
	{"Packets", []string{"lvsRealStatsInPktsHC", "lvsRealStatsOutPktsHC"}},
	{"Connection table", []string{"lvsRealActiveConns", "lvsRealInactiveConns"}},
}

var valueMaps = map[string][][2]string{
	"TruthValue":      {{"1", "true"}, {"2", "false"}},
	"LvsDaemonState":  {{"0", "none"}, {"1", "master"}, {"2", "backup"}, {"3", "masterAndBackup"}},
	"LvsDefenseState": {{"0", "off"}, {"1", "automaticIdle"}, {"2", "automaticActive"}, {"3", "always"}},
}

// realJoin is the real-server discovery rule's JavaScript step. The rule
// walks lvsServiceName and lvsRealServerName together; Zabbix makes one
// row per index of either column, so a service row (index S) and a real
// server row (index S.R) arrive apart. The step gives every real server
// row the Name of its service and drops the service rows, so that real
// server items are keyed by both names: one real server may serve
// several services.
const realJoin = `var rows = JSON.parse(value), services = {}, out = [];
if (!Array.isArray(rows)) {
    rows = rows.data;
}
rows.forEach(function (r) {
    if (r['{#LVS.SERVICE}'] !== undefined && r['{#SNMPINDEX}'].indexOf('.') < 0) {
        services[r['{#SNMPINDEX}']] = r['{#LVS.SERVICE}'];
    }
});
rows.forEach(function (r) {
    var index = r['{#SNMPINDEX}'], service = services[index.split('.')[0]];
    if (index.indexOf('.') > 0 && r['{#LVS.REAL}'] !== undefined && service !== undefined) {
        out.push({'{#SNMPINDEX}': index, '{#LVS.SERVICE}': service, '{#LVS.REAL}': r['{#LVS.REAL}']});
    }
});
return JSON.stringify(out);`

type obj = map[string]any

// Source returns the template in configuration.import's JSON format.
func Source() ([]byte, error) {
	oids := map[string]string{}
	for _, o := range mib.Objects() {
		if o.Served() {
			oids[o.Name] = o.OID.String()
		}
	}
	oid := func(name string) (string, error) {
		if s, ok := oids[name]; ok {
			return s, nil
		}
		return "", fmt.Errorf("%s is not an object the agent serves", name)
	}
	items, err := scalarItems(oid)
	if err != nil {
		return nil, err
	}
	svcRule, err := serviceRule(oid)
	if err != nil {
		return nil, err
	}
	realRule, err := realServerRule(oid)
	if err != nil {
		return nil, err
	}
	health, err := healthRules(oid)
	if err != nil {
		return nil, err
	}
	export := obj{"zabbix_export": obj{
		"version":   "6.0",
		"groups":    []obj{{"uuid": uuid("group", "Templates/Applications"), "name": "Templates/Applications"}},
		"templates": []obj{template(items, append([]obj{svcRule, realRule}, health...)...)},
		"triggers":  healthTriggers(),
		"graphs":    templateGraphs(scalarGraphs),
	}}
	b, err := json.MarshalIndent(export, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// scalarItems returns an item per scalar, with the triggers on IPVS
// being unavailable and the agent's data growing old.
func scalarItems(oid func(string) (string, error)) ([]obj, error) {
	var items []obj
	for _, c := range scalars {
		o, err := oid(c.object)
		if err != nil {
			return nil, err
		}
		it := item(c, c.name, o+".0", c.object, "scalar")
		it["tags"] = []obj{{"tag": "component", "value": "ipvs"}}
		if c.object == "lvsIpvsAvailable" {
			it["triggers"] = []obj{{
				"uuid":        uuid("trigger", "ipvs-unavailable"),
				"expression":  fmt.Sprintf("last(/%s/lvsIpvsAvailable)<>1", TemplateName),
				"name":        "LVS: IPVS unavailable on the director",
				"priority":    "HIGH",
				"description": "lvs-agentx could not read IPVS (module not loaded, or no CAP_NET_ADMIN); the tables are empty.",
			}}
		}
		if c.object == "lvsRatesEstimated" {
			it["triggers"] = []obj{{
				"uuid":        uuid("trigger", "rates-not-estimated"),
				"expression":  fmt.Sprintf("last(/%s/lvsRatesEstimated)=2", TemplateName),
				"name":        RatesTrigger,
				"priority":    "WARNING",
				"description": "The kernel does not compute rates in this namespace (run_estimation is 0): every rate item reads 0, which means not measured.",
			}}
		}
		if c.object == "lvsDataAge" {
			it["triggers"] = []obj{{
				"uuid":        uuid("trigger", "data-age"),
				"expression":  fmt.Sprintf("min(/%s/lvsDataAge,{$LVS.DATA.AGE.PERIOD})>{$LVS.DATA.AGE.MAX}", TemplateName),
				"name":        "LVS: agent's data older than {$LVS.DATA.AGE.MAX}s",
				"priority":    "WARNING",
				"description": "lvs-agentx has not managed to re-read IPVS for a while.",
			}}
		}
		items = append(items, it)
	}
	return items, nil
}

// healthTriggers returns the template's triggers on several items: a
// defense against memory exhaustion active (2 automatic and active, 3
// always).
func healthTriggers() []obj {
	var expr []string
	for _, o := range []string{"lvsDropEntry", "lvsDropPacket", "lvsSecureTcp"} {
		expr = append(expr, fmt.Sprintf("last(/%s/%s)>=2", TemplateName, o))
	}
	return []obj{{
		"uuid":       uuid("trigger", "defense-active"),
		"expression": strings.Join(expr, " or "),
		"name":       DefenseTrigger,
		"priority":   "WARNING",
		"description": "drop_entry, drop_packet or secure_tcp is on: set to always by hand, or turned on by the kernel because free memory fell under amemthresh. " +
			"IPVS is dropping connection entries or packets, or using short TCP timeouts.",
	}}
}

// templateGraphs returns graphs of the template's own items.
func templateGraphs(graphs []graph) []obj {
	var out []obj
	for _, g := range graphs {
		out = append(out, obj{"uuid": uuid("graph", "scalar/"+g.name), "name": "LVS: " + g.name,
			"graph_items": graphItems(g, "")})
	}
	return out
}

// healthRules discovers the connection table's states and the settings.
// States come and go with the traffic: they are discovered every
// {$LVS.STATE.LLD.INTERVAL}, and a state without entries (no row) reads
// 0 until its items are deleted.
func healthRules(oid func(string) (string, error)) ([]obj, error) {
	proto, err := oid("lvsConnStateProto")
	if err != nil {
		return nil, err
	}
	state, err := oid("lvsConnStateName")
	if err != nil {
		return nil, err
	}
	setting, err := oid("lvsSettingName")
	if err != nil {
		return nil, err
	}
	stateRule, err := rule("Connection states", "lvs.states.discovery",
		fmt.Sprintf("discovery[%s,%s,%s,%s]", ProtoMacro, proto, StateMacro, state), stateColumns, nil,
		"Connection state "+StateMacro+" (protocol "+ProtoMacro+"): ", stateKey, "state", oid)
	if err != nil {
		return nil, err
	}
	stateRule["delay"] = "{$LVS.STATE.LLD.INTERVAL}"
	stateRule["lifetime"] = "1d"
	stateRule["description"] = "One row per protocol and state present in the connection table (lvsConnStateTable), keyed by the protocol number and the state's name as ipvsadm -Lnc prints it."
	for _, p := range stateRule["item_prototypes"].([]obj) {
		p["preprocessing"] = []obj{{"type": "CHECK_NOT_SUPPORTED", "parameters": []string{""},
			"error_handler": "CUSTOM_VALUE", "error_handler_params": "0"}}
	}
	settingRule, err := rule("Settings", "lvs.settings.discovery",
		fmt.Sprintf("discovery[%s,%s]", SettingMacro, setting), settingColumns, nil,
		"Setting "+SettingMacro+": ", settingKey, "setting", oid)
	if err != nil {
		return nil, err
	}
	settingRule["description"] = "One row per IPVS sysctl this kernel has (lvsSettingTable, /proc/sys/net/ipv4/vs), keyed by its name."
	return []obj{stateRule, settingRule}, nil
}

// Item keys of the discovered rows.
var (
	svcKey     = fmt.Sprintf(`["%s"]`, ServiceMacro)
	realKey    = fmt.Sprintf(`["%s","%s"]`, ServiceMacro, RealMacro)
	stateKey   = fmt.Sprintf(`["%s","%s"]`, ProtoMacro, StateMacro)
	settingKey = fmt.Sprintf(`["%s"]`, SettingMacro)
)

// serviceFilter keeps the services whose names the template's macros
// select, for both discovery rules.
func serviceFilter() obj {
	return obj{
		"evaltype": "AND",
		"conditions": []obj{
			{"macro": ServiceMacro, "value": "{$LVS.SERVICE.MATCHES}", "formulaid": "A"},
			{"macro": ServiceMacro, "value": "{$LVS.SERVICE.NOT_MATCHES}", "operator": "NOT_MATCHES_REGEX", "formulaid": "B"},
		},
	}
}

// serviceRule discovers the virtual services, with the trigger on a
// service left without a usable real server.
func serviceRule(oid func(string) (string, error)) (obj, error) {
	svcName, err := oid("lvsServiceName")
	if err != nil {
		return nil, err
	}
	svcRule, err := rule("Virtual services", "lvs.services.discovery",
		fmt.Sprintf("discovery[%s,%s]", ServiceMacro, svcName), serviceColumns, serviceGraphs,
		"Service "+ServiceMacro+": ", svcKey, "service", oid)
	if err != nil {
		return nil, err
	}
	svcRule["filter"] = serviceFilter()
	svcRule["description"] = "One row per virtual service of lvsServiceTable, keyed by lvsServiceName (such as \"TCP 10.99.0.1:80\"), so an item keeps its history when the agent renumbers the rows."
	for _, p := range svcRule["item_prototypes"].([]obj) {
		if p["key"] == "lvsServiceNumAvailDests"+svcKey {
			p["trigger_prototypes"] = []obj{{
				"uuid":        uuid("trigger", "no-usable-real-server"),
				"expression":  fmt.Sprintf("last(/%s/lvsServiceNumAvailDests%s)=0", TemplateName, svcKey),
				"name":        "LVS: no usable real server for " + ServiceMacro,
				"priority":    "HIGH",
				"description": "Every real server of the service has weight 0 or is over its upper connection threshold (or it has none): new connections to it fail.",
			}}
		}
	}
	return svcRule, nil
}

// realServerRule discovers the real servers, each named with its service.
func realServerRule(oid func(string) (string, error)) (obj, error) {
	svcName, err := oid("lvsServiceName")
	if err != nil {
		return nil, err
	}
	realName, err := oid("lvsRealServerName")
	if err != nil {
		return nil, err
	}
	realRule, err := rule("Real servers", "lvs.reals.discovery",
		fmt.Sprintf("discovery[%s,%s,%s,%s]", RealMacro, realName, ServiceMacro, svcName), realColumns, realGraphs,
		"Real server "+RealMacro+" of "+ServiceMacro+": ", realKey, "real", oid)
	if err != nil {
		return nil, err
	}
	realRule["preprocessing"] = []obj{{"type": "JAVASCRIPT", "parameters": []string{realJoin}}}
	realRule["filter"] = serviceFilter()
	realRule["description"] = "One row per real server of lvsRealTable, keyed by its service's lvsServiceName and its lvsRealServerName (such as \"127.0.0.1:8080\")."
	return realRule, nil
}

// template assembles the template from its items and discovery rules.
func template(items []obj, rules ...obj) obj {
	var vms []obj
	for _, name := range []string{"LvsDaemonState", "LvsDefenseState", "TruthValue"} {
		var m []obj
		for _, kv := range valueMaps[name] {
			m = append(m, obj{"value": kv[0], "newvalue": kv[1]})
		}
		vms = append(vms, obj{"uuid": uuid("valuemap", name), "name": name, "mappings": m})
	}
	return obj{
		"uuid":     uuid("template", TemplateName),
		"template": TemplateName,
		"name":     TemplateVisibleName,
		"description": "Linux Virtual Server (IPVS) directors through net-snmp's snmpd with lvs-agentx as its AgentX subagent (LVS-MIB, " +
			mib.Root.String() + "). Discovers the virtual services and real servers by name. See https://github.com/lvs-agentx/lvs-agentx.",
		"groups":          []obj{{"name": "Templates/Applications"}},
		"items":           items,
		"discovery_rules": rules,
		"macros": []obj{
			{"macro": "{$LVS.INTERVAL}", "value": "1m", "description": "How often the items are polled."},
			{"macro": "{$LVS.LLD.INTERVAL}", "value": "1h", "description": "How often services, real servers and settings are discovered."},
			{"macro": "{$LVS.STATE.LLD.INTERVAL}", "value": "5m", "description": "How often the connection table's states are discovered."},
			{"macro": "{$LVS.SERVICE.MATCHES}", "value": ".*", "description": "Discover only services whose name matches this regular expression."},
			{"macro": "{$LVS.SERVICE.NOT_MATCHES}", "value": "CHANGE_IF_NEEDED", "description": "Discover no service whose name matches this regular expression."},
			{"macro": "{$LVS.DATA.AGE.MAX}", "value": "60", "description": "Seconds: the agent's data older than this for {$LVS.DATA.AGE.PERIOD} is a problem."},
			{"macro": "{$LVS.DATA.AGE.PERIOD}", "value": "5m", "description": "See {$LVS.DATA.AGE.MAX}."},
		},
		"valuemaps": vms,
	}
}

// rule builds a discovery rule with an item prototype per column and the
// graph prototypes.
func rule(name, key, snmpOID string, cols []column, graphs []graph, prefix, keyParams, kind string,
	oid func(string) (string, error)) (obj, error) {
	var protos []obj
	for _, c := range cols {
		o, err := oid(c.object)
		if err != nil {
			return nil, err
		}
		p := item(c, prefix+c.name, o+".{#SNMPINDEX}", c.object+keyParams, kind)
		p["tags"] = []obj{{"tag": "component", "value": kind}, {"tag": kind, "value": nameMacro(kind)}}
		protos = append(protos, p)
	}
	var gps []obj
	for _, g := range graphs {
		gps = append(gps, obj{"uuid": uuid("graph", kind+"/"+g.name), "name": prefix + g.name, "graph_items": graphItems(g, keyParams)})
	}
	r := obj{
		"uuid":            uuid("rule", key),
		"name":            name,
		"type":            "SNMP_AGENT",
		"snmp_oid":        snmpOID,
		"key":             key,
		"delay":           "{$LVS.LLD.INTERVAL}",
		"lifetime":        "7d",
		"item_prototypes": protos,
	}
	if gps != nil {
		r["graph_prototypes"] = gps
	}
	return r, nil
}

// graphItems returns a graph's lines: its objects' items, keyed with
// keyParams.
func graphItems(g graph, keyParams string) []obj {
	colors := []string{"1A7C11", "F63100", "2774A4", "A54F10"}
	var gi []obj
	for i, o := range g.objects {
		gi = append(gi, obj{"sortorder": fmt.Sprint(i), "color": colors[i%len(colors)],
			"item": obj{"host": TemplateName, "key": o + keyParams}})
	}
	return gi
}

func nameMacro(kind string) string {
	switch kind {
	case "service":
		return ServiceMacro
	case "state":
		return ProtoMacro + " " + StateMacro
	case "setting":
		return SettingMacro
	}
	return ServiceMacro + " " + RealMacro
}

// item builds an SNMP item (prototype) polling one object instance.
func item(c column, name, snmpOID, key, kind string) obj {
	it := obj{
		"uuid":        uuid("item", key),
		"name":        name,
		"type":        "SNMP_AGENT",
		"snmp_oid":    snmpOID,
		"key":         key,
		"delay":       "{$LVS.INTERVAL}",
		"description": "LVS-MIB::" + c.object,
	}
	if c.units != "" {
		it["units"] = c.units
	}
	var pre []obj
	switch {
	case c.char:
		it["value_type"] = "CHAR"
		it["trends"] = "0"
	case c.perSecond:
		it["value_type"] = "FLOAT"
		pre = append(pre, obj{"type": "CHANGE_PER_SECOND", "parameters": []string{""}})
	case c.mult != "":
		it["value_type"] = "FLOAT"
	}
	if c.mult != "" {
		pre = append(pre, obj{"type": "MULTIPLIER", "parameters": []string{c.mult}})
	}
	if pre != nil {
		it["preprocessing"] = pre
	}
	if c.valuemap != "" {
		it["valuemap"] = obj{"name": c.valuemap}
	}
	return it
}

// uuid derives a stable UUID (version 4 layout, as Zabbix writes them)
// from a name, so that a re-import updates rather than duplicates.
func uuid(kind, name string) string {
	h := md5.Sum([]byte("lvs-agentx/zabbix/" + kind + "/" + name))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return strings.ToLower(hex.EncodeToString(h[:]))
}
