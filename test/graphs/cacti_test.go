package graphs

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// Addresses of the point-to-point link between Cacti's poller and the
// director. They exist only inside the test's network namespace and the
// scenario's.
const (
	cactiHostAddr  = "192.0.2.1"
	cactiGuestAddr = "192.0.2.2"
	cactiStep      = 10 // seconds: the test's Cacti poller interval and RRD step
)

// TestCactiImportsAndGraphsTheAgent installs the shipped data queries and
// templates into a real Cacti (Debian's, in a private instance made by
// test/graphs/cacti.sh), points a device at snmpd + lvs-agentx in a
// director namespace with real IPVS, and checks that Cacti finds every service and real
// server with its name, and that the RRDs its poller writes account for
// the traffic sent through the services; the director's totals account
// for it too, and the connection states query finds the TCP entries the
// traffic left in TIME_WAIT.
func TestCactiImportsAndGraphsTheAgent(t *testing.T) {
	t.Parallel()
	needCacti(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cactiSh := filepath.Join(repo, "test/graphs/cacti.sh")
	cdir := t.TempDir()
	cacti := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(cactiSh, append([]string{args[0], cdir}, args[1:]...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("cacti.sh %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	sql := func(q string) string { t.Helper(); return strings.TrimSpace(cacti("sql", q)) }
	t.Cleanup(func() { _ = exec.Command(cactiSh, "stop", cdir).Run() })

	start := time.Now()
	cacti("start")
	t.Logf("private Cacti installed in %.0fs", time.Since(start).Seconds())

	// A 10 s collection profile keeps the test short; the shipped
	// templates use Cacti's default profile and are imported onto this one.
	sql(fmt.Sprintf(`INSERT INTO data_source_profiles (hash, name, step, heartbeat, x_files_factor, `+"`default`"+`)
		VALUES ('lvsagentxtest10s', 'Test 10 Second Collection', %d, 120, 0.5, '');
		SET @p = LAST_INSERT_ID();
		INSERT INTO data_source_profiles_rra (data_source_profile_id, name, steps, `+"`rows`"+`, timespan) VALUES (@p, 'Test', 1, 2000, 86400);
		INSERT INTO data_source_profiles_cf (data_source_profile_id, consolidation_function_id) VALUES (@p, 1), (@p, 3);
		UPDATE settings SET value='%d' WHERE name='poller_interval';
		UPDATE settings SET value='60' WHERE name='cron_interval';`, cactiStep, cactiStep))
	profile := sql("SELECT id FROM data_source_profiles WHERE hash='lvsagentxtest10s'")

	// Install the data queries and import the templates the way the README says.
	for _, q := range []string{"lvs_services.xml", "lvs_realservers.xml", "lvs_totals.xml", "lvs_connstates.xml"} {
		b, err := os.ReadFile(filepath.Join(repo, "contrib/cacti/resource/snmp_queries", q))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cdir, "cacti/resource/snmp_queries", q), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"cacti_data_query_lvs_virtual_services.xml", "cacti_data_query_lvs_real_servers.xml",
		"cacti_data_query_lvs_director_totals.xml", "cacti_data_query_lvs_connection_states.xml"} {
		out := cacti("php", "import_template.php", "--filename="+filepath.Join(repo, "contrib/cacti/templates", f), "--profile-id="+profile)
		if strings.Contains(out, "[fail]") || !strings.Contains(out, "[success]") {
			t.Fatalf("import %s:\n%s", f, out)
		}
		t.Logf("import %s:\n%s", f, out)
	}
	svcQuery := sql("SELECT id FROM snmp_query WHERE name='LVS - Virtual Services'")
	realQuery := sql("SELECT id FROM snmp_query WHERE name='LVS - Real Servers'")
	totalsQuery := sql("SELECT id FROM snmp_query WHERE name='LVS - Director Totals'")
	statesQuery := sql("SELECT id FROM snmp_query WHERE name='LVS - Connection States'")
	sql(fmt.Sprintf("UPDATE data_template_data SET rrd_step=%d WHERE local_data_id=0 AND name LIKE '%%LVS%%'", cactiStep))

	// Cacti's poller in a namespace of its own, linked to the director (the
	// scenario's eth0).
	ns := newPollerNetns(t)

	script := directorScript(cactiGuestAddr, "set -eu\n"+fmt.Sprintf("ip addr add %s/30 dev eth0\nip link set eth0 up\n", cactiGuestAddr)+
		trafficSetup+agentSetup+`
touch "$CTL/ready"
waithost go
`+strings.Replace(trafficRun, "TRAFFIC_SECONDS", "90", 1)+`
sleep 3 # the kernel's estimator tick
touch "$CTL/traffic-done"
waithost stop
ipvsadm -Ln --stats --exact
`)
	d := bootDirector(t, testbed.Scenario{
		Timeout:  12 * time.Minute,
		Binaries: map[string]string{"lvs-agentx": "github.com/lvs-agentx/lvs-agentx/cmd/lvs-agentx"},
		Peer:     ns,
		Script:   script,
	}, "stop", "go")
	guestFailed, waitFile := d.fail, d.wait
	waitFile("ready", 5*time.Minute)
	if out, err := exec.Command("ip", "-n", ns, "addr", "add", cactiHostAddr+"/30", "dev", testbed.PeerLink).CombinedOutput(); err != nil {
		guestFailed(fmt.Sprintf("address for the poller's link: %v: %s", err, out))
	}

	// Everything that talks SNMP runs in the namespace.
	inNS := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("ip", append([]string{"netns", "exec", ns, cactiSh, args[0], cdir}, args[1:]...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			guestFailed(fmt.Sprintf("%s: %v\n%s", strings.Join(args, " "), err, out))
		}
		return string(out)
	}
	out := inNS("php", "add_device.php", "--description=lvs-director", "--ip="+cactiGuestAddr,
		"--template=0", "--version=2", "--community=public", "--avail=snmp", "--timeout=5000")
	host := sql("SELECT id FROM host WHERE description='lvs-director'")
	if host == "" {
		guestFailed("add_device.php made no device:\n" + out)
	}
	for _, q := range []string{svcQuery, realQuery, totalsQuery} {
		inNS("php", "add_data_query.php", "--host-id="+host, "--data-query-id="+q, "--reindex-method=1")
	}

	// Every service and real server, found with its name.
	names := map[string]string{} // "query/index" -> Name column
	for _, row := range strings.Split(sql(fmt.Sprintf(`SELECT snmp_query_id, snmp_index, field_value FROM host_snmp_cache
		WHERE host_id=%s AND field_name IN ('lvsServiceName', 'lvsRealServerName')`, host)), "\n") {
		f := strings.SplitN(row, "\t", 3)
		if len(f) == 3 {
			names[f[0]+"/"+f[1]] = f[2]
		}
	}
	t.Logf("Cacti found: %v", names)
	wantNames := map[string]bool{"TCP 10.99.0.1:80": true, "TCP 10.99.0.2:80": true,
		"127.0.0.1:8080": true, "127.0.0.1:8081": true, "127.0.0.1:8082": true}
	got := map[string]bool{}
	for _, n := range names {
		got[n] = true
	}
	if len(names) != 5 || fmt.Sprint(got) != fmt.Sprint(wantNames) {
		guestFailed(fmt.Sprintf("Cacti's data queries found %v, want the services and real servers %v", names, wantNames))
	}

	// Graphs: every graph of the three queries for every row (the totals
	// have one, index 0).
	for _, q := range []struct{ id, field string }{{svcQuery, "lvsServiceName"}, {realQuery, "lvsRealServerName"}, {totalsQuery, "lvsTotalsIndex"}} {
		for _, row := range strings.Split(sql("SELECT id, graph_template_id FROM snmp_query_graph WHERE snmp_query_id="+q.id), "\n") {
			f := strings.Fields(row)
			inNS("php", "add_graphs.php", "--graph-type=ds", "--host-id="+host, "--graph-template-id="+f[1],
				"--snmp-query-id="+q.id, "--snmp-query-type-id="+f[0], "--snmp-field="+q.field, "--snmp-value-regex=.")
		}
	}
	if n := sql("SELECT COUNT(*) FROM graph_local WHERE host_id=" + host); n != "24" {
		guestFailed("want 24 graphs (5 rows x 4 templates, and the totals' 4), Cacti made " + n)
	}

	if n := sql("SELECT COUNT(*) FROM data_local WHERE host_id=" + host); n != "6" {
		guestFailed("want 6 data sources (one per row, shared by its 4 graphs), Cacti made " + n)
	}
	t.Logf("poller items (data source, DS, OID):\n%s", sql("SELECT local_data_id, rrd_name, arg1 FROM poller_item WHERE host_id="+host+" ORDER BY local_data_id, rrd_name"))

	// Poll like cron would, through the traffic and a little after: one
	// poller.php run polls every 10 s for a minute (cron_interval 60).
	poll := func() { inNS("php", "poller.php", "--force") }
	poll() // creates the RRDs and takes the first sample
	d.touch("go")
	var after, polls int
	for after < 2 {
		if polls++; polls > 10 {
			guestFailed("the guest's traffic did not end")
		}
		poll()
		if d.exists("traffic-done") {
			after++
		}
	}
	// The connection states, found after the traffic: TIME_WAIT entries
	// of TCP (6) hold for two minutes.
	inNS("php", "add_data_query.php", "--host-id="+host, "--data-query-id="+statesQuery, "--reindex-method=1")
	states := sql(fmt.Sprintf(`SELECT snmp_index, field_value FROM host_snmp_cache
		WHERE host_id=%s AND snmp_query_id=%s AND field_name='lvsConnStateName'`, host, statesQuery))
	t.Logf("Cacti found the connection states (protocol.state, name):\n%s", states)
	if !strings.Contains("\n"+states+"\n", "\n6.6\tTIME_WAIT\n") {
		t.Errorf("connection states query: no row 6.6 TIME_WAIT:\n%s", states)
	}
	d.touch("stop")
	r := d.finish()
	t.Logf("guest:\n%s", r.Stdout)
	if log, err := os.ReadFile(filepath.Join(cdir, "log/cacti.log")); err == nil {
		t.Logf("cacti.log (tail):\n%s", testutil.Tail(string(log), 40))
	}

	reqs := map[string][]float64{
		"TCP 10.99.0.1:80": requestTimes(t, r, "req-10.99.0.1.log"),
		"TCP 10.99.0.2:80": requestTimes(t, r, "req-10.99.0.2.log"),
	}
	// One data source (RRD) per row, shared by its four graphs, holding
	// all seven data sources.
	realConns := map[string]float64{}
	rows := sql(fmt.Sprintf(`SELECT dl.snmp_query_id, dl.snmp_index, dtd.data_source_path FROM data_local dl
		JOIN data_template_data dtd ON dtd.local_data_id = dl.id WHERE dl.host_id=%s`, host))
	perRow := map[string]*rrdSeries{}
	for _, row := range strings.Split(rows, "\n") {
		f := strings.SplitN(row, "\t", 3)
		if len(f) != 3 {
			continue
		}
		key := f[0] + "/" + f[1]
		if perRow[key] != nil {
			t.Errorf("row %s (%s) has more than one data source:\n%s", key, names[key], rows)
		}
		path := strings.Replace(f[2], "<path_rra>", filepath.Join(cdir, "rra"), 1)
		perRow[key] = fetchRRD(t, path, cactiStep)
	}
	if len(perRow) != 6 {
		t.Errorf("want one data source for each of 6 rows, Cacti has %d:\n%s", len(perRow), rows)
	}
	var svcBytes [2]float64 // in, out: summed over the services' RRDs
	for key, series := range perRow {
		if len(series.rows) == 0 {
			t.Errorf("%s (%s): empty RRD", key, names[key])
			continue
		}
		if key == totalsQuery+"/0" {
			continue
		}
		for _, ds := range []string{"conns", "inpkts", "outpkts", "inbytes", "outbytes", "active", "inactive"} {
			if _, ok := series.rows[0].values[ds]; !ok {
				t.Errorf("%s (%s): RRD has no data source %s", key, names[key], ds)
			}
		}
		name := names[key]
		query, index, _ := strings.Cut(key, "/")
		if query == svcQuery {
			checkServiceSeries(t, name, series, reqs[name], trafficFileSize[name])
			svcBytes[0] += series.integral("inbytes")
			svcBytes[1] += series.integral("outbytes")
			continue
		}
		svcIndex := strings.SplitN(index, ".", 2)[0]
		realConns[names[svcQuery+"/"+svcIndex]] += series.integral("conns")
	}
	for svc, times := range reqs {
		checkWithin(t, svc+" conns summed over its real servers (Cacti)", realConns[svc], float64(len(times)), 0.10)
	}
	// The director's totals: every request, and the services' bytes
	// (polled in the same runs).
	if totals := perRow[totalsQuery+"/0"]; totals == nil || len(totals.rows) == 0 {
		t.Errorf("no RRD of the director's totals (row %s/0)", totalsQuery)
	} else {
		for _, ds := range []string{"conns", "inpkts", "outpkts", "inbytes", "outbytes", "cps", "inpps", "outpps", "inbps", "outbps", "entries", "templates", "fromsync"} {
			if _, ok := totals.rows[0].values[ds]; !ok {
				t.Errorf("totals: RRD has no data source %s", ds)
			}
		}
		checkWithin(t, "total connections (integral of conns/s)", totals.integral("conns"), float64(len(reqs["TCP 10.99.0.1:80"])+len(reqs["TCP 10.99.0.2:80"])), 0.10)
		checkWithin(t, "total inbytes / the services' sum", totals.integral("inbytes"), svcBytes[0], 0.05)
		checkWithin(t, "total outbytes / the services' sum", totals.integral("outbytes"), svcBytes[1], 0.05)
	}
}

// needCacti fails the test when Cacti or what it needs is missing.
func needCacti(t *testing.T) {
	t.Helper()
	for _, p := range []string{"/usr/share/cacti/cli/import_template.php", "/usr/sbin/mariadbd", "/usr/bin/php", "/usr/bin/rrdtool", "/usr/bin/snmpget"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing: apt-get install -y cacti mariadb-server php-snmp php-intl rrdtool snmp", p)
		}
	}
	if out, err := exec.Command("php", "-m").Output(); err != nil || !strings.Contains(string(out), "intl") || !strings.Contains(string(out), "snmp") {
		t.Fatalf("PHP modules intl and snmp needed: apt-get install -y php-intl php-snmp")
	}
}

// newPollerNetns makes a network namespace for Cacti's poller, deleted
// when the test ends.
func newPollerNetns(t *testing.T) string {
	t.Helper()
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	name := "lvsp-" + hex.EncodeToString(rnd[:])
	for _, args := range [][]string{{"netns", "add", name}, {"-n", name, "link", "set", "lo", "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return name
}
