package graphs

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// nativeContexts are the namespaces TestPrometheusNativeMatchesIpvsadm
// serves: "default" is the scenario's own (no context label), the others
// are made with ip netns and served through --netns-dir.
var nativeContexts = []string{"default", "red", "blue"}

// nativeTraffic are the services nativeSetup drives requests at, by
// context: each must have counted connections on every real server and
// non-zero rates, or the comparison would only compare zeros.
var nativeTraffic = map[string]string{"default": "TCP 10.9.0.1:80", "red": "TCP 10.1.0.1:80", "blue": "TCP 10.3.0.1:80"}

// nativeSetup is bash: the namespaces red and blue and the scenario's
// own, each with a web service masqueraded to local busybox httpd real
// servers serving a page of its own size (so that bytes counted in the
// wrong context show), and a few services without traffic that carry the
// other label forms: UDP, a firewall mark, IPv6. Weights differ from 1 so
// that a weight read from the wrong column shows.
const nativeSetup = `
for ns in red blue; do ip netns add $ns; ip -n $ns link set lo up; done
for ns in default red blue; do mkdir -p /tmp/www-$ns; done
head -c 3000 /dev/urandom > /tmp/www-default/f
head -c 7000 /dev/urandom > /tmp/www-red/f
head -c 12000 /dev/urandom > /tmp/www-blue/f
WWW=/tmp/www-default nsweb default 10.9.0.1 8080 8081
ipvsadm -e -t 10.9.0.1:80 -r 127.0.0.1:8081 -m -w 3
WWW=/tmp/www-red nsweb red 10.1.0.1 8080 8081
ip netns exec red ipvsadm -e -t 10.1.0.1:80 -r 127.0.0.1:8080 -m -w 5
ip netns exec red ipvsadm -A -u 10.1.0.2:53 -s wrr
ip netns exec red ipvsadm -a -u 10.1.0.2:53 -r 10.1.1.1:53 -g -w 4
ip netns exec red ipvsadm -A -f 7 -s rr
ip netns exec red ipvsadm -a -f 7 -r 10.1.1.2 -g -w 2
WWW=/tmp/www-blue nsweb blue 10.3.0.1 8080
ip netns exec blue ipvsadm -A -t [fd00::3]:443 -s mh
ip netns exec blue ipvsadm -a -t [fd00::3]:443 -r [fd00::30]:443 -g -w 2
`

// nativeRun is bash: the agent with its metrics endpoint serving the
// scenario's namespace and /run/netns, without snmpd (--agentx none, the
// setup the endpoint is for), Prometheus scraping it every second with
// contrib's rules, traffic in every context; then,
// with the kernel's counters and rates frozen, the direct scrapes,
// Prometheus's view and ipvsadm's of every context; then the weight
// changes the alerts must follow.
const nativeRun = `
startagent --metrics-listen 127.0.0.1:9815
metrics() { curl -sSf http://127.0.0.1:9815/metrics; }
# Every context served: the namespaces are read once each before
# lvs_up says 1.
allup() { local m; m=$(metrics 2>/dev/null) && [[ $m == *'lvs_up{context="blue"} 1'* && $m == *'lvs_up{context="red"} 1'* ]]; }
waitfor 60 allup > /dev/null || { echo "metrics endpoint never served every context"; cat agent.log; exit 1; }

prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address=127.0.0.1:9090 2> prometheus.log & PROM=$!
promready() { curl -sf -o /dev/null http://127.0.0.1:9090/-/ready; }
POLL=0.5 waitfor 120 promready > /dev/null || { echo "prometheus did not start"; cat prometheus.log; exit 1; }
query() { curl -sSf --get http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$1"; }
alerts() { curl -sSf http://127.0.0.1:9090/api/v1/alerts; }
# Prometheus scrapes the agent; up is its own verdict on the target.
scraped() { [[ $(query 'up{job="lvs-agentx"}') == *'"1"]'* ]]; }
POLL=0.5 waitfor 60 scraped > /dev/null || { echo "prometheus never scraped the agent"; cat prometheus.log; exit 1; }

# Requests every PAUSE seconds in each context for 10 s, long enough
# for the kernel's 2 s estimator to give every service non-zero rates.
end=$(( EPOCHSECONDS + 10 ))
nsdrive() { # NS URL PAUSE
	inns "$1" bash -c 'while (( EPOCHSECONDS < $3 )); do busybox wget -q -O /dev/null "$1" || echo "wget $1 failed" >&2; sleep "$2"; done' _ "$2" "$3" "$end"
}
nsdrive default http://10.9.0.1/f 0.2 & d1=$!
nsdrive red http://10.1.0.1/f 0.3 & d2=$!
nsdrive blue http://10.3.0.1/f 0.5 & d3=$!
wait $d1 $d2 $d3

# The kernel (6.1 here) folds its per-CPU counters into what ipvsadm
# reads at each 2 s tick of the estimator, which also moves the rates:
# one tick after the last request everything is counted; stopping the
# estimator then freezes counters and rates alike (not zeroed), so that
# the agent, Prometheus and ipvsadm, read seconds apart, must agree
# exactly, rates included. The scrapes after the freeze (every second,
# cache TTL 1 s) replace Prometheus's latest samples.
sleep 3
for ns in default red blue; do inns $ns sysctl -qw net.ipv4.vs.run_estimation=0; done
sleep 5
metrics > scrape1.txt
declare -f settings > settings.sh
for ns in default red blue; do
	listings $ns
	inns $ns ipvsadm -Lnc > $ns-lnc.txt
	inns $ns cat /proc/net/ip_vs_stats > $ns-ipvs_stats.txt
	inns $ns bash -c '. ./settings.sh; settings' > $ns-settings.txt
done
metrics > scrape2.txt
query '{__name__=~"lvs_.*"}' > prom.json
alerts > alerts-before.json

# A weight of 0 in red (one of two real servers: the service keeps one)
# and in blue (its only real server: the service has none left); the
# alerts must fire with the contexts' labels, beside the three of the
# stopped estimator.
T0=$(us)
ip netns exec red ipvsadm -e -t 10.1.0.1:80 -r 127.0.0.1:8081 -m -w 0
ip netns exec blue ipvsadm -e -t 10.3.0.1:80 -r 127.0.0.1:8080 -m -w 0
firing() { local a; a=$(alerts) && [[ $(grep -o '"state":"firing"' <<< "$a" | wc -l) -ge 6 ]]; }
POLL=0.5 waitfor 60 firing > alerts-firing-seconds.txt || echo "alerts did not fire" >&2
sleep 3 # an alert that should not fire has had time to
alerts > alerts-after.json
kill $PROM; wait $PROM || true
stopagent
`

// nativePrometheusConfig is contrib's lvs-agentx.scrape.yml, the job
// users copy, with its target the agent in the guest and every interval 1
// s, so that the test waits seconds, not minutes.
func nativePrometheusConfig(t *testing.T) []byte {
	t.Helper()
	var cfg map[string]any
	readYAML(t, "lvs-agentx.scrape.yml", &cfg)
	jobs, _ := cfg["scrape_configs"].([]any)
	if len(jobs) != 1 {
		t.Fatalf("lvs-agentx.scrape.yml: %d scrape jobs, want 1", len(jobs))
	}
	job := jobs[0].(map[string]any)
	job["scrape_interval"], job["scrape_timeout"] = "1s", "1s"
	job["static_configs"] = []any{map[string]any{"targets": []any{"127.0.0.1:9815"}}}
	cfg["global"] = map[string]any{"evaluation_interval": "1s"}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nativeFiring are the alerts of lvs-native-rules.yml the test makes fire
// (the stopped estimator, the weights set to 0). Their for: durations
// (up to 30 minutes) become 0 s in the guest; the other alerts keep
// theirs, at least a minute, longer than they could have a cause in the
// test, so that any of them firing is a failure.
var nativeFiring = []string{"LvsRatesNotEstimated", "LvsRealServerDrained", "LvsServiceNoUsableRealServer"}

// nativeRules is contrib's lvs-native-rules.yml with nativeFiring's for:
// durations 0 s, and the severity each alert carries.
func nativeRules(t *testing.T) ([]byte, map[string]string) {
	t.Helper()
	var rules map[string]any
	readYAML(t, "lvs-native-rules.yml", &rules)
	severity := map[string]string{}
	groups, _ := rules["groups"].([]any)
	for _, g := range groups {
		rs, _ := g.(map[string]any)["rules"].([]any)
		for _, r := range rs {
			rule := r.(map[string]any)
			name, _ := rule["alert"].(string)
			if labels, ok := rule["labels"].(map[string]any); ok {
				severity[name], _ = labels["severity"].(string)
			}
			if slices.Contains(nativeFiring, name) {
				rule["for"] = "0s"
			}
		}
	}
	for _, a := range nativeFiring {
		if _, ok := severity[a]; !ok {
			t.Fatalf("lvs-native-rules.yml has no alert %s with a severity", a)
		}
	}
	b, err := yaml.Marshal(rules)
	if err != nil {
		t.Fatal(err)
	}
	return b, severity
}

// TestPrometheusNativeMatchesIpvsadm runs the agent's own metrics
// endpoint (--metrics-listen) serving three contexts (the scenario's
// namespace and two made with ip netns) with traffic in each, and a real
// Prometheus scraping it. With the kernel's counters and rates frozen, two
// direct scrapes and Prometheus's view of every lvs_ series must each
// equal ipvsadm in that namespace: every service and real server present,
// with the documented labels and no others, its counters, rates, weights
// and connection counts, the totals, connection states and settings, and
// not one series more than ipvsadm lists. Prometheus runs contrib's scrape
// job and alerting rules: the stopped estimator, and then real server
// weights set to 0 in two namespaces, must fire their alerts in the live
// Prometheus with each context's labels, and only those.
func TestPrometheusNativeMatchesIpvsadm(t *testing.T) {
	t.Parallel()
	testutil.NeedTool(t, "prometheus", "apt-get install -y prometheus")
	testutil.NeedTool(t, "curl", "apt-get install -y curl")
	agent := scenario.DefaultAgent()
	agent.AgentX, agent.NetnsDir, agent.CacheTTL = "none", "/run/netns", "1s"
	rules, severity := nativeRules(t)
	start := time.Now()
	r := testbed.MustRun(t, testbed.Scenario{
		Timeout:  8 * time.Minute,
		Binaries: map[string]string{"lvs-agentx": "github.com/lvs-agentx/lvs-agentx/cmd/lvs-agentx"},
		// The scrape job loads the rules by this name, beside it.
		Files: map[string][]byte{"prometheus.yml": nativePrometheusConfig(t), "lvs-native-rules.yml": rules},
		Script: scenario.Script(scenario.Setup{Agent: agent},
			"set -eu\n"+settingsFunc+nativeSetup+nativeRun),
	})
	t.Logf("scenario on %s: %v", r.Backend, time.Since(start).Round(time.Second))
	defer func() {
		if t.Failed() {
			t.Logf("agent log:\n%s\nprometheus log (tail):\n%s", r.File(t, "agent.log"),
				testutil.Tail(string(r.File(t, "prometheus.log")), 40))
		}
	}()

	kernel := map[string]nativeKernel{}
	for _, ns := range nativeContexts {
		kernel[ns] = readNativeKernel(t, r, ns)
	}
	for i, f := range []string{"scrape1.txt", "scrape2.txt"} {
		checkNative(t, fmt.Sprintf("scrape %d", i+1), parseExposition(t, string(r.File(t, f))), kernel)
	}
	checkNative(t, "Prometheus", prometheusVector(t, r.File(t, "prom.json")), kernel)

	// The estimator is stopped in every context: LvsRatesNotEstimated
	// fires for each, before and after the weights change.
	alert := func(name string, labels map[string]string) string {
		l := map[string]string{"alertname": name, "severity": severity[name]}
		for k, v := range labels {
			l[k] = v
		}
		return labelKey("", l)
	}
	var before []string
	for _, ns := range nativeContexts {
		ctx := map[string]string{}
		if ns != "default" {
			ctx["context"] = ns
		}
		before = append(before, alert("LvsRatesNotEstimated", ctx))
	}
	after := append([]string{
		alert("LvsRealServerDrained", realServerLabels("red", "TCP 10.1.0.1:80", "127.0.0.1:8081")),
		alert("LvsRealServerDrained", realServerLabels("blue", "TCP 10.3.0.1:80", "127.0.0.1:8080")),
		alert("LvsServiceNoUsableRealServer", serviceLabels("blue", "TCP 10.3.0.1:80")),
	}, before...)
	for _, c := range []struct {
		file string
		want []string
	}{{"alerts-before.json", before}, {"alerts-after.json", after}} {
		sort.Strings(c.want)
		got := firingAlerts(t, r.File(t, c.file))
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s: firing alerts:\n%s\nwant:\n%s", c.file, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
	t.Logf("alerts fired %s s after the weights were set to 0", strings.TrimSpace(string(r.File(t, "alerts-firing-seconds.txt"))))
}

// nativeKernel is what the kernel said of one namespace: ipvsadm's
// listings and files, read while the agent was scraped.
type nativeKernel struct {
	stats, rates map[string]*ipvsadmRow
	table        map[string]ipvsadmReal
	totals       map[string]uint64
	lnc          string
	settings     map[string]string
}

func readNativeKernel(t *testing.T, r *testbed.Result, ns string) nativeKernel {
	t.Helper()
	file := func(suffix string) string { return string(r.File(t, ns+"-"+suffix)) }
	k := nativeKernel{
		stats: parseIpvsadmStats(t, file("stats.txt")), rates: parseIpvsadmStats(t, file("rate.txt")),
		table: parseIpvsadmTable(t, file("ln.txt")), totals: parseIpvsStats(t, file("ipvs_stats.txt")),
		lnc: file("lnc.txt"), settings: parseSettings(t, file("settings.txt")),
	}
	// The traffic must have been counted, with rates, or the comparisons
	// below compare zeros.
	svc := nativeTraffic[ns]
	row, ok := k.stats[svc]
	switch {
	case !ok:
		t.Fatalf("%s: ipvsadm lists no %s:\n%s", ns, svc, file("stats.txt"))
	case row.stats["Conns"] == 0 || k.rates[svc].stats["CPS"] == 0 || k.rates[svc].stats["InBPS"] == 0:
		t.Errorf("%s %s: no traffic counted: %v, rates %v", ns, svc, row.stats, k.rates[svc].stats)
	}
	for real, st := range row.reals {
		if st["Conns"] == 0 {
			t.Errorf("%s %s -> %s: no connections; rr should give each real server some", ns, svc, real)
		}
	}
	t.Logf("%s: ipvsadm --stats\n%s\n--rate\n%s", ns, file("stats.txt"), file("rate.txt"))
	return k
}

// checkNative checks one view of the metrics (a scrape, or Prometheus's
// query result) against the kernel of every context: each expected
// series found by its exact label set with the kernel's value, and the
// number of series of each service and real server family per context
// equal to ipvsadm's rows.
func checkNative(t *testing.T, what string, e exposition, kernel map[string]nativeKernel) {
	t.Helper()
	got := map[string]float64{}
	count := map[string]int{}    // family and context: series
	contexts := map[string]int{} // context label: series
	for _, s := range e {
		if !strings.HasPrefix(s.name, "lvs_") {
			continue
		}
		got[labelKey(s.name, s.labels)] = s.value
		ctx := s.labels["context"]
		count[s.name+" "+ctx]++
		contexts[ctx]++
	}
	var ctxs []string
	for c := range contexts {
		ctxs = append(ctxs, c)
	}
	sort.Strings(ctxs)
	if strings.Join(ctxs, ",") != ",blue,red" {
		t.Errorf("%s: context labels %q, want none, blue and red", what, ctxs)
	}
	checked := 0
	check := func(metric string, labels map[string]string, want float64) {
		t.Helper()
		k := labelKey(metric, labels)
		v, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: no series %s", what, k)
		case v != want:
			t.Errorf("%s: %s = %v, kernel %v", what, k, v, want)
		default:
			checked++
		}
	}
	families := func(prefix string) []string {
		seen := map[string]bool{}
		for _, s := range e {
			if strings.HasPrefix(s.name, prefix) {
				seen[s.name] = true
			}
		}
		var out []string
		for n := range seen {
			out = append(out, n)
		}
		return out
	}
	svcFamilies, realFamilies := families("lvs_service_"), families("lvs_real_server_")
	if len(svcFamilies) < 15 || len(realFamilies) < 15 {
		t.Errorf("%s: %d service and %d real server families", what, len(svcFamilies), len(realFamilies))
	}
	// ipvsadm's columns, by the family suffix serving them.
	cols := map[string]string{"connections_total": "Conns", "in_packets_total": "InPkts", "out_packets_total": "OutPkts",
		"in_bytes_total": "InBytes", "out_bytes_total": "OutBytes"}
	rateCols := map[string]string{"connections_per_second": "CPS", "in_packets_per_second": "InPPS",
		"out_packets_per_second": "OutPPS", "in_bytes_per_second": "InBPS", "out_bytes_per_second": "OutBPS"}
	totals := map[string]string{"lvs_connections_total": "lvsTotalConns", "lvs_in_packets_total": "lvsTotalInPkts",
		"lvs_out_packets_total": "lvsTotalOutPkts", "lvs_in_bytes_total": "lvsTotalInBytes", "lvs_out_bytes_total": "lvsTotalOutBytes"}
	protos := map[string]string{"6": "tcp", "17": "udp", "132": "sctp", "0": "ip", "1": "icmp"}

	for _, ns := range nativeContexts {
		k := kernel[ns]
		ctx := map[string]string{}
		if ns != "default" {
			ctx["context"] = ns
		}
		with := func(l map[string]string, name, value string) map[string]string {
			m := map[string]string{name: value}
			for k, v := range l {
				m[k] = v
			}
			return m
		}
		check("lvs_up", ctx, 1)
		check("lvs_services", ctx, float64(len(k.stats)))
		for metric, name := range totals {
			check(metric, ctx, float64(k.totals[name]))
		}
		states, entries, templates := countStates(t, k.lnc)
		check("lvs_connection_entries", ctx, float64(entries))
		check("lvs_connection_templates", ctx, float64(templates))
		for ps, n := range states {
			check("lvs_connection_state_entries", with(with(ctx, "protocol", protos[ps[0]]), "state", ps[1]), float64(n))
		}
		if n := count["lvs_connection_state_entries "+ctx["context"]]; n != len(states) {
			t.Errorf("%s: %s: %d lvs_connection_state_entries series, ipvsadm -Lnc has %d protocol and state pairs", what, ns, n, len(states))
		}
		for name, value := range k.settings {
			check("lvs_setting_info", with(with(ctx, "setting", name), "value", value), 1)
			if v, err := strconv.ParseInt(value, 10, 32); err == nil {
				check("lvs_setting", with(ctx, "setting", name), float64(v))
			}
		}
		check("lvs_rates_estimated", ctx, 0) // the script stopped the estimator

		reals := 0
		for svc, row := range k.stats {
			sl := serviceLabels(ns, svc)
			for suffix, col := range cols {
				check("lvs_service_"+suffix, sl, float64(row.stats[col]))
			}
			for suffix, col := range rateCols {
				check("lvs_service_"+suffix, sl, float64(k.rates[svc].stats[col]))
			}
			// ipvsadm lists a service's connections only by real server;
			// the kernel's service counts are their sums.
			var active, inactive, avail float64
			for real, st := range row.reals {
				reals++
				rl := realServerLabels(ns, svc, real)
				for suffix, col := range cols {
					check("lvs_real_server_"+suffix, rl, float64(st[col]))
				}
				for suffix, col := range rateCols {
					check("lvs_real_server_"+suffix, rl, float64(k.rates[svc].reals[real][col]))
				}
				tr, ok := k.table[svc+" -> "+real]
				if !ok {
					t.Errorf("%s: %s -> %s in ipvsadm --stats, not in ipvsadm -Ln", what, svc, real)
				}
				check("lvs_real_server_info", with(rl, "forwarding", strings.ToLower(tr.forward)), 1)
				check("lvs_real_server_weight", rl, tr.weight)
				check("lvs_real_server_active_connections", rl, tr.active)
				check("lvs_real_server_inactive_connections", rl, tr.inactive)
				active += tr.active
				inactive += tr.inactive
				if tr.weight > 0 {
					avail++
				}
			}
			check("lvs_service_active_connections", sl, active)
			check("lvs_service_inactive_connections", sl, inactive)
			check("lvs_service_real_servers", sl, float64(len(row.reals)))
			check("lvs_service_available_real_servers", sl, avail)
		}
		// No series beyond ipvsadm's rows: each family has one per service
		// (real server) of the context, whatever its labels.
		for _, f := range svcFamilies {
			if n := count[f+" "+ctx["context"]]; n != len(k.stats) {
				t.Errorf("%s: %s: %d %s series, ipvsadm lists %d services", what, ns, n, f, len(k.stats))
			}
		}
		for _, f := range realFamilies {
			if n := count[f+" "+ctx["context"]]; n != reals {
				t.Errorf("%s: %s: %d %s series, ipvsadm lists %d real servers", what, ns, n, f, reals)
			}
		}
	}
	t.Logf("%s: %d series equal the kernel's values", what, checked)
}

// serviceLabels are the labels of a service's series as documented:
// context (none for the default one), service, and protocol, address and
// port, or fwmark for a firewall-mark service.
func serviceLabels(ns, svc string) map[string]string {
	l := map[string]string{"service": svc}
	if ns != "default" {
		l["context"] = ns
	}
	proto, addr, _ := strings.Cut(svc, " ")
	if proto == "FWM" {
		l["fwmark"] = addr
		return l
	}
	host, port := splitHostPort(addr)
	l["protocol"], l["address"], l["port"] = strings.ToLower(proto), host, port
	return l
}

// realServerLabels adds a real server's: real_server, real_address and
// real_port.
func realServerLabels(ns, svc, real string) map[string]string {
	l := serviceLabels(ns, svc)
	host, port := splitHostPort(real)
	l["real_server"], l["real_address"], l["real_port"] = real, host, port
	return l
}

// splitHostPort splits ipvsadm's "10.0.0.1:80" or "[fd00::1]:80".
func splitHostPort(s string) (host, port string) {
	i := strings.LastIndex(s, ":")
	return strings.Trim(s[:i], "[]"), s[i+1:]
}

// labelKey is a series' identity: its name and every label, sorted, so
// that a series with a label more or less is another series.
func labelKey(name string, labels map[string]string) string {
	var l []string
	for k, v := range labels {
		l = append(l, fmt.Sprintf("%s=%q", k, v))
	}
	sort.Strings(l)
	return name + "{" + strings.Join(l, ",") + "}"
}

// prometheusVector reads an instant query's answer from Prometheus's
// HTTP API as samples, without the labels Prometheus adds to the target's
// (job and instance), which must be there.
func prometheusVector(t *testing.T, body []byte) exposition {
	t.Helper()
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Status != "success" || resp.Data.ResultType != "vector" {
		t.Fatalf("Prometheus query: %v: %.500s", err, body)
	}
	var out exposition
	for _, r := range resp.Data.Result {
		m := r.Metric
		if m["job"] != "lvs-agentx" || m["instance"] != "127.0.0.1:9815" {
			t.Errorf("Prometheus series %v: not the agent's target", m)
		}
		s := sample{name: m["__name__"], labels: map[string]string{}}
		for k, v := range m {
			if k != "__name__" && k != "job" && k != "instance" {
				s.labels[k] = v
			}
		}
		str, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			t.Fatalf("Prometheus %v value %v: %v", m, r.Value, err)
		}
		s.value = v
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatalf("Prometheus has no lvs_ series")
	}
	return out
}

// firingAlerts reads /api/v1/alerts: the label sets of the firing alerts,
// without the target's job and instance, sorted.
func firingAlerts(t *testing.T, body []byte) []string {
	t.Helper()
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Status != "success" {
		t.Fatalf("Prometheus alerts: %v: %.500s", err, body)
	}
	var out []string
	for _, a := range resp.Data.Alerts {
		if a.State != "firing" {
			continue
		}
		delete(a.Labels, "job")
		delete(a.Labels, "instance")
		out = append(out, labelKey("", a.Labels))
	}
	sort.Strings(out)
	return out
}
