package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/mib"
	"github.com/lvs-agentx/lvs-agentx/test/scenario"
	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

const agentPkg = "github.com/lvs-agentx/lvs-agentx/cmd/lvs-agentx"

// e2eAgent is the agent the e2e scenarios run unless they say otherwise:
// the default flags with a 1 s cache TTL, so a change in IPVS is served
// within a second.
func e2eAgent() scenario.Agent {
	a := scenario.DefaultAgent()
	a.CacheTTL = "1s"
	return a
}

// startServed starts snmpd and the agent and waits until the agent answers
// through snmpd.
const startServed = `
startsnmpd
startagent
waitserved
`

// TestLVSMIBThroughSnmpd checks the whole path: the scenario's table, walked
// through a real snmpd from our agent, equals what "lvs-agentx dump
// --format=oids" says it serves and what ipvsadm reports in the same namespace,
// names resolve through the MIB file, and indexes survive a deletion, an
// agent restart and a re-creation.
func TestLVSMIBThroughSnmpd(t *testing.T) {
	t.Parallel()
	r := testbed.MustRun(t, testbed.Scenario{
		Modules:  []string{"ip_vs_sh", "ip_vs_mh"},
		Binaries: map[string]string{"lvs-agentx": agentPkg},
		Timeout:  5 * time.Minute,
		Script: scenario.Script(scenario.Setup{SNMPD: scenario.Master(), Agent: e2eAgent()},
			scenarioSetup+trafficThenFreeze+startServed+`
walk > walk.txt
snmpbulkwalk -v2c -c public -On -m '' -Cr50 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711 > bulkwalk.txt
lvs-agentx dump --format=oids --state-file "$WORK/state.json" > dump.txt

mkdir -p mibs
for f in /usr/lib/erlang/lib/snmp-*/mibs/{SNMPv2-SMI,SNMPv2-TC,SNMPv2-CONF,SNMPv2-MIB,INET-ADDRESS-MIB}.mib; do ln -sf "$f" mibs/; done
lvs-agentx mib --dir mibs
snmpwalk -v2c -c public -M +$WORK/mibs -m LVS-MIB 127.0.0.1:1161 LVS-MIB::lvs > named.txt 2> named.err

ipvsadm -D -t 10.99.0.2:8083
sleep 1.2; walk > /dev/null; sleep 0.5  # the first request after the TTL starts the refresh
walk > walk-deleted.txt
stopagent; echo "agent exit $?" > agent-exit.txt
startagent
waitserved
walk > walk-restarted.txt
ipvsadm -A -t 10.99.0.2:8083 -s wlc
ipvsadm -a -t 10.99.0.2:8083 -r 10.99.0.2:8083 -g
sleep 1.2; walk > /dev/null; sleep 0.5
walk > walk-recreated.txt
stopagent
`)})
	t.Logf("agent log:\n%s", r.File(t, "agent.log"))
	walk := string(r.File(t, "walk.txt"))
	w := parseWalk(t, walk)
	if len(w.order) < 300 {
		t.Fatalf("walk has only %d varbinds:\n%s", len(w.order), walk)
	}

	// What the agent serves equals what dump says it serves, and a bulk
	// walk equals a plain walk; only the agent's own account differs: the
	// data age by the moment, the changes seen by the agent's run.
	own := agentOwned()
	sameWalk(t, "dump --format=oids", parseWalk(t, string(r.File(t, "dump.txt"))), w, own)
	sameWalk(t, "snmpbulkwalk", parseWalk(t, string(r.File(t, "bulkwalk.txt"))), w, own)

	checkAgainstIpvsadm(t, r, w)

	// Names, not numbers, for every object.
	named := strings.TrimSpace(string(r.File(t, "named.txt")))
	lines := strings.Split(named, "\n")
	if len(lines) < len(w.order) {
		t.Errorf("named walk has %d lines, numeric %d", len(lines), len(w.order))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "LVS-MIB::") && !strings.HasPrefix(l, " ") && l != "" {
			t.Errorf("not resolved by name: %q", l)
		}
	}
	if e := strings.TrimSpace(string(r.File(t, "named.err"))); e != "" {
		t.Errorf("snmpwalk -m LVS-MIB complained:\n%s", e)
	}

	// Stable indexes.
	before := w.rowIndexes()
	deleted := parseWalk(t, string(r.File(t, "walk-deleted.txt"))).rowIndexes()
	const gone = "TCP 10.99.0.2:8083"
	if _, ok := deleted[gone]; ok {
		t.Errorf("%s still served after ipvsadm -D", gone)
	}
	for name, idx := range before {
		if strings.HasPrefix(name, gone) {
			continue
		}
		if deleted[name] != idx {
			t.Errorf("after deleting %s: %s moved from %s to %q", gone, name, idx, deleted[name])
		}
	}
	if got := strings.TrimSpace(string(r.File(t, "agent-exit.txt"))); got != "agent exit 0" {
		t.Errorf("SIGTERM: %s", got)
	}
	restarted := parseWalk(t, string(r.File(t, "walk-restarted.txt"))).rowIndexes()
	for name, idx := range deleted {
		if restarted[name] != idx {
			t.Errorf("after an agent restart: %s moved from %s to %q", name, idx, restarted[name])
		}
	}
	recreated := parseWalk(t, string(r.File(t, "walk-recreated.txt"))).rowIndexes()
	for name, idx := range before {
		if recreated[name] != idx {
			t.Errorf("after re-creating %s: %s is %q, was %s", gone, name, recreated[name], idx)
		}
	}
}

// walkResult is an snmpwalk -On output: values by OID, in walk order.
type walkResult struct {
	values map[string]string
	order  []string
}

func parseWalk(t *testing.T, text string) *walkResult {
	t.Helper()
	w := &walkResult{values: map[string]string{}}
	for _, line := range strings.Split(text, "\n") {
		oid, val, ok := strings.Cut(line, " = ")
		switch {
		case ok && strings.HasPrefix(val, "No more variables left in this MIB View"):
			// The end of a walk in a context that holds nothing after
			// the LVS-MIB, named by the last object: not a value.
		case ok && strings.HasPrefix(oid, "."):
			w.values[oid] = val
			w.order = append(w.order, oid)
		case line == "":
		case len(w.order) > 0: // a long Hex-STRING goes on over several lines
			last := w.order[len(w.order)-1]
			w.values[last] += "\n" + line
		default:
			t.Fatalf("unexpected walk line %q", line)
		}
	}
	return w
}

// agentOwned returns the instances of the scalars that are the agent's own
// account, not IPVS's (lvsDataAge, lvsChanges, lvsLastChange), as
// snmpwalk -On prints them.
func agentOwned() map[string]bool {
	own := map[string]bool{}
	for _, o := range mib.Objects() {
		if o.Class == mib.ClassAgent && o.Served() {
			own[o.OID.String()+".0"] = true
		}
	}
	return own
}

// sameWalk checks that got has want's OIDs in want's order, with the same
// values but for the OIDs in ignore.
func sameWalk(t *testing.T, what string, got, want *walkResult, ignore map[string]bool) {
	t.Helper()
	if len(got.order) != len(want.order) {
		t.Errorf("%s: %d varbinds, snmpwalk %d", what, len(got.order), len(want.order))
	}
	for i, oid := range want.order {
		if i >= len(got.order) || got.order[i] != oid {
			t.Errorf("%s: varbind %d is %v, snmpwalk has %s", what, i, at(got.order, i), oid)
			return
		}
		if !ignore[oid] && got.values[oid] != want.values[oid] {
			t.Errorf("%s: %s = %s, snmpwalk %s", what, oid, got.values[oid], want.values[oid])
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

const lvs = ".1.3.6.1.4.1.8225.4711"

// oidOf returns the OID of the LVS-MIB object called name, as snmpwalk -On
// prints it; the mib package is the one place that knows them.
func oidOf(name string) string {
	for _, o := range mib.Objects() {
		if o.Name == name {
			return o.OID.String()
		}
	}
	panic("no LVS-MIB object " + name)
}

// rowIndexes maps each row's Name ("TCP 10.99.0.1:80", and
// "TCP 10.99.0.1:80 -> 127.0.0.1:8081" for real servers) to its index.
func (w *walkResult) rowIndexes() map[string]string {
	out := map[string]string{}
	svcName := map[string]string{}
	svcCol, realCol := oidOf("lvsServiceName")+".", oidOf("lvsRealServerName")+"."
	for _, oid := range w.order {
		if idx, ok := strings.CutPrefix(oid, svcCol); ok {
			svcName[idx] = unquote(w.values[oid])
			out[svcName[idx]] = idx
		}
	}
	for _, oid := range w.order {
		if idx, ok := strings.CutPrefix(oid, realCol); ok {
			svc, _, _ := strings.Cut(idx, ".")
			out[svcName[svc]+" -> "+unquote(w.values[oid])] = idx
		}
	}
	return out
}

func unquote(v string) string {
	s, _ := strings.CutPrefix(v, "STRING: ")
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

// num returns the number in an "INTEGER: 5", "Counter64: 7" or
// "Gauge32: 3" value.
func num(v string) string {
	_, n, _ := strings.Cut(v, ": ")
	return n
}

// checkAgainstIpvsadm compares walked values with ipvsadm's listings
// (ln.txt, stats.txt, rate.txt, timeout.txt), row by row, matched by the
// Name columns, and the scalars of TestLVSMIBThroughSnmpd's scenario.
func checkAgainstIpvsadm(t *testing.T, r *testbed.Result, w *walkResult) {
	t.Helper()
	checkRowsAgainstIpvsadm(t, "", r, w, "")
	get := func(name, row string) string { return w.values[oidOf(name)+"."+row] }
	to := strings.Fields(string(r.File(t, "timeout.txt")))
	scalars := map[string]string{
		"lvsVersion": `STRING: "1.2.1"`, "lvsNumServices": "INTEGER: 9", "lvsHashTableSize": "INTEGER: 4096",
		"lvsTcpTimeOut": "INTEGER: " + to[len(to)-3], "lvsTcpFinTimeOut": "INTEGER: " + to[len(to)-2],
		"lvsUdpTimeOut": "INTEGER: " + to[len(to)-1], "lvsDaemonState": "INTEGER: 3", "lvsMcastInt": `STRING: "lo"`,
		"lvsIpvsAvailable": "INTEGER: 1",
	}
	for s, want := range scalars {
		if got := get(s, "0"); got != want {
			t.Errorf("%s.0 = %s, want %s", s, got, want)
		}
	}
	// IPv6 rows carry their address in the Inet columns.
	row := w.rowIndexes()["TCP [fd00::1]:443"]
	if got := get("lvsServiceAddrType", row); got != "INTEGER: 2" {
		t.Errorf("TCP [fd00::1]:443 lvsServiceAddrType = %s, want ipv6(2)", got)
	}
	if got := get("lvsServiceInetAddr", row); !strings.HasPrefix(got, "Hex-STRING: FD 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01") {
		t.Errorf("TCP [fd00::1]:443 lvsServiceInetAddr = %s, want fd00::1", got)
	}
	if got := get("lvsServiceAddr", row); got != "IpAddress: 0.0.0.0" {
		t.Errorf("TCP [fd00::1]:443 lvsServiceAddr = %s, want 0.0.0.0", got)
	}
}

// checkRowsAgainstIpvsadm compares the rows of walk w (what says which
// walk, in errors) with ipvsadm's listings PREFIXln.txt, PREFIXstats.txt
// and PREFIXrate.txt, column by column, matched by the Name columns.
func checkRowsAgainstIpvsadm(t *testing.T, what string, r *testbed.Result, w *walkResult, prefix string) {
	t.Helper()
	idx := w.rowIndexes()
	get := func(name, row string) string { return w.values[oidOf(name)+"."+row] }
	stats := ipvsadmRows(t, string(r.File(t, prefix+"stats.txt")))
	rates := ipvsadmRows(t, string(r.File(t, prefix+"rate.txt")))
	ln := ipvsadmRows(t, string(r.File(t, prefix+"ln.txt")))
	if what != "" {
		what += ": "
	}
	if len(stats) == 0 || len(idx) != len(stats) {
		t.Errorf("%swalk has %d named rows, ipvsadm %d", what, len(idx), len(stats))
	}
	for name, st := range stats {
		row, ok := idx[name]
		if !ok {
			t.Errorf("%s%s: in ipvsadm, not in the walk", what, name)
			continue
		}
		// ipvsadm --stats: Conns InPkts OutPkts InBytes OutBytes; --rate:
		// CPS InPPS OutPPS InBPS OutBPS.
		isReal := strings.Contains(name, " -> ")
		hc := []string{"lvsServiceStatsConnsHC", "lvsServiceStatsInPktsHC", "lvsServiceStatsOutPktsHC",
			"lvsServiceStatsInBytes", "lvsServiceStatsOutBytes"}
		rateCols := []string{"lvsServiceRateCps", "lvsServiceRateInPPS", "lvsServiceRateOutPPS",
			"lvsServiceRateInBPS", "lvsServiceRateOutBPS"}
		if isReal {
			hc = []string{"lvsRealStatsConnsHC", "lvsRealStatsInPktsHC", "lvsRealStatsOutPktsHC",
				"lvsRealStatsInBytes", "lvsRealStatsOutBytes"}
			rateCols = []string{"lvsRealRateCps", "lvsRealRateInPPS", "lvsRealRateOutPPS",
				"lvsRealRateInBPS", "lvsRealRateOutBPS"}
		}
		for i, c := range hc {
			if got := num(get(c, row)); got != st[i] {
				t.Errorf("%s%s %s = %s, ipvsadm --stats %s", what, name, c, got, st[i])
			}
		}
		for i, c := range rateCols {
			if got := num(get(c, row)); got != rates[name][i] {
				t.Errorf("%s%s %s = %s, ipvsadm --rate %s", what, name, c, got, rates[name][i])
			}
		}
		l := ln[name]
		if !isReal {
			if got := unquote(get("lvsServiceSchedType", row)); got != l[0] {
				t.Errorf("%s%s scheduler %q, ipvsadm %q", what, name, got, l[0])
			}
			continue
		}
		// ipvsadm -Ln real server: Forward Weight ActiveConn InActConn
		fwd := map[string]string{"Masq": "0", "Local": "1", "Tunnel": "2", "Route": "3"}[l[0]]
		for _, c := range []struct {
			col  string
			want string
		}{{"lvsRealServerFlags", fwd}, {"lvsRealServerWeight", l[1]}, {"lvsRealActiveConns", l[2]}, {"lvsRealInactiveConns", l[3]}} {
			if got := num(get(c.col, row)); got != c.want {
				t.Errorf("%s%s %s = %s, ipvsadm -Ln %s", what, name, c.col, got, c.want)
			}
		}
	}
}
