package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/snmptext"
	"github.com/lvs-agentx/lvs-agentx/internal/snmpvb"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// runCheck is the "check" command: walk the LVS-MIB through snmpd, read
// IPVS directly, and say whether they agree and, if not, why.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", "lvs-agentx check [--snmp udp:HOST:PORT [--community C | --user U ...]] [--metrics URL]", stdout)
	target := fs.String("snmp", "udp:127.0.0.1:161", "snmpd to query: [udp:|tcp:]host[:port]")
	community := fs.String("community", "public", "SNMPv2c community (ignored with --user)")
	user := fs.String("user", "", "SNMPv3 user name; selects SNMPv3")
	authProto := fs.String("auth-proto", "SHA", "SNMPv3 authentication: MD5, SHA, SHA224, SHA256, SHA384, SHA512")
	authPass := fs.String("auth-pass", "", "SNMPv3 authentication passphrase (empty: noAuthNoPriv)")
	privProto := fs.String("priv-proto", "AES", "SNMPv3 privacy: DES, AES, AES192, AES256")
	privPass := fs.String("priv-pass", "", "SNMPv3 privacy passphrase (empty: no privacy)")
	timeout := fs.Duration("timeout", 3*time.Second, "time to wait for each SNMP answer")
	netns := fs.String("netns", "", "read IPVS in the network namespace at this path, as the agent does")
	contextName := fs.String("context", "", "the context to check, the name the agent serves a namespace under: the SNMPv3 context to walk (with --user; in SNMPv2c snmpd maps a community to a context: pass that --community), and the context label of the --metrics series")
	metricsURL := fs.String("metrics", "", "also compare the agent's Prometheus endpoint with IPVS: its URL, e.g. http://127.0.0.1:9815/metrics (basic auth: https://user:password@host:port/metrics); given without --snmp, only the endpoint is checked")
	caFile := fs.String("metrics-ca-file", "", "CA certificate (PEM) that signed an HTTPS endpoint's certificate")
	if err := parseFlags(fs, args, os.Getenv); err != nil {
		return err
	}
	viaSNMP := *metricsURL == ""
	fs.Visit(func(f *flag.Flag) { viaSNMP = viaSNMP || f.Name == "snmp" })
	if err := checkNetNS(*netns); err != nil {
		return err
	}
	var problems []string
	var summaries []string
	if *metricsURL != "" {
		p, s, err := checkMetrics(ctx, *metricsURL, *caFile, *contextName, *netns, *timeout)
		if err != nil {
			return err
		}
		problems, summaries = append(problems, p...), append(summaries, s)
	}
	if viaSNMP {
		p, s, err := checkSNMP(ctx, *target, *timeout, *user, *authProto, *authPass, *privProto, *privPass, *community, *contextName, *netns)
		if err != nil {
			return err
		}
		problems, summaries = append(problems, p...), append(summaries, s)
	}
	if len(problems) == 0 {
		fmt.Fprintf(stdout, "OK: %s\n", strings.Join(summaries, "; "))
		return nil
	}
	fmt.Fprintf(stdout, "PROBLEM: %d finding(s)\n", len(problems))
	for _, p := range problems {
		fmt.Fprintf(stdout, "- %s\n", p)
	}
	return errors.New("problems found (see above)")
}

// checkSNMP walks the LVS-MIB through snmpd and compares it with IPVS.
func checkSNMP(ctx context.Context, target string, timeout time.Duration, user, authProto, authPass, privProto, privPass,
	community, contextName, netns string) ([]string, string, error) {
	snmp, err := newSNMP(target, timeout)
	if err != nil {
		return nil, "", err
	}
	if user != "" {
		if err := setV3(snmp, user, authProto, authPass, privProto, privPass); err != nil {
			return nil, "", err
		}
		snmp.ContextName = contextName
	} else if contextName != "" {
		return nil, "", usagef("--context %q needs SNMPv3 (--user); in SNMPv2c pass the community snmpd maps to that context (com2sec -Cn %s ...)", contextName, contextName)
	} else {
		snmp.Version, snmp.Community = gosnmp.Version2c, community
	}
	problems, summary := check(ctx, snmp, netns)
	return problems, summary, nil
}

func newSNMP(target string, timeout time.Duration) (*gosnmp.GoSNMP, error) {
	transport := "udp"
	if t, rest, ok := strings.Cut(target, ":"); ok && (t == "udp" || t == "tcp") {
		transport, target = t, rest
	}
	host, port := target, "161"
	if h, p, err := net.SplitHostPort(target); err == nil {
		host, port = h, p
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || host == "" {
		return nil, usagef("--snmp %q: want [udp:|tcp:]host[:port]", target)
	}
	return &gosnmp.GoSNMP{Target: host, Port: uint16(n), Transport: transport, Timeout: timeout,
		Retries: 1, MaxRepetitions: 50, MaxOids: gosnmp.MaxOids}, nil
}

func setV3(g *gosnmp.GoSNMP, user, authProto, authPass, privProto, privPass string) error {
	auths := map[string]gosnmp.SnmpV3AuthProtocol{"MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA224": gosnmp.SHA224,
		"SHA256": gosnmp.SHA256, "SHA384": gosnmp.SHA384, "SHA512": gosnmp.SHA512}
	privs := map[string]gosnmp.SnmpV3PrivProtocol{"DES": gosnmp.DES, "AES": gosnmp.AES, "AES192": gosnmp.AES192, "AES256": gosnmp.AES256}
	params := &gosnmp.UsmSecurityParameters{UserName: user, AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}
	flags := gosnmp.NoAuthNoPriv
	if authPass != "" {
		a, err := choose("--auth-proto", authProto, auths, "MD5, SHA, SHA224, SHA256, SHA384 or SHA512")
		if err != nil {
			return err
		}
		params.AuthenticationProtocol, params.AuthenticationPassphrase = a, authPass
		flags = gosnmp.AuthNoPriv
		if privPass != "" {
			p, err := choose("--priv-proto", privProto, privs, "DES, AES, AES192 or AES256")
			if err != nil {
				return err
			}
			params.PrivacyProtocol, params.PrivacyPassphrase = p, privPass
			flags = gosnmp.AuthPriv
		}
	} else if privPass != "" {
		return usagef("--priv-pass needs --auth-pass (SNMPv3 has no privacy without authentication)")
	}
	g.Version, g.SecurityModel, g.MsgFlags, g.SecurityParameters = gosnmp.Version3, gosnmp.UserSecurityModel, flags, params
	return nil
}

// choose returns the choice a flag names, in any case, or a usage error
// listing what it may name.
func choose[T any](flag, name string, choices map[string]T, want string) (T, error) {
	v, ok := choices[strings.ToUpper(name)]
	if !ok {
		return v, usagef("%s %q: want %s", flag, name, want)
	}
	return v, nil
}

// check compares the walk with IPVS and returns the problems found, or a
// one-line summary of what matched.
func check(ctx context.Context, g *gosnmp.GoSNMP, netns string) (problems []string, summary string) {
	where := fmt.Sprintf("%s:%s:%d", g.Transport, g.Target, g.Port)
	if err := g.Connect(); err != nil {
		return []string{fmt.Sprintf("cannot open a socket to snmpd at %s: %v", where, err)}, ""
	}
	defer g.Conn.Close()

	pdus, err := g.BulkWalkAll(mib.Root.String())
	if err != nil {
		return []string{explainSNMPError(where, g.Version, err)}, ""
	}
	if len(pdus) == 0 {
		return []string{fmt.Sprintf("snmpd at %s answers but serves nothing under %s (LVS-MIB): "+
			"lvs-agentx is not registered with it, or this community's/user's view excludes the subtree. "+
			"Check that snmpd.conf has 'master agentx', that its agentXSocket is lvs-agentx's --agentx and agentXPerms "+
			"let lvs-agentx's user connect, that lvs-agentx logs 'registered', and that the view includes %s",
			where, mib.Root, mib.Root)}, ""
	}

	view, snap, problem := directView(ctx, netns)
	if problem != "" {
		return []string{problem}, ""
	}
	got, err := keyedWalk(pdus)
	if err != nil {
		return []string{err.Error()}, ""
	}
	want := keyedView(view)

	if v, ok := got["lvsIpvsAvailable"]; ok && v.vb.Int != 1 {
		// Its tables are empty then: listing every missing value would
		// bury the one finding that matters.
		return []string{"the agent reports IPVS unavailable (lvsIpvsAvailable = false) although check can read it: " +
			"the agent lacks CAP_NET_ADMIN, or reads another network namespace (--netns); see its log"}, ""
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w := want[k]
		gv, ok := got[k]
		if !ok && w.obj.Table == mib.ConnStateTable {
			continue // connections change state between the two reads
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: missing from snmpd's answer (IPVS has %s)", k, format(w.vb)))
			continue
		}
		if p := compareValue(w, gv); p != "" {
			problems = append(problems, fmt.Sprintf("%s: %s", k, p))
		}
	}
	var extra []string
	for k := range got {
		if _, ok := want[k]; !ok && got[k].obj.Table != mib.ConnStateTable {
			extra = append(extra, fmt.Sprintf("%s: served (%s) but not in IPVS", k, format(got[k].vb)))
		}
	}
	sort.Strings(extra)
	problems = append(problems, extra...)
	entries, _ := mib.ColumnOf("lvsConnEntries")
	return problems, fmt.Sprintf("%d objects served through snmpd at %s match IPVS (%d services, %d real servers, %d connection entries)",
		len(got), where, len(snap.Services), snap.NumDests(), view.Cell(entries, 0).Uint)
}

// directView reads IPVS and its /proc files in the namespace at netns, as
// the agent would, and returns their view; or, when it cannot, what to
// tell the user.
func directView(ctx context.Context, netns string) (*mib.View, *ipvsstats.Snapshot, string) {
	snap, err := readOnce(ctx, netns)
	if err != nil {
		return nil, nil, fmt.Sprintf("cannot read IPVS directly to compare (%v); run check as root or with CAP_NET_ADMIN, in the agent's namespace", err)
	}
	health, err := readHealthOnce(netns)
	if err != nil {
		return nil, nil, fmt.Sprintf("cannot read IPVS's /proc files to compare (%v); run check in the agent's namespace", err)
	}
	view := mib.Build(snap, ipvslive.NewIndexes(), time.Now)
	view.SetHealth(health)
	return view, snap, ""
}

func explainSNMPError(where string, v gosnmp.SnmpVersion, err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "timeout") || strings.Contains(msg, "connection refused"):
		hint := "is snmpd running and listening there"
		if v != gosnmp.Version3 {
			hint += "? snmpd silently ignores a community it does not accept, so also check --community against rocommunity in snmpd.conf"
		} else {
			hint += "?"
		}
		return fmt.Sprintf("snmpd at %s does not answer (%v): %s", where, err, hint)
	case containsAny(strings.ToLower(msg), "unknown user", "authentic", "wrong digest", "decrypt", "usmstats"):
		return fmt.Sprintf("snmpd at %s refused the SNMPv3 credentials (%v): check --user, --auth-*, --priv-* against snmpd's createUser/rouser lines", where, err)
	}
	return fmt.Sprintf("walking the LVS-MIB through snmpd at %s failed: %v", where, err)
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// cell is one value, with the object it belongs to.
type cell struct {
	obj mib.Object
	vb  agentx.VarBind
}

// keyedWalk keys walked values by object and row name.
func keyedWalk(pdus []gosnmp.SnmpPDU) (map[string]cell, error) {
	vbs := make([]agentx.VarBind, 0, len(pdus))
	for _, p := range pdus {
		vb, err := snmpvb.FromPDU(p)
		if err != nil {
			return nil, err
		}
		vbs = append(vbs, vb)
	}
	return keyed(vbs), nil
}

func keyedView(v *mib.View) map[string]cell {
	var vbs []agentx.VarBind
	for vb, ok := v.Next(nil, mib.Root, false, nil); ok && vb.Name.HasPrefix(mib.Root); vb, ok = v.Next(nil, vb.Name, false, nil) {
		vbs = append(vbs, vb)
	}
	return keyed(vbs)
}

// keyed names each value "object" (scalars), "object[row name]" (tables)
// or "object.instance" (other tables), skipping the index columns, whose
// values are numbers that legitimately differ between numberings: rows
// are matched by name, so the check does not depend on the agent's index
// state.
func keyed(vbs []agentx.VarBind) map[string]cell {
	rowName := map[mib.Table]map[string]string{} // table -> index -> row name
	objs := make([]mib.Object, len(vbs))
	insts := make([]agentx.OID, len(vbs))
	for i, vb := range vbs {
		obj, inst, ok := mib.Describe(vb.Name)
		if !ok {
			continue
		}
		objs[i], insts[i] = obj, inst
		if obj.Class == mib.ClassName {
			if rowName[obj.Table] == nil {
				rowName[obj.Table] = map[string]string{}
			}
			rowName[obj.Table][inst.String()] = string(vb.Bytes)
		}
	}
	svcName, realName := rowName[mib.ServiceTable], rowName[mib.RealTable]
	out := make(map[string]cell, len(vbs))
	for i, vb := range vbs {
		obj, inst := objs[i], insts[i]
		if obj.Name == "" {
			out[vb.Name.String()] = cell{obj: mib.Object{Name: "unknown"}, vb: vb}
			continue
		}
		key := obj.Name
		switch {
		case obj.Class == mib.ClassIndex:
			continue
		case obj.Table == mib.ServiceTable:
			key = fmt.Sprintf("%s[%s]", obj.Name, svcName[inst.String()])
		case obj.Table == mib.RealTable && len(inst) == 2:
			key = fmt.Sprintf("%s[%s -> %s]", obj.Name, svcName[inst[:1].String()], realName[inst.String()])
		case len(inst) == 1 && inst[0] == 0:
		default:
			key = obj.Name + inst.String()
		}
		out[key] = cell{obj: obj, vb: vb}
	}
	return out
}

// compareValue says how a served value w differs from IPVS's (want),
// allowing for what changes between the agent's read and ours: counters
// may lag (never lead), rates and connection gauges move, and the agent's
// own account (data age, changes seen since it started) is not IPVS's:
// only their types are compared.
func compareValue(want, got cell) string {
	switch want.obj.Class {
	case mib.ClassGauge, mib.ClassAgent:
		if got.vb.Type != want.vb.Type {
			return fmt.Sprintf("type %s, want %s", format(got.vb), format(want.vb))
		}
		return ""
	case mib.ClassCounter:
		if got.vb.Type != want.vb.Type {
			return fmt.Sprintf("type %s, want %s", format(got.vb), format(want.vb))
		}
		ahead := got.vb.Uint > want.vb.Uint
		if want.vb.Type == agentx.Counter32 { // compare modulo 2^32
			ahead = uint32(got.vb.Uint-want.vb.Uint) != 0 && uint32(want.vb.Uint-got.vb.Uint) > 1<<31
		}
		if ahead {
			return fmt.Sprintf("counter %d is ahead of the kernel's %d", got.vb.Uint, want.vb.Uint)
		}
		return ""
	}
	if g, w := format(got.vb), format(want.vb); g != w {
		return fmt.Sprintf("snmpd serves %s, IPVS has %s", g, w)
	}
	return ""
}

func format(vb agentx.VarBind) string {
	s, err := snmptext.FormatVarBind(vb)
	if err != nil {
		return fmt.Sprintf("unformattable %v", vb.Type)
	}
	return s
}
