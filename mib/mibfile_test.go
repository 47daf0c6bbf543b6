package mib

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// baseModules are the modules LVS-MIB needs beyond its own two files;
// Debian ships them only in erlang-snmp.
var baseModules = []string{"SNMPv2-SMI", "SNMPv2-TC", "SNMPv2-CONF", "SNMPv2-MIB", "INET-ADDRESS-MIB"}

const aptLine = "apt-get install -y smitools snmp erlang-snmp"

func needTool(t *testing.T, name string) string {
	t.Helper()
	return testutil.NeedTool(t, name, aptLine)
}

// mibDirs returns a directory for smilint (SMIPATH: one entry per module,
// named by module) and one for net-snmp (-M +dir), both holding the base
// modules and the embedded files.
func mibDirs(t *testing.T) (smiDir, netsnmpDir string) {
	t.Helper()
	base, _ := filepath.Glob("/usr/lib/erlang/lib/snmp-*/mibs")
	if len(base) == 0 {
		t.Fatalf("no erlang-snmp MIB directory; install it: %s", aptLine)
	}
	smiDir, netsnmpDir = t.TempDir(), t.TempDir()
	for _, m := range baseModules {
		src := filepath.Join(base[len(base)-1], m+".mib")
		if _, err := os.Stat(src); err != nil {
			t.Fatalf("base module %s missing (%v); install it: %s", m, err, aptLine)
		}
		for _, link := range []string{filepath.Join(smiDir, m), filepath.Join(netsnmpDir, m+".mib")} {
			if err := os.Symlink(src, link); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range Files() {
		module := strings.TrimSuffix(f.Name, ".txt")
		for _, p := range []string{filepath.Join(smiDir, module), filepath.Join(netsnmpDir, f.Name)} {
			if err := os.WriteFile(p, f.Content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return smiDir, netsnmpDir
}

// TestSmilint lints both modules at the strictest level. The one warning
// ignored, index-element-accessible, is about the classic tables' index
// columns, which the classic module served as read-only values and which
// we keep serving for compatibility.
func TestSmilint(t *testing.T) {
	smilint := needTool(t, "smilint")
	smiDir, _ := mibDirs(t)
	for _, f := range Files() {
		cmd := exec.Command(smilint, "-l", "6", "-s", "-m", "-i", "index-element-accessible",
			filepath.Join(smiDir, strings.TrimSuffix(f.Name, ".txt")))
		cmd.Env = append(os.Environ(), "SMIPATH="+smiDir)
		out, err := cmd.CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("smilint %s: %v\n%s", f.Name, err, out)
		}
	}
}

// mibObject is an OBJECT-TYPE as declared in LVS-MIB.txt.
type mibObject struct {
	name, syntax, access, parent string
	arc                          uint32
}

var (
	objectTypeRE   = regexp.MustCompile(`(?m)^(\w+) OBJECT-TYPE\n\s+SYNTAX\s+(.+)\n(?:\s+UNITS .*\n)?\s+MAX-ACCESS\s+(\S+)\n(?s:.*?)::= \{ (\w+) (\d+) \}`)
	tcRE           = regexp.MustCompile(`(?m)^(\w+) ::= TEXTUAL-CONVENTION\n(?s:.*?)\n\s+SYNTAX\s+(\S+)`)
	nodeRE         = regexp.MustCompile(`(?m)^(\w+) +(?:OBJECT IDENTIFIER +|MODULE-IDENTITY(?s:.*?)|OBJECT-TYPE(?s:.*?)|OBJECT-GROUP(?s:.*?)|MODULE-COMPLIANCE(?s:.*?)|NOTIFICATION-TYPE(?s:.*?)|NOTIFICATION-GROUP(?s:.*?))::= \{ (\w+) (\d+) \}`)
	notificationRE = regexp.MustCompile(`(?m)^(\w+) NOTIFICATION-TYPE\n\s+OBJECTS\s+\{([^}]*)\}(?s:.*?)::= \{ lvsNotifications (\d+) \}`)
)

func parseMIB(t *testing.T) (objs []mibObject, tcs map[string]string, oids map[string]agentx.OID) {
	t.Helper()
	text := string(lvsMIB)
	for _, m := range objectTypeRE.FindAllStringSubmatch(text, -1) {
		arc, _ := strconv.ParseUint(m[5], 10, 32)
		objs = append(objs, mibObject{name: m[1], syntax: m[2], access: m[3], parent: m[4], arc: uint32(arc)})
	}
	tcs = map[string]string{}
	for _, m := range tcRE.FindAllStringSubmatch(text, -1) {
		tcs[m[1]] = m[2]
	}
	// Resolve OIDs from the module identity down.
	parents := map[string][2]string{}
	for _, m := range nodeRE.FindAllStringSubmatch(text, -1) {
		parents[m[1]] = [2]string{m[2], m[3]}
	}
	oids = map[string]agentx.OID{"opencon": {1, 3, 6, 1, 4, 1, 8225}}
	var resolve func(string) agentx.OID
	resolve = func(name string) agentx.OID {
		if o, ok := oids[name]; ok {
			return o
		}
		p, ok := parents[name]
		if !ok {
			t.Fatalf("cannot resolve %s", name)
		}
		arc, _ := strconv.ParseUint(p[1], 10, 32)
		o := child(resolve(p[0]), uint32(arc))
		oids[name] = o
		return o
	}
	for name := range parents {
		resolve(name)
	}
	return objs, tcs, oids
}

// wireType maps a declared SYNTAX to the type it is sent as.
func wireType(syntax string, tcs map[string]string) agentx.Type {
	word := strings.Fields(strings.NewReplacer("(", " ", "{", " ").Replace(syntax))[0]
	if base, ok := tcs[word]; ok {
		word = base
	}
	switch word {
	case "Integer32", "INTEGER", "TruthValue", "InetAddressType":
		return agentx.Integer
	case "OCTET", "DisplayString", "InetAddress", "BITS":
		return agentx.OctetString
	case "IpAddress":
		return agentx.IPAddress
	case "Counter32":
		return agentx.Counter32
	case "Counter64":
		return agentx.Counter64
	case "Gauge32", "Unsigned32", "InetAddressPrefixLength", "InetPortNumber":
		return agentx.Gauge32
	case "TimeTicks", "TimeStamp":
		return agentx.TimeTicks
	}
	return agentx.Null
}

// TestMIBMatchesView checks that every object type of the table is
// declared in LVS-MIB.txt at the same OID, read-only with a SYNTAX sent as
// the type the view sends if it is served (read-write if it is Writable),
// accessible-for-notify and not served if not; and that every read-only or
// read-write object declared is served.
func TestMIBMatchesView(t *testing.T) {
	declared, tcs, oids := parseMIB(t)
	byName := map[string]mibObject{}
	for _, d := range declared {
		byName[d.name] = d
	}
	v := fixtureView(t)
	served, types := map[string]bool{}, 0
	for _, o := range Objects() {
		if o.Class == ClassNotification { // declared: TestMIBNotifications
			if vb, ok := v.Next(nil, o.OID, true, child(o.OID, 1<<31)); ok || v.Get(child(o.OID, 0)).Type != agentx.NoSuchObject {
				t.Errorf("%s served: %v", o.Name, vb.Name)
			}
			continue
		}
		types++
		d, ok := byName[o.Name]
		if !ok {
			t.Errorf("%s in the table but not declared", o.Name)
			continue
		}
		if oids[o.Name].Compare(o.OID) != 0 {
			t.Errorf("%s in the table at %v, declared at %v", o.Name, o.OID, oids[o.Name])
		}
		if !o.Served() {
			if d.access != "accessible-for-notify" {
				t.Errorf("%s not served but declared %s", o.Name, d.access)
			}
			if vb := v.Get(child(o.OID, 0)); vb.Type != agentx.NoSuchObject {
				t.Errorf("%s: Get = %+v, want noSuchObject", o.Name, vb)
			}
			if vb, ok := v.Next(nil, o.OID, true, nil); ok && vb.Name.HasPrefix(o.OID) {
				t.Errorf("%s: Next finds %v", o.Name, vb.Name)
			}
			continue
		}
		served[o.Name] = true
		if want := map[bool]string{false: "read-only", true: "read-write"}[o.Writable]; d.access != want {
			t.Errorf("%s served (writable %v) but declared %s", o.Name, o.Writable, d.access)
		}
		vb, ok := v.Next(nil, o.OID, false, nil)
		if !ok || !vb.Name.HasPrefix(o.OID) {
			t.Errorf("%s: fixture has no instance", o.Name)
			continue
		}
		if want := wireType(d.syntax, tcs); vb.Type != want {
			t.Errorf("%s: served as %v, SYNTAX %q is sent as %v", o.Name, vb.Type, d.syntax, want)
		}
	}
	// The table's object types plus 5 tables, 5 entries and the
	// not-accessible indexes lvsSyncDaemonRole, lvsConnStateIndex and
	// lvsSettingIndex.
	if want := types + 13; len(declared) != want {
		t.Errorf("parsed %d OBJECT-TYPEs, want %d", len(declared), want)
	}
	for _, d := range declared {
		if (d.access == "read-only" || d.access == "read-write") && !served[d.name] {
			t.Errorf("%s declared %s but not served", d.name, d.access)
		}
	}
}

// TestSnmptranslate resolves every object declared in the file, by name,
// with net-snmp, and checks the OIDs against the view's.
func TestSnmptranslate(t *testing.T) {
	declared, _, _ := parseMIB(t)
	want := map[string]agentx.OID{}
	for _, o := range objects {
		want[o.Name] = o.OID
	}
	names := make([]string, len(declared))
	for i, d := range declared {
		names[i] = d.name
	}
	lines := translate(t, names)
	for i, d := range declared {
		got, err := agentx.ParseOID(lines[i])
		if err != nil {
			t.Errorf("%s: %q", d.name, lines[i])
			continue
		}
		if w, ok := want[d.name]; ok && got.Compare(w) != 0 {
			t.Errorf("%s: net-snmp says %v, the view serves %v", d.name, got, w)
		}
		if !got.HasPrefix(Root) {
			t.Errorf("%s resolved outside lvs: %v", d.name, got)
		}
	}
}

// TestMIBNotifications checks that every notification the agent sends is a
// NOTIFICATION-TYPE of LVS-MIB.txt at the same OID, below lvsNotifications
// (lvs.0), with the same OBJECTS in the same order, each readable or
// accessible-for-notify, and that every one declared is sent; and that
// net-snmp resolves them all by name.
func TestMIBNotifications(t *testing.T) {
	declared, _, oids := parseMIB(t)
	access := map[string]string{}
	for _, d := range declared {
		access[d.name] = d.access
	}
	sent := map[string]notificationType{}
	for _, nt := range sortedNotificationTypes() {
		sent[nt.name] = nt
	}
	seen := map[string]bool{}
	for _, m := range notificationRE.FindAllStringSubmatch(string(lvsMIB), -1) {
		name := m[1]
		var objs []string
		for o := range strings.SplitSeq(m[2], ",") {
			objs = append(objs, strings.TrimSpace(o))
		}
		seen[name] = true
		nt, ok := sent[name]
		if !ok {
			t.Errorf("%s declared but never sent", name)
			continue
		}
		if want := child(notificationsOID, nt.arc); oids[name].Compare(want) != 0 {
			t.Errorf("%s declared at %v, sent as %v", name, oids[name], want)
		}
		if !slices.Equal(objs, nt.objects) {
			t.Errorf("%s declares OBJECTS %v, sends %v", name, objs, nt.objects)
		}
		for _, o := range objs {
			if a := access[o]; a != "read-only" && a != "read-write" && a != "accessible-for-notify" {
				t.Errorf("%s carries %s, which is %q", name, o, a)
			}
		}
	}
	for name := range sent {
		if !seen[name] {
			t.Errorf("%s sent but not declared", name)
		}
	}
	if !notificationsOID.HasPrefix(Root) || len(notificationsOID) != len(Root)+1 || notificationsOID[len(Root)] != 0 {
		t.Errorf("lvsNotifications is %v, want lvs.0", notificationsOID)
	}
	var inTable []string
	for _, o := range Objects() {
		if o.Class == ClassNotification {
			inTable = append(inTable, o.Name)
			if nt, ok := sent[o.Name]; !ok || o.OID.Compare(child(notificationsOID, nt.arc)) != 0 {
				t.Errorf("%s in the table at %v, not sent there", o.Name, o.OID)
			}
		}
	}
	if len(inTable) != len(sent) {
		t.Errorf("the table has notifications %v, the agent sends %d", inTable, len(sent))
	}

	all := sortedNotificationTypes()
	names := make([]string, len(all))
	for i, nt := range all {
		names[i] = nt.name
	}
	lines := translate(t, names)
	for i, nt := range all {
		if want := child(notificationsOID, nt.arc).String(); lines[i] != want {
			t.Errorf("%s: net-snmp says %s, the agent sends %s", nt.name, lines[i], want)
		}
	}
}

// TestObjectKinds: each kind of object has the syntax it implies, each
// table but the daemons' has one column naming its rows, the agent's own
// objects are scalars, and the notifications, and only they, are in
// lvsNotifications.
func TestObjectKinds(t *testing.T) {
	declared, tcs, _ := parseMIB(t)
	syntax := map[string]agentx.Type{}
	for _, d := range declared {
		syntax[d.name] = wireType(d.syntax, tcs)
	}
	names := map[Table]int{}
	var agents []string
	for _, o := range Objects() {
		typ := syntax[o.Name]
		if (o.Class == ClassNotification) != (o.Table == Notifications) {
			t.Errorf("%s: class %d in table %d", o.Name, o.Class, o.Table)
		}
		switch o.Class {
		case ClassAgent:
			agents = append(agents, o.Name)
			if o.Table != Scalars {
				t.Errorf("%s: the agent's own in table %d", o.Name, o.Table)
			}
		case ClassCounter:
			if typ != agentx.Counter32 && typ != agentx.Counter64 {
				t.Errorf("%s: a counter sent as %v", o.Name, typ)
			}
		case ClassIndex:
			if typ != agentx.Integer || o.Table == Scalars {
				t.Errorf("%s: an index sent as %v in table %d", o.Name, typ, o.Table)
			}
		case ClassName:
			names[o.Table]++
			if typ != agentx.OctetString {
				t.Errorf("%s: a name sent as %v", o.Name, typ)
			}
		}
	}
	if names[ServiceTable] != 1 || names[RealTable] != 1 || len(names) != 2 {
		t.Errorf("name columns per table: %v", names)
	}
	if want := []string{"lvsDataAge", "lvsChanges", "lvsLastChange", "lvsNotificationsLeftOut", "lvsConnDataAge"}; !slices.Equal(agents, want) {
		t.Errorf("the agent's own objects: %v, want %v", agents, want)
	}
}

// translate resolves LVS-MIB names to numeric OIDs with net-snmp's
// snmptranslate, one per name, in order.
func translate(t *testing.T, names []string) []string {
	t.Helper()
	snmptranslate := needTool(t, "snmptranslate")
	_, dir := mibDirs(t)
	cmd := exec.Command(snmptranslate, append([]string{"-M", "+" + dir, "-m", "LVS-MIB", "-IR", "-On"}, names...)...)
	cmd.Env = append(os.Environ(), "MIBS=", "MIBDIRS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("snmptranslate: %v\n%s", err, stderr.String())
	}
	lines := strings.Fields(string(out))
	if len(lines) != len(names) {
		t.Fatalf("snmptranslate printed %d OIDs for %d names:\n%s", len(lines), len(names), out)
	}
	return lines
}
