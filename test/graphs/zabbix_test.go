package graphs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
	"github.com/lvs-agentx/lvs-agentx/mib"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

// Addresses of the link between Zabbix's server and the director; they
// exist only inside the test's network namespace and the scenario's.
const (
	zabbixHostAddr  = "192.0.2.1"
	zabbixGuestAddr = "192.0.2.2"
	zabbixTemplate  = "LVS by SNMP lvs-agentx"
	// Intervals set as host macros: the template's defaults (1m, 1h) would
	// make the test wait minutes for the first discovery.
	zabbixItemDelay = "5s"
	zabbixLLDDelay  = "10s"
)

// TestZabbixImportsAndMonitorsTheAgent imports the shipped template
// (contrib/zabbix) into a real Zabbix 6.0 (Debian's, a private instance
// made by test/graphs/zabbix.sh: its own MariaDB, zabbix_server, and the
// frontend's API served by php -S), monitors snmpd + lvs-agentx on a
// director with real IPVS and traffic, and checks that Zabbix discovers
// every service and real server by name, that its counters and gauges
// equal the kernel's (ipvsadm), and that the trigger prototypes fire:
// "no usable real server" when a service's only real server is quiesced,
// "IPVS unavailable" when ip_vs is unloaded under the agent; and the
// director's health: the totals, the connection table by state, the
// defenses and the settings equal the kernel's, and the triggers "defense
// active" and "rates not estimated" fire when drop_packet is set to
// always and run_estimation to 0.
//
// Not parallel: it unloads ip_vs (in a kernel of its own, NoIPVS), and
// polling every 5 s wants the machine's two cores to itself.
func TestZabbixImportsAndMonitorsTheAgent(t *testing.T) {
	needZabbix(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	zsh := filepath.Join(repo, "test/graphs/zabbix.sh")
	zdir := t.TempDir()
	zabbix := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(zsh, append([]string{args[0], zdir}, args[1:]...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("zabbix.sh %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		if log, err := os.ReadFile(filepath.Join(zdir, "log/zabbix_server.log")); err == nil && t.Failed() {
			t.Logf("zabbix_server.log (tail):\n%s", testutil.Tail(string(log), 60))
		}
		_ = exec.Command(zsh, "stop", zdir).Run()
	})

	// The director first: its guest boots while Zabbix is set up.
	ns := newPollerNetns(t)
	script := directorScript(zabbixGuestAddr, "set -eu\n"+settingsFunc+fmt.Sprintf("ip addr add %s/30 dev eth0\nip link set eth0 up\n", zabbixGuestAddr)+`
rm /run/modprobe.d/lvs-agentx-noipvs.conf
modprobe ip_vs && modprobe ip_vs_rr
`+trafficSetup+`
# Gauges that hold still after the traffic: persistence templates on the
# second service, a weight other than 1 on a real server.
ipvsadm -E -t 10.99.0.2:80 -s rr -p 300
ipvsadm -e -t 10.99.0.1:80 -r 127.0.0.1:8081 -m -w 3
`+agentSetup+`
settings > "$CTL/settings.txt"
touch "$CTL/ready"
waithost go
`+strings.Replace(trafficRun, "TRAFFIC_SECONDS", "40", 1)+`
sleep 3 # the kernel's estimator tick
# The second service's only real server quiesced: no usable real server.
ipvsadm -e -t 10.99.0.2:80 -r 127.0.0.1:8082 -m -w 0
touch "$CTL/traffic-done"
waithost snap
ipvsadm -Ln --stats --exact > "$CTL/stats.txt"
ipvsadm -Ln --persistent-conn > "$CTL/conns.txt"
cat /proc/net/ip_vs_stats > "$CTL/ipvs_stats.txt"
ipvsadm -Lnc > "$CTL/lnc.txt"
touch "$CTL/snapped"
waithost defense
sysctl -qw net.ipv4.vs.drop_packet=3 net.ipv4.vs.run_estimation=0
touch "$CTL/defended"
waithost unload
ipvsadm -C
rmmod ip_vs_rr ip_vs || { echo "rmmod failed"; lsmod; }
touch "$CTL/unloaded"
waithost stop
cat "$CTL/stats.txt" "$CTL/conns.txt"
`)
	d := bootDirector(t, testbed.Scenario{
		Timeout:  10 * time.Minute,
		Binaries: map[string]string{"lvs-agentx": "github.com/lvs-agentx/lvs-agentx/cmd/lvs-agentx"},
		Peer:     ns,
		// The test unloads ip_vs at the end: a kernel of its own.
		NoIPVS: true,
		Script: script,
	}, "go", "snap", "defense", "unload", "stop")
	guestFailed, waitFile, touch := d.fail, d.wait, d.touch

	// Zabbix: database and frontend on the host, the template imported
	// the way the README says.
	start := time.Now()
	zabbix("start")
	port := testutil.FreePort(t, "tcp")
	zabbix("web", strconv.Itoa(port))
	api := &zabbixAPI{url: fmt.Sprintf("http://127.0.0.1:%d/api_jsonrpc.php", port)}
	var auth string
	if err := api.call("user.login", obj{"username": "Admin", "password": "zabbix"}, &auth); err != nil {
		guestFailed(err.Error())
	}
	api.auth = auth
	tplYAML, err := os.ReadFile(filepath.Join(repo, "contrib/zabbix/template_lvs_agentx.yaml"))
	if err != nil {
		guestFailed(err.Error())
	}
	rules := obj{"groups": obj{"createMissing": true}}
	for _, k := range []string{"templates", "items", "discoveryRules", "triggers", "graphs", "valueMaps"} {
		rules[k] = obj{"createMissing": true, "updateExisting": true}
	}
	var imported bool
	if err := api.call("configuration.import", obj{"format": "yaml", "rules": rules, "source": string(tplYAML)}, &imported); err != nil || !imported {
		guestFailed(fmt.Sprintf("configuration.import: %v (result %v)", err, imported))
	}
	var tpls []struct{ TemplateID string }
	api.must(t, guestFailed, "template.get", obj{"filter": obj{"host": zabbixTemplate}}, &tpls)
	if len(tpls) != 1 {
		guestFailed(fmt.Sprintf("template %q not imported: %v", zabbixTemplate, tpls))
	}
	tplID := tpls[0].TemplateID
	counters := checkTemplateOIDs(t, api, tplID, guestFailed)
	addRawClones(t, api, tplID, counters, guestFailed)

	// Only our host is monitored: the stock "Zabbix server" host would
	// poll an agent that is not there.
	var stock []struct{ HostID string }
	api.must(t, guestFailed, "host.get", obj{"filter": obj{"host": "Zabbix server"}}, &stock)
	for _, h := range stock {
		api.must(t, guestFailed, "host.update", obj{"hostid": h.HostID, "status": 1}, nil)
	}
	// zabbix_server in the namespace linked to the director.
	if out, err := exec.Command("ip", "netns", "exec", ns, zsh, "server", zdir).CombinedOutput(); err != nil {
		guestFailed(fmt.Sprintf("zabbix.sh server: %v\n%s", err, out))
	}
	t.Logf("private Zabbix with the template ready in %.0fs", time.Since(start).Seconds())

	waitFile("ready", 8*time.Minute)
	if out, err := exec.Command("ip", "-n", ns, "addr", "add", zabbixHostAddr+"/30", "dev", testbed.PeerLink).CombinedOutput(); err != nil {
		guestFailed(fmt.Sprintf("address for Zabbix's link: %v: %s", err, out))
	}
	var groups []struct{ GroupID string }
	api.must(t, guestFailed, "hostgroup.get", obj{"filter": obj{"name": "Linux servers"}}, &groups)
	if len(groups) != 1 {
		guestFailed("no host group Linux servers")
	}
	var created struct{ HostIDs []string }
	api.must(t, guestFailed, "host.create", obj{
		"host": "lvs-director", "groups": []obj{{"groupid": groups[0].GroupID}},
		"templates": []obj{{"templateid": tplID}},
		"interfaces": []obj{{"type": 2, "main": 1, "useip": 1, "ip": zabbixGuestAddr, "dns": "", "port": "161",
			"details": obj{"version": 2, "community": "public", "bulk": 1}}},
		"macros": []obj{{"macro": "{$LVS.INTERVAL}", "value": zabbixItemDelay}, {"macro": "{$LVS.LLD.INTERVAL}", "value": zabbixLLDDelay},
			{"macro": "{$LVS.STATE.LLD.INTERVAL}", "value": zabbixLLDDelay}},
	}, &created)
	host := created.HostIDs[0]
	getItems := func() map[string]zabbixItem {
		t.Helper()
		var items []zabbixItem
		api.must(t, guestFailed, "item.get", obj{"hostids": host, "output": []string{"itemid", "key_", "lastclock", "lastvalue", "value_type", "error", "state"}}, &items)
		m := map[string]zabbixItem{}
		for _, it := range items {
			m[it.Key] = it
		}
		return m
	}

	// Discovery: both services and the three real servers, by name, each
	// with every item prototype, every item with a value before the
	// traffic starts (a per-second item stores its first value at its
	// second poll, so its baseline is the idle counter).
	wantServices := []string{"TCP 10.99.0.1:80", "TCP 10.99.0.2:80"}
	wantReals := [][2]string{{"TCP 10.99.0.1:80", "127.0.0.1:8080"}, {"TCP 10.99.0.1:80", "127.0.0.1:8081"}, {"TCP 10.99.0.2:80", "127.0.0.1:8082"}}
	var protos []zabbixItem
	api.must(t, guestFailed, "itemprototype.get", obj{"templateids": tplID, "output": []string{"key_"}, "selectDiscoveryRule": []string{"key_"}}, &protos)
	settings := parseSettings(t, string(d.read("settings.txt")))
	var wantKeys []string
	for _, p := range protos {
		object, _, _ := strings.Cut(p.Key, "[")
		switch p.DiscoveryRule.Key {
		case "lvs.services.discovery":
			for _, s := range wantServices {
				wantKeys = append(wantKeys, fmt.Sprintf("%s[%q]", object, s))
			}
		case "lvs.reals.discovery":
			for _, r := range wantReals {
				wantKeys = append(wantKeys, fmt.Sprintf("%s[%q,%q]", object, r[0], r[1]))
			}
		case "lvs.settings.discovery":
			for name := range settings {
				wantKeys = append(wantKeys, fmt.Sprintf("%s[%q]", object, name))
			}
		}
		// The states come with the traffic: checked after it.
	}
	sort.Strings(wantKeys)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		items := getItems()
		var missing, noValue []string
		for _, k := range wantKeys {
			it, ok := items[k]
			switch {
			case !ok:
				missing = append(missing, k)
			case it.LastClock == "0":
				noValue = append(noValue, k+" "+it.Error)
			}
		}
		if len(missing) == 0 && len(noValue) == 0 {
			break
		}
		if time.Now().After(deadline) {
			var have []string
			for k := range items {
				have = append(have, k)
			}
			sort.Strings(have)
			guestFailed(fmt.Sprintf("after 3 minutes Zabbix lacks items %v\nhas no value for %v\nhas %v", missing, noValue, have))
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("Zabbix discovered %d items with values (%d prototypes, 2 services, 3 real servers, %d settings) %.0fs after start",
		len(wantKeys), len(protos), len(settings), time.Since(start).Seconds())

	touch("go")
	waitFile("traffic-done", 3*time.Minute)
	// Two polls after the traffic and the weight change.
	time.Sleep(12 * time.Second)
	snapStart := time.Now()
	touch("snap")
	waitFile("snapped", time.Minute)
	snapEnd := time.Now()
	// The gauges' first values polled after the snapshot.
	time.Sleep(8 * time.Second)
	items := getItems()

	stats := string(d.read("stats.txt"))
	conns := string(d.read("conns.txt"))
	t.Logf("ipvsadm:\n%s%s", stats, conns)
	kernel := parseIpvsadm(t, stats, conns)
	if len(kernel) != 5 {
		guestFailed(fmt.Sprintf("ipvsadm listed %d rows, want 5: %v", len(kernel), kernel))
	}

	history := func(it zabbixItem) []zabbixValue {
		t.Helper()
		var h []zabbixValue
		api.must(t, guestFailed, "history.get", obj{"itemids": it.ItemID, "history": it.ValueType,
			"sortfield": "clock", "sortorder": "ASC", "output": "extend", "limit": 10000}, &h)
		sort.Slice(h, func(i, j int) bool { return h[i].time() < h[j].time() })
		return h
	}
	for row, k := range kernel {
		keyArgs := fmt.Sprintf("[%q]", row.service)
		if row.real != "" {
			keyArgs = fmt.Sprintf("[%q,%q]", row.service, row.real)
		}
		for object, want := range k {
			key := object + keyArgs
			it, ok := items[key]
			if !ok {
				t.Errorf("%s: no item %s", row, key)
				continue
			}
			h := history(it)
			if strings.HasPrefix(object, "lvsServiceStats") || strings.HasPrefix(object, "lvsRealStats") {
				// Counters, exactly: the raw clone's last value. The
				// shipped per-second item: its stored rates times the
				// time between polls add up to the counter's increase
				// since its first stored value, which was polled before
				// any traffic (0).
				raw, ok := items[rawKey(key)]
				if !ok {
					t.Errorf("%s: no raw clone of %s", row, key)
					continue
				}
				got, err := strconv.ParseFloat(raw.LastValue, 64)
				if err != nil || got != want {
					t.Errorf("%s %s = %q, kernel %v", row, rawKey(key), raw.LastValue, want)
				} else {
					t.Logf("%s %s = %v: equals the kernel's", row, object, got)
				}
				first := math.NaN()
				if len(h) > 0 {
					first, _ = strconv.ParseFloat(h[0].Value, 64)
				}
				if len(h) < 2 || first != 0 {
					t.Errorf("%s %s: per-second history %v, want a first value of 0 from before the traffic", row, key, h)
					continue
				}
				var sum float64
				for i := 1; i < len(h); i++ {
					v, _ := strconv.ParseFloat(h[i].Value, 64)
					sum += v * (h[i].time() - h[i-1].time())
				}
				if math.Abs(sum-want) > 1e-6*want+0.01 {
					t.Errorf("%s %s: per-second values integrate to %.3f, kernel counter %v", row, key, sum, want)
				}
				continue
			}
			// Gauges: the kernel's value at the snapshot lies between
			// Zabbix's last value before it and first after it (equal to
			// both for those that hold still).
			var before, after *float64
			for _, v := range h {
				f, _ := strconv.ParseFloat(v.Value, 64)
				switch tm := v.time(); {
				case tm < float64(snapStart.UnixNano())/1e9:
					before = &f
				case tm > float64(snapEnd.UnixNano())/1e9 && after == nil:
					after = &f
				}
			}
			if before == nil || after == nil {
				t.Errorf("%s %s: no values polled around the snapshot: %v", row, key, h)
				continue
			}
			if want < math.Min(*before, *after) || want > math.Max(*before, *after) {
				t.Errorf("%s %s: Zabbix %v before and %v after the snapshot, kernel %v", row, key, *before, *after, want)
			} else {
				t.Logf("%s %s: Zabbix %v / %v, kernel %v: ok", row, key, *before, *after, want)
			}
		}
	}

	h := zabbixHealth{t: t, items: items, history: history, fail: guestFailed}
	h.checkScalars(settings, string(d.read("ipvs_stats.txt")))
	h.checkStates(getItems(), string(d.read("lnc.txt")))

	// Triggers: no usable real server for the quiesced service only; IPVS
	// available until ip_vs is unloaded.
	triggerValue := func(name string) string {
		t.Helper()
		var trs []struct{ Description, Value, Error string }
		api.must(t, guestFailed, "trigger.get", obj{"hostids": host, "output": []string{"description", "value", "error"}, "expandDescription": true}, &trs)
		for _, tr := range trs {
			if tr.Description == name {
				return tr.Value
			}
		}
		return fmt.Sprintf("no trigger %q in %v", name, trs)
	}
	for svc, want := range map[string]string{"TCP 10.99.0.1:80": "0", "TCP 10.99.0.2:80": "1"} {
		if got := triggerValue("LVS: no usable real server for " + svc); got != want {
			t.Errorf("trigger no usable real server for %s: value %s, want %s", svc, got, want)
		}
	}
	const unavailable = "LVS: IPVS unavailable on the director"
	if got := triggerValue(unavailable); got != "0" {
		t.Errorf("trigger %q while IPVS runs: value %s, want 0", unavailable, got)
	}
	// The health triggers: quiet, then fired by drop_packet always and
	// run_estimation 0.
	const defense, rates = "LVS: IPVS defense active on the director", "LVS: IPVS rates not estimated"
	for _, tr := range []string{defense, rates} {
		if got := triggerValue(tr); got != "0" {
			t.Errorf("trigger %q before the change: value %s, want 0", tr, got)
		}
	}
	touch("defense")
	waitFile("defended", time.Minute)
	deadline = time.Now().Add(time.Minute)
	for _, tr := range []string{defense, rates} {
		for triggerValue(tr) != "1" {
			if time.Now().After(deadline) {
				t.Errorf("trigger %q: not fired a minute after drop_packet=3 and run_estimation=0 (value %s)", tr, triggerValue(tr))
				break
			}
			time.Sleep(time.Second)
		}
		t.Logf("trigger %q: value %s after drop_packet=3 and run_estimation=0", tr, triggerValue(tr))
	}
	touch("unload")
	waitFile("unloaded", time.Minute)
	deadline = time.Now().Add(time.Minute)
	for triggerValue(unavailable) != "1" {
		if time.Now().After(deadline) {
			t.Errorf("trigger %q: not fired a minute after ip_vs was unloaded (value %s)", unavailable, triggerValue(unavailable))
			break
		}
		time.Sleep(time.Second)
	}

	touch("stop")
	t.Logf("guest:\n%s", d.finish().Stdout)
}

// settingsFunc is bash: settings prints each IPVS sysctl as
// lvsSettingValue serves it: name, a tab, the file's content with the
// white space at its ends removed.
const settingsFunc = `settings() {
	for f in /proc/sys/net/ipv4/vs/*; do
		printf '%s\t%s\n' "${f##*/}" "$(sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$f")"
	done
}
`

// parseSettings reads settingsFunc's output.
func parseSettings(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, value, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("settings: line %q", line)
		}
		m[name] = value
	}
	if m["amemthresh"] == "" {
		t.Fatalf("settings without amemthresh:\n%s", out)
	}
	return m
}

// zabbixHealth checks the items of the director's health against the
// kernel's files read at the snapshot.
type zabbixHealth struct {
	t       *testing.T
	items   map[string]zabbixItem
	history func(zabbixItem) []zabbixValue
	fail    func(string)
}

// checkScalars checks the defenses, the estimator and the settings
// (which held still) against the sysctl files, and the totals' per-second
// items against /proc/net/ip_vs_stats: their stored rates times the time
// between polls add up to the total since the first poll, before any
// traffic.
func (z zabbixHealth) checkScalars(settings map[string]string, ipvsStats string) {
	t := z.t
	t.Helper()
	want := map[string]string{"lvsDropEntry": settings["drop_entry"], "lvsDropPacket": settings["drop_packet"],
		"lvsSecureTcp": settings["secure_tcp"], "lvsAmemthresh": settings["amemthresh"], "lvsRatesEstimated": "1"}
	for name, v := range settings {
		want[fmt.Sprintf("lvsSettingValue[%q]", name)] = v
	}
	for key, v := range want {
		it, ok := z.items[key]
		switch {
		case !ok:
			t.Errorf("no item %s", key)
		case it.LastValue != v:
			t.Errorf("%s = %q, kernel %q", key, it.LastValue, v)
		}
	}
	totals := parseIpvsStats(t, ipvsStats)
	for object, k := range totals {
		it, ok := z.items[object]
		if !ok {
			t.Errorf("no item %s", object)
			continue
		}
		h := z.history(it)
		var sum float64
		for i := 1; i < len(h); i++ {
			v, _ := strconv.ParseFloat(h[i].Value, 64)
			sum += v * (h[i].time() - h[i-1].time())
		}
		first := math.NaN()
		if len(h) > 0 {
			first, _ = strconv.ParseFloat(h[0].Value, 64)
		}
		if len(h) < 2 || first != 0 || math.Abs(sum-float64(k)) > 1e-6*float64(k)+0.01 {
			t.Errorf("%s: per-second values integrate to %.3f, kernel total %d (history %v)", object, sum, k, h)
		} else {
			t.Logf("%s: per-second values integrate to %.3f = kernel total %d", object, sum, k)
		}
	}
}

// checkStates checks that Zabbix discovered each protocol and state of
// ipvsadm -Lnc (lnc, at the snapshot: the table holds still after the
// traffic) with its count, and the connection table's counts.
func (z zabbixHealth) checkStates(items map[string]zabbixItem, lnc string) {
	t := z.t
	t.Helper()
	states, entries, templates := countStates(t, lnc)
	if len(states) == 0 {
		z.fail("ipvsadm -Lnc lists no connections after the traffic:\n" + lnc)
	}
	for ps, n := range states {
		key := fmt.Sprintf("lvsConnStateCount[%q,%q]", ps[0], ps[1])
		it, ok := items[key]
		switch {
		case !ok:
			t.Errorf("no item %s (kernel: %d entries)", key, n)
		case it.LastValue != strconv.Itoa(n):
			t.Errorf("%s = %q, ipvsadm -Lnc %d", key, it.LastValue, n)
		default:
			t.Logf("%s = %d = ipvsadm -Lnc", key, n)
		}
	}
	for key, n := range map[string]int{"lvsConnEntries": entries, "lvsConnTemplates": templates, "lvsConnFromSync": 0} {
		if it := items[key]; it.LastValue != strconv.Itoa(n) {
			t.Errorf("%s = %q, ipvsadm -Lnc %d", key, it.LastValue, n)
		}
	}
}

// countStates counts ipvsadm -Lnc's entries by protocol number and state
// ("6", "TIME_WAIT"), and the entries and templates (client port 0).
func countStates(t *testing.T, lnc string) (states map[[2]string]int, entries, templates int) {
	t.Helper()
	states = map[[2]string]int{}
	protos := map[string]string{"TCP": "6", "UDP": "17", "SCTP": "132", "ICMP": "1", "IP": "0"}
	for _, line := range strings.Split(lnc, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[0] == "IPVS" || f[0] == "pro" {
			continue
		}
		p, ok := protos[f[0]]
		if !ok {
			t.Fatalf("ipvsadm -Lnc: protocol of %q", line)
		}
		states[[2]string{p, f[2]}]++
		entries++
		if strings.HasSuffix(f[3], ":0") {
			templates++
		}
	}
	return states, entries, templates
}

// parseIpvsStats reads /proc/net/ip_vs_stats' totals (hexadecimal) by
// the lvsTotal object each is.
func parseIpvsStats(t *testing.T, text string) map[string]uint64 {
	t.Helper()
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		// The header's second line, "Conns Packets ...", then the totals.
		if h := strings.Fields(line); len(h) == 0 || h[0] != "Conns" || i+1 >= len(lines) {
			continue
		}
		f := strings.Fields(lines[i+1])
		if len(f) != 5 {
			break
		}
		out := map[string]uint64{}
		for j, name := range []string{"lvsTotalConns", "lvsTotalInPkts", "lvsTotalOutPkts", "lvsTotalInBytes", "lvsTotalOutBytes"} {
			v, err := strconv.ParseUint(f[j], 16, 64)
			if err != nil {
				t.Fatalf("ip_vs_stats: %q: %v", f[j], err)
			}
			out[name] = v
		}
		return out
	}
	t.Fatalf("ip_vs_stats: no totals in\n%s", text)
	return nil
}

// obj is a JSON object for the Zabbix API.
type obj = map[string]any

// zabbixAPI calls Zabbix's JSON-RPC API (api_jsonrpc.php).
type zabbixAPI struct {
	url, auth string
}

func (z *zabbixAPI) call(method string, params, result any) error {
	req := obj{"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
	if z.auth != "" {
		req["auth"] = z.auth
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	resp, err := http.Post(z.url, "application/json-rpc", bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("zabbix api %s: %w", method, err)
	}
	defer resp.Body.Close()
	var out struct {
		Result json.RawMessage
		Error  *struct {
			Code          int
			Message, Data string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("zabbix api %s: decoding the answer (HTTP %s): %w", method, resp.Status, err)
	}
	if out.Error != nil {
		return fmt.Errorf("zabbix api %s: %s %s", method, out.Error.Message, out.Error.Data)
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(out.Result, result); err != nil {
		return fmt.Errorf("zabbix api %s: result %s: %w", method, out.Result, err)
	}
	return nil
}

// must calls method, ending the test through fail on an error.
func (z *zabbixAPI) must(t *testing.T, fail func(string), method string, params, result any) {
	t.Helper()
	if err := z.call(method, params, result); err != nil {
		fail(err.Error())
	}
}

type zabbixItem struct {
	ItemID        string `json:"itemid"`
	Key           string `json:"key_"`
	Name          string `json:"name"`
	SnmpOID       string `json:"snmp_oid"`
	LastClock     string `json:"lastclock"`
	LastValue     string `json:"lastvalue"`
	ValueType     string `json:"value_type"`
	Delay         string `json:"delay"`
	Error         string `json:"error"`
	Preprocessing []struct {
		Type string `json:"type"`
	} `json:"preprocessing"`
	DiscoveryRule struct {
		ItemID string `json:"itemid"`
		Key    string `json:"key_"`
	} `json:"discoveryRule"`
}

type zabbixValue struct {
	Clock string `json:"clock"`
	NS    string `json:"ns"`
	Value string `json:"value"`
}

// time is the value's timestamp in seconds, with Zabbix's nanoseconds:
// what its "change per second" divided by.
func (v zabbixValue) time() float64 {
	s, _ := strconv.ParseFloat(v.Clock, 64)
	ns, _ := strconv.ParseFloat(v.NS, 64)
	return s + ns/1e9
}

// Zabbix's preprocessing type number of "Change per second".
const zabbixChangePerSecond = "10"

// checkTemplateOIDs checks the OID of every item, item prototype and
// discovery rule of the imported template against mib.Objects(): an item
// polls the object its key names, a prototype its row's instance, a rule
// the Name columns. It returns the keys of the counter prototypes (those
// stored as change per second), which must be 64-bit columns.
func checkTemplateOIDs(t *testing.T, api *zabbixAPI, tplID string, fail func(string)) []zabbixItem {
	t.Helper()
	objects := map[string]mib.Object{}
	for _, o := range mib.Objects() {
		objects[o.Name] = o
	}
	var items, protos, rules []zabbixItem
	out := []string{"itemid", "key_", "snmp_oid", "name", "value_type", "delay"}
	api.must(t, fail, "item.get", obj{"templateids": tplID, "output": out}, &items)
	api.must(t, fail, "itemprototype.get", obj{"templateids": tplID, "output": out, "selectPreprocessing": "extend",
		"selectDiscoveryRule": []string{"itemid", "key_"}}, &protos)
	api.must(t, fail, "discoveryrule.get", obj{"templateids": tplID, "output": out}, &rules)
	if len(items) == 0 || len(protos) == 0 || len(rules) != 4 {
		fail(fmt.Sprintf("template has %d items, %d item prototypes, %d discovery rules", len(items), len(protos), len(rules)))
	}
	check := func(it zabbixItem, suffix string, table mib.Table) *mib.Object {
		name, _, _ := strings.Cut(it.Key, "[")
		o, ok := objects[name]
		switch {
		case !ok || !o.Served():
			t.Errorf("item %s: no served LVS-MIB object %s", it.Key, name)
		case o.Table != table:
			t.Errorf("item %s: %s is not in the table its rule discovers", it.Key, name)
		case it.SnmpOID != o.OID.String()+suffix:
			t.Errorf("item %s polls %s, LVS-MIB's %s is %s%s", it.Key, it.SnmpOID, name, o.OID, suffix)
		default:
			return &o
		}
		return nil
	}
	for _, it := range items {
		check(it, ".0", mib.Scalars)
	}
	var counters []zabbixItem
	ruleTable := map[string]mib.Table{"lvs.services.discovery": mib.ServiceTable, "lvs.reals.discovery": mib.RealTable,
		"lvs.states.discovery": mib.ConnStateTable, "lvs.settings.discovery": mib.SettingTable}
	for _, p := range protos {
		table, ok := ruleTable[p.DiscoveryRule.Key]
		if !ok {
			t.Errorf("item prototype %s: unknown discovery rule %s", p.Key, p.DiscoveryRule.Key)
		}
		o := check(p, ".{#SNMPINDEX}", table)
		perSecond := false
		for _, s := range p.Preprocessing {
			perSecond = perSecond || s.Type == zabbixChangePerSecond
		}
		if o == nil {
			continue
		}
		if perSecond != (o.Class == mib.ClassCounter) {
			t.Errorf("item prototype %s: change per second %v, but %s is a %v", p.Key, perSecond, o.Name, o.Class)
		}
		if perSecond {
			counters = append(counters, p)
		}
	}
	wantRules := map[string]string{
		"lvs.services.discovery": fmt.Sprintf("discovery[{#LVS.SERVICE},%s]", objects["lvsServiceName"].OID),
		"lvs.reals.discovery": fmt.Sprintf("discovery[{#LVS.REAL},%s,{#LVS.SERVICE},%s]",
			objects["lvsRealServerName"].OID, objects["lvsServiceName"].OID),
		"lvs.states.discovery": fmt.Sprintf("discovery[{#LVS.PROTO},%s,{#LVS.STATE},%s]",
			objects["lvsConnStateProto"].OID, objects["lvsConnStateName"].OID),
		"lvs.settings.discovery": fmt.Sprintf("discovery[{#LVS.SETTING},%s]", objects["lvsSettingName"].OID),
	}
	for _, r := range rules {
		if r.SnmpOID != wantRules[r.Key] {
			t.Errorf("discovery rule %s: %s, want %s", r.Key, r.SnmpOID, wantRules[r.Key])
		}
	}
	if t.Failed() {
		fail("the template does not match the LVS-MIB")
	}
	return counters
}

// rawKey is the key of the raw clone of a counter item (prototype).
func rawKey(key string) string { return strings.Replace(key, "[", ".raw[", 1) }

// addRawClones adds to the imported template, for each counter item
// prototype, a copy without preprocessing: the shipped items store change
// per second, which no single kernel reading can be compared with; the
// clone stores the counter itself, polled by the same server from the
// same OID, which must equal ipvsadm's exactly once the traffic is over.
func addRawClones(t *testing.T, api *zabbixAPI, tplID string, counters []zabbixItem, fail func(string)) {
	t.Helper()
	for _, c := range counters {
		api.must(t, fail, "itemprototype.create", obj{
			"hostid": tplID, "ruleid": c.DiscoveryRule.ItemID, "name": "raw " + c.Name, "key_": rawKey(c.Key),
			"type": 20, "snmp_oid": c.SnmpOID, "value_type": 3, "delay": c.Delay,
		}, nil)
	}
}

// ipvsRow names a service ("TCP 10.99.0.1:80", real "") or a real server
// of it, as the Name columns do.
type ipvsRow struct{ service, real string }

func (r ipvsRow) String() string {
	if r.real == "" {
		return r.service
	}
	return r.service + " / " + r.real
}

// parseIpvsadm reads `ipvsadm -Ln --stats --exact` and `ipvsadm -Ln
// --persistent-conn` into the LVS-MIB objects' values per row: the
// counters and the connection gauges of each real server, and for each
// service its counters, the sums of its real servers' gauges, its number
// of real servers and of usable ones (weight above 0: no thresholds are
// set).
func parseIpvsadm(t *testing.T, stats, conns string) map[ipvsRow]map[string]float64 {
	t.Helper()
	out := map[ipvsRow]map[string]float64{}
	num := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("ipvsadm: bad number %q", s)
		}
		return f
	}
	var svc string
	for _, line := range strings.Split(stats, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 7 && (f[0] == "TCP" || f[0] == "UDP"):
			svc = f[0] + " " + f[1]
			out[ipvsRow{svc, ""}] = map[string]float64{"lvsServiceStatsConnsHC": num(f[2]), "lvsServiceStatsInPktsHC": num(f[3]),
				"lvsServiceStatsOutPktsHC": num(f[4]), "lvsServiceStatsInBytes": num(f[5]), "lvsServiceStatsOutBytes": num(f[6]),
				"lvsServiceNumDests": 0, "lvsServiceNumAvailDests": 0,
				"lvsServiceActiveConns": 0, "lvsServiceInactiveConns": 0, "lvsServicePersistConns": 0}
		case len(f) == 7 && f[0] == "->" && svc != "":
			out[ipvsRow{svc, f[1]}] = map[string]float64{"lvsRealStatsConnsHC": num(f[2]), "lvsRealStatsInPktsHC": num(f[3]),
				"lvsRealStatsOutPktsHC": num(f[4]), "lvsRealStatsInBytes": num(f[5]), "lvsRealStatsOutBytes": num(f[6])}
		}
	}
	svc = ""
	var cols map[string]int
	for _, line := range strings.Split(conns, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 2 && f[0] == "Prot":
			// "Prot LocalAddress:Port Weight PersistConn ActiveConn
			// InActConn": a real server's row "-> ADDR:PORT 1 0 0 92"
			// lines up with it field by field.
			cols = map[string]int{}
			for i, c := range f {
				cols[c] = i
			}
		case len(f) >= 3 && (f[0] == "TCP" || f[0] == "UDP"):
			svc = f[0] + " " + f[1]
		case len(f) > 2 && f[0] == "->" && svc != "":
			for _, c := range []string{"Weight", "PersistConn", "ActiveConn", "InActConn"} {
				if _, ok := cols[c]; !ok || len(f) != len(cols) {
					t.Fatalf("ipvsadm --persistent-conn: no column %s, or a row that does not fit the header %v: %q", c, cols, line)
				}
			}
			r, s := out[ipvsRow{svc, f[1]}], out[ipvsRow{svc, ""}]
			if r == nil || s == nil {
				t.Fatalf("ipvsadm --persistent-conn lists %s %s, --stats did not", svc, f[1])
			}
			w := num(f[cols["Weight"]])
			r["lvsRealServerWeight"] = w
			r["lvsRealPersistConns"] = num(f[cols["PersistConn"]])
			r["lvsRealActiveConns"] = num(f[cols["ActiveConn"]])
			r["lvsRealInactiveConns"] = num(f[cols["InActConn"]])
			s["lvsServiceNumDests"]++
			if w > 0 {
				s["lvsServiceNumAvailDests"]++
			}
			s["lvsServicePersistConns"] += r["lvsRealPersistConns"]
			s["lvsServiceActiveConns"] += r["lvsRealActiveConns"]
			s["lvsServiceInactiveConns"] += r["lvsRealInactiveConns"]
		}
	}
	return out
}

// needZabbix fails the test when Zabbix or what it needs is missing.
func needZabbix(t *testing.T) {
	t.Helper()
	const install = "apt-get install -y zabbix-server-mysql zabbix-frontend-php mariadb-server php-cli php-mysql php-gd php-bcmath php-mbstring php-xml"
	for _, p := range []string{"/usr/sbin/zabbix_server", "/usr/share/zabbix/api_jsonrpc.php", "/usr/share/zabbix-server-mysql/schema.sql.gz",
		"/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing: %s", p, install)
		}
	}
	testutil.NeedTool(t, "php", install)
	out, err := exec.Command("php", "-m").Output()
	if err != nil {
		t.Fatalf("php -m: %v", err)
	}
	for _, m := range []string{"mysqli", "gd", "bcmath", "mbstring", "xml"} {
		if !strings.Contains(string(out), "\n"+m+"\n") {
			t.Fatalf("PHP module %s needed: %s", m, install)
		}
	}
}

// TestZabbixParseIpvsadm reads listings ipvsadm printed in the test bed.
func TestZabbixParseIpvsadm(t *testing.T) {
	const stats = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  10.99.0.1:80                      184     1141     1081    74236  3772460
  -> 127.0.0.1:8080                     92      568      541    36988  1886256
  -> 127.0.0.1:8081                     92      573      540    37248  1886204
TCP  10.99.0.2:80                       63      466      417    29335  3184095
  -> 127.0.0.1:8082                     63      466      417    29335  3184095
`
	const conns = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn 
  -> RemoteAddress:Port
TCP  10.99.0.1:80 rr
  -> 127.0.0.1:8080               1         0           0          92        
  -> 127.0.0.1:8081               3         0           0          92        
TCP  10.99.0.2:80 rr persistent 300
  -> 127.0.0.1:8082               0         1           2          63        
`
	got := parseIpvsadm(t, stats, conns)
	for _, c := range []struct {
		row   ipvsRow
		obj   string
		value float64
	}{
		{ipvsRow{"TCP 10.99.0.1:80", ""}, "lvsServiceStatsOutBytes", 3772460},
		{ipvsRow{"TCP 10.99.0.1:80", ""}, "lvsServiceNumDests", 2},
		{ipvsRow{"TCP 10.99.0.1:80", ""}, "lvsServiceInactiveConns", 184},
		{ipvsRow{"TCP 10.99.0.1:80", "127.0.0.1:8081"}, "lvsRealServerWeight", 3},
		{ipvsRow{"TCP 10.99.0.1:80", "127.0.0.1:8081"}, "lvsRealStatsInPktsHC", 573},
		{ipvsRow{"TCP 10.99.0.2:80", ""}, "lvsServiceNumAvailDests", 0},
		{ipvsRow{"TCP 10.99.0.2:80", ""}, "lvsServicePersistConns", 1},
		{ipvsRow{"TCP 10.99.0.2:80", "127.0.0.1:8082"}, "lvsRealActiveConns", 2},
	} {
		if v, ok := got[c.row][c.obj]; !ok || v != c.value {
			t.Errorf("%v %s = %v (%v), want %v", c.row, c.obj, v, ok, c.value)
		}
	}
}

// TestParseHealthFiles reads the kernel's files as the health checks take
// them: /proc/net/ip_vs_stats, ipvsadm -Lnc, settingsFunc's output.
func TestParseHealthFiles(t *testing.T) {
	totals := parseIpvsStats(t, `   Total Incoming Outgoing         Incoming         Outgoing
   Conns  Packets  Packets            Bytes            Bytes
      10       68       4F             19E7             1CDA

 Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s
       1        A        0         100000000                0
`)
	want := map[string]uint64{"lvsTotalConns": 16, "lvsTotalInPkts": 0x68, "lvsTotalOutPkts": 0x4f,
		"lvsTotalInBytes": 0x19e7, "lvsTotalOutBytes": 0x1cda}
	if fmt.Sprint(totals) != fmt.Sprint(want) {
		t.Errorf("ip_vs_stats: %v, want %v", totals, want)
	}
	states, entries, templates := countStates(t, `IPVS connection entries
pro expire state       source             virtual            destination
TCP 01:57  TIME_WAIT   10.99.0.1:40000    10.99.0.1:80       127.0.0.1:8080
TCP 01:58  TIME_WAIT   10.99.0.1:40002    10.99.0.1:80       127.0.0.1:8081
TCP 00:59  SYN_RECV    10.99.0.1:40004    10.99.0.1:80       127.0.0.1:8081
TCP 04:59  NONE        10.99.0.1:0        10.99.0.2:80       127.0.0.1:8082
UDP 04:50  UDP         10.99.0.1:5353     10.99.0.3:53       127.0.0.1:53
`)
	wantStates := map[[2]string]int{{"6", "TIME_WAIT"}: 2, {"6", "SYN_RECV"}: 1, {"6", "NONE"}: 1, {"17", "UDP"}: 1}
	if fmt.Sprint(states) != fmt.Sprint(wantStates) || entries != 5 || templates != 1 {
		t.Errorf("ipvsadm -Lnc: %v, %d entries, %d templates; want %v, 5, 1", states, entries, templates, wantStates)
	}
	settings := parseSettings(t, "am_droprate\t10\namemthresh\t1024\nest_cpulist\t0-3\n")
	if len(settings) != 3 || settings["est_cpulist"] != "0-3" || settings["amemthresh"] != "1024" {
		t.Errorf("settings: %v", settings)
	}
}
