package graphs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
	"github.com/lvs-agentx/lvs-agentx/mib"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// promDir holds the Prometheus integration: generator.yml, the snmp.yml
// made from it, the alerting rules and their promtool tests.
const promDir = "../../contrib/prometheus"

const promInstall = "apt-get install -y prometheus-snmp-exporter prometheus erlang-snmp"

// snmpModule is the part of snmp_exporter's snmp.yml this test reads.
type snmpModule struct {
	Walk    []string `yaml:"walk"`
	Get     []string `yaml:"get"`
	Metrics []struct {
		Name    string `yaml:"name"`
		OID     string `yaml:"oid"`
		Type    string `yaml:"type"`
		Indexes []struct {
			Labelname string `yaml:"labelname"`
		} `yaml:"indexes"`
		Lookups []struct {
			Labels    []string `yaml:"labels"`
			Labelname string   `yaml:"labelname"`
			OID       string   `yaml:"oid"`
		} `yaml:"lookups"`
	} `yaml:"metrics"`
}

func readSnmpModule(t *testing.T) snmpModule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(promDir, "snmp.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]snmpModule
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("parse snmp.yml: %v", err)
	}
	m, ok := cfg["lvs"]
	if !ok || len(m.Metrics) == 0 {
		t.Fatalf("snmp.yml has no module lvs with metrics")
	}
	return m
}

// TestPrometheusSnmpYmlFresh regenerates snmp.yml with Debian's generator
// and fails when the committed file differs: generator.yml or the MIB
// changed without `make prometheus`.
func TestPrometheusSnmpYmlFresh(t *testing.T) {
	testutil.NeedTool(t, "prometheus-snmp-generator", promInstall)
	fresh := filepath.Join(t.TempDir(), "snmp.yml")
	out, err := exec.Command(filepath.Join(promDir, "generate.sh"), fresh).CombinedOutput()
	if err != nil {
		t.Fatalf("generate.sh: %v\n%s", err, out)
	}
	want, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(promDir, "snmp.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); d != "" {
		t.Errorf("contrib/prometheus/snmp.yml is stale; run make prometheus (-fresh +committed):\n%s", d)
	}
}

// TestPrometheusSnmpYmlCoversMIB checks snmp.yml against the MIB package's
// own object table: every served scalar, every counter and gauge column
// of the service and real server tables (the 64-bit object where there
// is one, never the 32-bit one it supersedes), every served column of
// the connection state and setting tables as a metric or a label, each
// with its OID and Prometheus type, and table rows labelled by names,
// not numbers.
func TestPrometheusSnmpYmlCoversMIB(t *testing.T) {
	m := readSnmpModule(t)
	objs := map[string]mib.Object{}
	for _, o := range mib.Objects() {
		objs[o.Name] = o
	}
	type exported struct{ oid, typ string }
	got := map[string]exported{}
	labelled := map[string]bool{} // looked up as a label of some metric
	for _, mt := range m.Metrics {
		got[mt.Name] = exported{mt.OID, mt.Type}
		for _, ix := range mt.Indexes {
			labelled[ix.Labelname] = true
		}
		for _, l := range mt.Lookups {
			labelled[l.Labelname] = labelled[l.Labelname] || l.OID != ""
		}
	}

	for _, o := range mib.Objects() {
		if !o.Served() {
			continue
		}
		_, hasHC := objs[o.Name+"HC"]
		inTable := o.Table == mib.ServiceTable || o.Table == mib.RealTable
		health := o.Table == mib.ConnStateTable || o.Table == mib.SettingTable
		e, ok := got[o.Name]
		switch {
		case hasHC && ok:
			t.Errorf("%s exported; export %sHC instead", o.Name, o.Name)
		case health && !ok && !labelled[o.Name]:
			t.Errorf("%s (%v) neither exported nor a label", o.Name, o.OID)
		case (o.Table == mib.Scalars || inTable && (o.Class == mib.ClassCounter || o.Class == mib.ClassGauge)) && !hasHC && !ok:
			t.Errorf("%s (%v) not exported", o.Name, o.OID)
		}
		if !ok {
			continue
		}
		if e.oid != o.OID.String() && "."+e.oid != o.OID.String() {
			t.Errorf("%s: snmp.yml OID %s, MIB %v", o.Name, e.oid, o.OID)
		}
		want := map[mib.Class]string{mib.ClassCounter: "counter", mib.ClassGauge: "gauge"}[o.Class]
		if want != "" && e.typ != want {
			t.Errorf("%s: type %s, want %s", o.Name, e.typ, want)
		}
	}

	// Labels of each table's rows once lookups ran: the names (and the
	// address, port, protocol lookups), never the row numbers.
	tables := []struct {
		table        mib.Table
		want, forbid []string
	}{
		{mib.ServiceTable, []string{"lvsServiceName", "lvsServiceAddr", "lvsServicePort", "lvsServiceProto"}, []string{"lvsServiceNumber"}},
		{mib.RealTable, []string{"lvsServiceName", "lvsRealServerName", "lvsRealServerAddr", "lvsRealServerPort"}, []string{"lvsRealServiceNumber", "lvsRealServerNumber"}},
		// A state's number is fixed per name (the generator cannot drop it
		// and keep the protocol); a setting's too, but it is dropped.
		{mib.ConnStateTable, []string{"lvsConnStateProto", "lvsConnStateName"}, nil},
		{mib.SettingTable, []string{"lvsSettingName"}, []string{"lvsSettingIndex"}},
	}
	for _, mt := range m.Metrics {
		o, ok := objs[mt.Name]
		if !ok {
			t.Errorf("snmp.yml metric %s is no LVS-MIB object", mt.Name)
			continue
		}
		labels := map[string]bool{}
		for _, ix := range mt.Indexes {
			labels[ix.Labelname] = true
		}
		for _, l := range mt.Lookups {
			// A lookup without an OID is the generator's way of dropping
			// a source index label.
			labels[l.Labelname] = l.OID != ""
		}
		for _, tc := range tables {
			if o.Table != tc.table {
				continue
			}
			for _, l := range tc.want {
				if !labels[l] {
					t.Errorf("%s: no label %s", mt.Name, l)
				}
			}
			for _, l := range tc.forbid {
				if labels[l] {
					t.Errorf("%s: labelled by row number %s", mt.Name, l)
				}
			}
		}
	}
}

// TestPrometheusRules runs promtool over the alerting rules for
// snmp_exporter's series and their unit tests (see checkRules).
func TestPrometheusRules(t *testing.T) {
	checkRules(t, "lvs-rules.yml", "lvs-rules.test.yml")
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// alerts returns the names of the file's alerts.
func (f ruleFile) alerts() []string {
	var out []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r.Alert)
			}
		}
	}
	return out
}

// ruleTests is the part of a promtool unit test file the tests read.
type ruleTests struct {
	Tests []struct {
		InputSeries []struct {
			Series string `yaml:"series"`
		} `yaml:"input_series"`
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels map[string]string `yaml:"exp_labels"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// readYAML parses file of promDir into v.
func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(promDir, file))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
}

// promtool runs promtool with args in promDir and fails the test when it
// does.
func promtool(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(testutil.NeedTool(t, "promtool", "apt-get install -y prometheus"), args...)
	cmd.Dir = promDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		return
	}
	t.Logf("promtool %s:\n%s", strings.Join(args, " "), strings.TrimSpace(string(out)))
}

// checkRules runs promtool over a rule file and its unit tests, and
// checks that the tests cover every alert both firing and not firing. It
// returns the rules and the tests.
func checkRules(t *testing.T, rulesFile, testsFile string) (ruleFile, ruleTests) {
	t.Helper()
	promtool(t, "check", "rules", rulesFile)
	promtool(t, "test", "rules", testsFile)

	var rules ruleFile
	var tests ruleTests
	readYAML(t, rulesFile, &rules)
	readYAML(t, testsFile, &tests)
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	alerts := rules.alerts()
	for _, a := range alerts {
		if !fires[a] || !silent[a] {
			t.Errorf("%s: alert %s: unit tests where it fires: %v, where it does not: %v", rulesFile, a, fires[a], silent[a])
		}
	}
	if len(alerts) < 5 {
		t.Errorf("%s has %d alerts, want at least 5", rulesFile, len(alerts))
	}
	return rules, tests
}

// TestPrometheusExporterMatchesIpvsadm runs Debian's snmp_exporter with
// the committed snmp.yml against snmpd and lvs-agentx in a director with
// real IPVS and traffic, and checks that every exported counter of each
// service and real server, found by its Name labels, equals what
// `ipvsadm -Ln --stats --exact` says in the same scenario; and that the
// director's health equals the kernel's files: the totals
// /proc/net/ip_vs_stats, the connection counts by state `ipvsadm -Lnc`,
// the defenses and settings /proc/sys/net/ipv4/vs.
func TestPrometheusExporterMatchesIpvsadm(t *testing.T) {
	t.Parallel()
	testutil.NeedTool(t, "prometheus-snmp-exporter", promInstall)
	testutil.NeedTool(t, "curl", "apt-get install -y curl")
	snmpYml, err := os.ReadFile(filepath.Join(promDir, "snmp.yml"))
	if err != nil {
		t.Fatal(err)
	}
	const scrape = `curl -sSf 'http://127.0.0.1:9116/snmp?module=lvs&target=127.0.0.1:161'`
	r := testbed.MustRun(t, testbed.Scenario{
		Timeout:  6 * time.Minute,
		Binaries: map[string]string{"lvs-agentx": "github.com/lvs-agentx/lvs-agentx/cmd/lvs-agentx"},
		Files:    map[string][]byte{"snmp.yml": snmpYml},
		Script: directorScript("127.0.0.1", "set -eu\n"+settingsFunc+trafficSetup+agentSetup+`
prometheus-snmp-exporter --config.file="$WORK/snmp.yml" --web.listen-address=127.0.0.1:9116 2> "$WORK/exporter.log" &
up=
for i in $(seq 100); do
	if curl -sf -o /dev/null http://127.0.0.1:9116/metrics; then up=1; break; fi
	sleep 0.2
done
[ -n "$up" ] || { echo "snmp_exporter did not start"; cat "$WORK/exporter.log"; exit 1; }
`+strings.Replace(trafficRun, "TRAFFIC_SECONDS", "15", 1)+`
# Traffic has stopped; the kernel folds its per-CPU counters every 2 s.
# A first scrape makes the agent re-read IPVS after that, so that the
# next ones are answered from a settled read even when a read outlasts
# --refresh-wait in an emulated guest. Both scrapes must agree with each
# other as well as with ipvsadm between them.
sleep 6
`+scrape+` > /dev/null
sleep 2
`+scrape+` > scrape1.txt
ipvsadm -Ln --stats --exact > stats.txt
ipvsadm -Ln > table.txt
cat /proc/net/ip_vs_stats > ipvs_stats.txt
ipvsadm -Lnc > lnc.txt
settings > settings.txt
`+scrape+` > scrape2.txt
cat stats.txt
`),
	})

	compareWithIpvsadm(t, readSnmpModule(t), string(r.File(t, "stats.txt")), string(r.File(t, "table.txt")),
		string(r.File(t, "scrape1.txt")), string(r.File(t, "scrape2.txt")), len(trafficFileSize), r.Describe())
	s1, s2 := parseExposition(t, string(r.File(t, "scrape1.txt"))), parseExposition(t, string(r.File(t, "scrape2.txt")))
	compareHealth(t, s1, s2, string(r.File(t, "ipvs_stats.txt")), string(r.File(t, "lnc.txt")),
		parseSettings(t, string(r.File(t, "settings.txt"))))
}

// compareHealth checks the director's health in two scrapes around the
// kernel's files, read after the traffic: the totals and the connection
// table's counts by state held still, the settings too.
func compareHealth(t *testing.T, s1, s2 exposition, ipvsStats, lnc string, settings map[string]string) {
	t.Helper()
	check := func(metric string, labels map[string]string, want float64) {
		t.Helper()
		series := metric
		if len(labels) > 0 {
			series += strings.TrimPrefix(fmt.Sprint(labels), "map")
		}
		v1, ok1 := s1.value(metric, labels)
		v2, ok2 := s2.value(metric, labels)
		switch {
		case !ok1 || !ok2:
			t.Errorf("no %s in the scrapes", series)
		case v1 != want || v2 != want:
			t.Errorf("%s = %v, %v; kernel %v", series, v1, v2, want)
		default:
			t.Logf("%s = %v = kernel", series, v1)
		}
	}
	for metric, v := range parseIpvsStats(t, ipvsStats) {
		check(metric, nil, float64(v))
	}
	states, entries, templates := countStates(t, lnc)
	if len(states) == 0 {
		t.Errorf("ipvsadm -Lnc lists no connections after the traffic:\n%s", lnc)
	}
	for ps, n := range states {
		check("lvsConnStateCount", map[string]string{"lvsConnStateProto": ps[0], "lvsConnStateName": ps[1]}, float64(n))
	}
	var served int
	for _, smp := range s1 {
		if smp.name == "lvsConnStateCount" {
			served++
		}
	}
	if served != len(states) {
		t.Errorf("%d lvsConnStateCount series, ipvsadm -Lnc has %d protocol and state pairs", served, len(states))
	}
	check("lvsConnEntries", nil, float64(entries))
	check("lvsConnTemplates", nil, float64(templates))
	check("lvsConnFromSync", nil, 0)
	check("lvsRatesEstimated", nil, 1)
	for metric, file := range map[string]string{"lvsDropEntry": "drop_entry", "lvsDropPacket": "drop_packet",
		"lvsSecureTcp": "secure_tcp", "lvsAmemthresh": "amemthresh"} {
		v, err := strconv.ParseFloat(settings[file], 64)
		if err != nil {
			t.Errorf("%s: %q", file, settings[file])
		}
		check(metric, nil, v)
	}
	for name, value := range settings {
		check("lvsSettingValue", map[string]string{"lvsSettingName": name, "lvsSettingValue": value}, 1)
		if v, err := strconv.ParseInt(value, 10, 32); err == nil {
			check("lvsSettingInteger", map[string]string{"lvsSettingName": name}, float64(v))
		}
	}
}

// compareWithIpvsadm checks two scrapes of module lvs against ipvsadm -Ln
// --stats --exact (stats) and ipvsadm -Ln (table): every exported counter
// of each service with connections and of its real servers, found by the
// Name labels, and the real servers' weights. wantServices is how many
// services must have carried traffic.
func compareWithIpvsadm(t *testing.T, m snmpModule, stats, table, scrape1, scrape2 string, wantServices int, describe string) {
	t.Helper()
	// The exported counters of each table, from the MIB's own object
	// table, each with the ipvsadm --stats column it must equal: the
	// column name with its table prefix and the HC suffix cut off
	// (lvsServiceStatsConnsHC: Conns).
	counters := map[mib.Table]map[string]string{mib.ServiceTable: {}, mib.RealTable: {}}
	prefix := map[mib.Table]string{mib.ServiceTable: "lvsServiceStats", mib.RealTable: "lvsRealStats"}
	for _, mt := range m.Metrics {
		for _, o := range mib.Objects() {
			if o.Name == mt.Name && o.Class == mib.ClassCounter && counters[o.Table] != nil {
				counters[o.Table][mt.Name] = strings.TrimSuffix(strings.TrimPrefix(mt.Name, prefix[o.Table]), "HC")
			}
		}
	}

	kernel := parseIpvsadmStats(t, stats)
	reals := parseIpvsadmTable(t, table)
	s1 := parseExposition(t, scrape1)
	s2 := parseExposition(t, scrape2)

	for table, cols := range counters {
		var ipvsCols []string
		for _, c := range cols {
			ipvsCols = append(ipvsCols, c)
		}
		sort.Strings(ipvsCols)
		if d := cmp.Diff([]string{"Conns", "InBytes", "InPkts", "OutBytes", "OutPkts"}, ipvsCols); d != "" {
			t.Errorf("table %d: exported counters do not map onto ipvsadm's columns one to one (-ipvsadm +exported):\n%s", table, d)
		}
	}

	checked := 0
	for svc, row := range kernel {
		if row.stats["Conns"] == 0 {
			continue // trafficSetup's services all carry traffic
		}
		checked++
		svcLabels := map[string]string{"lvsServiceName": svc}
		proto, hostPort, _ := strings.Cut(svc, " ")
		host, port, _ := strings.Cut(hostPort, ":")
		want := map[string]string{"lvsServiceAddr": host, "lvsServicePort": port,
			"lvsServiceProto": map[string]string{"TCP": "6", "UDP": "17", "SCTP": "132"}[proto]}
		compareCounters(t, svc, counters[mib.ServiceTable], row.stats, svcLabels, want, s1, s2)
		for real, stats := range row.reals {
			if stats["Conns"] == 0 {
				t.Errorf("%s real server %s: no connections; the rr scheduler should give each some", svc, real)
			}
			labels := map[string]string{"lvsServiceName": svc, "lvsRealServerName": real}
			host, port, _ := strings.Cut(real, ":")
			want := map[string]string{"lvsRealServerAddr": host, "lvsRealServerPort": port}
			compareCounters(t, svc+" -> "+real, counters[mib.RealTable], stats, labels, want, s1, s2)
			w, ok := s1.value("lvsRealServerWeight", labels)
			if !ok || w != reals[svc+" -> "+real].weight {
				t.Errorf("%s -> %s: lvsRealServerWeight %v (found %v), ipvsadm %v", svc, real, w, ok, reals[svc+" -> "+real].weight)
			}
		}
	}
	if checked != wantServices {
		t.Fatalf("ipvsadm shows %d services with traffic, want %d\n%s", checked, wantServices, describe)
	}
}

// compareCounters checks each exported counter of one row, found by its
// labels in both scrapes, against the kernel's value; want are further
// labels the row's series must carry.
func compareCounters(t *testing.T, row string, cols map[string]string, kernel map[string]uint64, labels, want map[string]string, s1, s2 exposition) {
	t.Helper()
	for metric, col := range cols {
		k, ok := kernel[col]
		if !ok {
			t.Errorf("%s: ipvsadm has no column %s for %s", row, col, metric)
			continue
		}
		v1, ok1 := s1.value(metric, labels)
		v2, ok2 := s2.value(metric, labels)
		switch {
		case !ok1 || !ok2:
			t.Errorf("%s: no %s series labelled %v in the scrape", row, metric, labels)
		case v1 != v2:
			t.Errorf("%s: %s moved between the scrapes (%v, %v): traffic had not settled", row, metric, v1, v2)
		case v1 != float64(k):
			t.Errorf("%s: %s = %v, ipvsadm %s = %d", row, metric, v1, col, k)
		default:
			t.Logf("%s: %s = %v = ipvsadm %s", row, metric, v1, col)
		}
		for l, v := range want {
			if got := s1.label(metric, labels, l); got != v {
				t.Errorf("%s: %s label %s=%q, want %q", row, metric, l, got, v)
			}
		}
	}
}

// ipvsadmRow is a service's line of ipvsadm -Ln --stats --exact and its
// real servers' lines, by column name.
type ipvsadmRow struct {
	stats map[string]uint64
	reals map[string]map[string]uint64
}

// parseIpvsadmStats reads ipvsadm -Ln --stats --exact, keyed by the names
// lvs-agentx serves ("TCP 10.99.0.1:80", "127.0.0.1:8080").
func parseIpvsadmStats(t *testing.T, out string) map[string]*ipvsadmRow {
	t.Helper()
	rows := map[string]*ipvsadmRow{}
	var cols []string
	var cur *ipvsadmRow
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0 || strings.HasPrefix(line, "IP Virtual Server") || len(f) == 2 && f[1] == "RemoteAddress:Port":
		case f[0] == "Prot":
			cols = f[2:] // Prot LocalAddress:Port Conns InPkts ...
		case f[0] == "->":
			if cur == nil || len(f) != 2+len(cols) {
				t.Fatalf("ipvsadm: unexpected line %q", line)
			}
			cur.reals[f[1]] = parseCols(t, cols, f[2:])
		default:
			if len(f) != 2+len(cols) {
				t.Fatalf("ipvsadm: unexpected line %q", line)
			}
			cur = &ipvsadmRow{stats: parseCols(t, cols, f[2:]), reals: map[string]map[string]uint64{}}
			rows[f[0]+" "+f[1]] = cur
		}
	}
	if len(rows) == 0 {
		t.Fatalf("no services in ipvsadm output:\n%s", out)
	}
	return rows
}

func parseCols(t *testing.T, cols, vals []string) map[string]uint64 {
	t.Helper()
	m := map[string]uint64{}
	for i, c := range cols {
		v, err := strconv.ParseUint(vals[i], 10, 64)
		if err != nil {
			t.Fatalf("ipvsadm: %s = %q: %v", c, vals[i], err)
		}
		m[c] = v
	}
	return m
}

// ipvsadmReal is a real server's line of ipvsadm -Ln.
type ipvsadmReal struct {
	forward                  string
	weight, active, inactive float64
}

// parseIpvsadmTable reads the real servers of ipvsadm -Ln, keyed "service
// -> real server" ("TCP 10.99.0.1:80 -> 127.0.0.1:8080", "FWM 7 ->
// 10.0.0.7:0").
func parseIpvsadmTable(t *testing.T, out string) map[string]ipvsadmReal {
	t.Helper()
	reals := map[string]ipvsadmReal{}
	svc := ""
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && (f[0] == "TCP" || f[0] == "UDP" || f[0] == "SCTP" || f[0] == "FWM"):
			svc = f[0] + " " + f[1]
		case len(f) == 6 && f[0] == "->" && f[1] != "RemoteAddress:Port":
			var v [3]float64
			for i, s := range f[3:] {
				n, err := strconv.ParseFloat(s, 64)
				if err != nil {
					t.Fatalf("ipvsadm: %q: %v", line, err)
				}
				v[i] = n
			}
			reals[svc+" -> "+f[1]] = ipvsadmReal{forward: f[2], weight: v[0], active: v[1], inactive: v[2]}
		}
	}
	return reals
}

// TestPrometheusParseSample checks the exposition parser the end-to-end
// test reads snmp_exporter's answers with.
func TestPrometheusParseSample(t *testing.T) {
	for _, tc := range []struct {
		line string
		want sample
	}{
		{`lvsDataAge 3`, sample{name: "lvsDataAge", labels: map[string]string{}, value: 3}},
		{`lvsServiceStatsConnsHC{lvsServiceAddr="0.0.0.0",lvsServiceName="TCP [fd00::1]:443",lvsServicePort="443"} 4.294967303e+09`,
			sample{name: "lvsServiceStatsConnsHC", labels: map[string]string{"lvsServiceAddr": "0.0.0.0",
				"lvsServiceName": "TCP [fd00::1]:443", "lvsServicePort": "443"}, value: 4294967303}},
		{`x{a="q\"uo\\te,}",b="n\nl"} -1`, sample{name: "x", labels: map[string]string{"a": `q"uo\te,}`, "b": "n\nl"}, value: -1}},
	} {
		got, err := parseSample(tc.line)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(sample{})); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.line, d)
		}
	}
}

// sample is one line of the Prometheus text exposition format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

type exposition []sample

// find returns the sample of metric whose labels include all of match.
func (e exposition) find(metric string, match map[string]string) (sample, bool) {
	for _, s := range e {
		if s.name != metric {
			continue
		}
		ok := true
		for k, v := range match {
			if s.labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			return s, true
		}
	}
	return sample{}, false
}

func (e exposition) value(metric string, match map[string]string) (float64, bool) {
	s, ok := e.find(metric, match)
	return s.value, ok
}

func (e exposition) label(metric string, match map[string]string, label string) string {
	s, _ := e.find(metric, match)
	return s.labels[label]
}

// parseExposition reads the text format snmp_exporter answers with:
// name{label="value",...} value, with \\, \" and \n escapes in values.
func parseExposition(t *testing.T, text string) exposition {
	t.Helper()
	var out exposition
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			t.Fatalf("scrape line %q: %v", line, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatalf("empty scrape")
	}
	return out
}

func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, fmt.Errorf("no value")
	}
	s.name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			if rest == "" {
				return s, fmt.Errorf("unterminated labels")
			}
			if rest[0] == '}' {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq < 0 {
				return s, fmt.Errorf("bad label at %q", rest)
			}
			name := strings.TrimPrefix(rest[:eq], ",")
			rest = rest[eq+2:]
			var val bytes.Buffer
			for {
				if rest == "" {
					return s, fmt.Errorf("unterminated label value")
				}
				c := rest[0]
				rest = rest[1:]
				if c == '"' {
					break
				}
				if c == '\\' && rest != "" {
					c, rest = rest[0], rest[1:]
					if c == 'n' {
						c = '\n'
					}
				}
				val.WriteByte(c)
			}
			s.labels[name] = val.String()
			rest = strings.TrimPrefix(rest, ",")
		}
	}
	f := strings.Fields(rest)
	if len(f) < 1 {
		return s, fmt.Errorf("no value")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return s, err
	}
	s.value = v
	return s, nil
}

// TestPrometheusParseIpvsadm checks the ipvsadm parsers the end-to-end
// test takes the kernel's values with.
func TestPrometheusParseIpvsadm(t *testing.T) {
	stats := parseIpvsadmStats(t, `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  10.99.0.1:80                       20      120      121     7860 5000000000
  -> 127.0.0.1:8080                     10       60       61     3930    25320
  -> 127.0.0.1:8081                     10       60       60     3930    25320
FWM  5                                   0        0        0        0        0
`)
	svc := rows(stats)
	if d := cmp.Diff([]string{"FWM 5", "TCP 10.99.0.1:80"}, svc); d != "" {
		t.Errorf("services (-want +got):\n%s", d)
	}
	if r := stats["TCP 10.99.0.1:80"]; r == nil || r.stats["OutBytes"] != 5000000000 || r.stats["OutPkts"] != 121 ||
		len(r.reals) != 2 || r.reals["127.0.0.1:8080"]["OutPkts"] != 61 {
		t.Errorf("TCP 10.99.0.1:80 parsed as %+v", r)
	}
	table := parseIpvsadmTable(t, `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.99.0.1:80 rr
  -> 127.0.0.1:8080               Masq    1      2          10
  -> 127.0.0.1:8081               Masq    0      0          9
FWM  7 rr
  -> 10.1.1.2:0                   Route   2      0          0
`)
	if d := cmp.Diff(map[string]ipvsadmReal{
		"TCP 10.99.0.1:80 -> 127.0.0.1:8080": {"Masq", 1, 2, 10}, "TCP 10.99.0.1:80 -> 127.0.0.1:8081": {"Masq", 0, 0, 9},
		"FWM 7 -> 10.1.1.2:0": {"Route", 2, 0, 0}}, table, cmp.AllowUnexported(ipvsadmReal{})); d != "" {
		t.Errorf("real servers (-want +got):\n%s", d)
	}
}

func rows(m map[string]*ipvsadmRow) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
