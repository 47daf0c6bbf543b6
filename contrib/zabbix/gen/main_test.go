package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestCommittedTemplateIsCurrent checks that the shipped template
// (Zabbix's export of this command's output) holds everything the command
// makes from mib.Objects() today, value for value: a column renumbered in
// the MIB package, or an item, trigger or graph changed here, fails until
// `make zabbix` is run again. The export adds what Zabbix fills in (the
// date, defaults) and leaves out what it takes as a default; contains
// lists those few differences.
func TestCommittedTemplateIsCurrent(t *testing.T) {
	src, err := Source()
	if err != nil {
		t.Fatal(err)
	}
	var fresh, committed any
	if err := json.Unmarshal(src, &fresh); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../template_lvs_agentx.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &committed); err != nil {
		t.Fatal(err)
	}
	diffs := contains("", fresh, committed)
	for _, d := range diffs {
		t.Error(d)
	}
	if len(diffs) > 0 {
		t.Log("contrib/zabbix/template_lvs_agentx.yaml is not what the generator makes from mib.Objects(); run make zabbix")
	}
}

// TestContains checks that the comparison finds a changed, missing or
// extra value, and lets through what Zabbix changes on export.
func TestContains(t *testing.T) {
	src := map[string]any{"a": []any{
		map[string]any{"uuid": "1", "oid": ".1.2", "sortorder": "0", "text": "x\ny"},
		map[string]any{"uuid": "2", "oid": ".1.3"},
	}}
	exp := func(oid1 string, extra ...any) any {
		l := []any{map[string]any{"uuid": "2", "oid": ".1.3"}, map[string]any{"uuid": "1", "oid": oid1, "text": "x\ny\n", "date": "now"}}
		return map[string]any{"a": append(l, extra...)}
	}
	if d := contains("", src, exp(".1.2")); d != nil {
		t.Errorf("equal but for Zabbix's own changes: %v", d)
	}
	if d := contains("", src, exp(".1.4")); len(d) != 1 {
		t.Errorf("changed OID: %v", d)
	}
	if d := contains("", src, exp(".1.2", map[string]any{"uuid": "3"})); len(d) != 1 {
		t.Errorf("extra item: %v", d)
	}
	if d := contains("", map[string]any{"b": "1"}, exp(".1.2")); len(d) != 1 {
		t.Errorf("missing key: %v", d)
	}
}

// contains reports where export (YAML from Zabbix's configuration.export)
// lacks a value of source (the generator's JSON), path naming the place.
// Lists must be as long in both; their elements are matched by UUID where
// they have one, otherwise to the export's element that differs least
// (Zabbix sorts items by key, tags by name). Zabbix's own changes pass:
// it leaves out a graph item's sortorder 0 (the default), keeps its own
// UUID for its stock host group, and its YAML ends a multi-line string
// with a newline.
func contains(path string, source, export any) []string {
	switch s := source.(type) {
	case map[string]any:
		e, ok := export.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: a map in the generator's output, %T in the export", path, export)}
		}
		var out []string
		for k, v := range s {
			ev, ok := e[k]
			switch {
			case !ok && k == "sortorder" && v == "0":
			case !ok:
				out = append(out, fmt.Sprintf("%s.%s: %v in the generator's output, missing in the export", path, k, v))
			case k == "uuid" && strings.HasPrefix(path, ".zabbix_export.groups["):
			default:
				out = append(out, contains(path+"."+k, v, ev)...)
			}
		}
		return out
	case []any:
		e, ok := export.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: a list in the generator's output, %T in the export", path, export)}
		}
		var out []string
		if len(s) != len(e) {
			out = append(out, fmt.Sprintf("%s: %d elements in the generator's output, %d in the export", path, len(s), len(e)))
		}
		for i, x := range s {
			p := fmt.Sprintf("%s[%d]", path, i)
			if m, ok := x.(map[string]any); ok && m["uuid"] != nil && !strings.HasPrefix(p, ".zabbix_export.groups[") {
				found := false
				for _, y := range e {
					if ym, ok := y.(map[string]any); ok && ym["uuid"] == m["uuid"] {
						out = append(out, contains(p, x, y)...)
						found = true
						break
					}
				}
				if !found {
					out = append(out, fmt.Sprintf("%s: uuid %v (%v) missing in the export", p, m["uuid"], m["name"]))
				}
				continue
			}
			var best []string
			for j, y := range e {
				if d := contains(p, x, y); j == 0 || len(d) < len(best) {
					best = d
				}
			}
			if len(e) == 0 {
				best = []string{p + ": missing in the export"}
			}
			out = append(out, best...)
		}
		return out
	default:
		sv, ev := fmt.Sprint(source), fmt.Sprint(export)
		if strings.Contains(sv, "\n") {
			ev = strings.TrimSuffix(ev, "\n")
		}
		if sv != ev {
			return []string{fmt.Sprintf("%s: %q in the generator's output, %q in the export", path, sv, ev)}
		}
		return nil
	}
}
