package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCommittedTemplateIsCurrent checks that the shipped template (Zabbix's
// export of this command's output) polls the OIDs the command derives from
// mib.Objects() today, item by item: a column renumbered in the MIB
// package, or an item added here, fails until
// test/graphs/zabbix-build-template.sh is run again.
func TestCommittedTemplateIsCurrent(t *testing.T) {
	src, err := Source()
	if err != nil {
		t.Fatal(err)
	}
	var export struct {
		ZabbixExport struct {
			Templates []struct {
				Items          []map[string]any `json:"items"`
				DiscoveryRules []map[string]any `json:"discovery_rules"`
			} `json:"templates"`
		} `json:"zabbix_export"`
	}
	if err := json.Unmarshal(src, &export); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // key -> snmp_oid
	for _, tpl := range export.ZabbixExport.Templates {
		for _, it := range tpl.Items {
			want[it["key"].(string)] = it["snmp_oid"].(string)
		}
		for _, r := range tpl.DiscoveryRules {
			want[r["key"].(string)] = r["snmp_oid"].(string)
			for _, p := range r["item_prototypes"].([]any) {
				m := p.(map[string]any)
				want[m["key"].(string)] = m["snmp_oid"].(string)
			}
		}
	}

	// Zabbix writes snmp_oid before key in each item, prototype and rule;
	// graph items have a key and no snmp_oid.
	b, err := os.ReadFile("../../../contrib/zabbix/template_lvs_agentx.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	oid := ""
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		v = strings.ReplaceAll(strings.Trim(v, "'"), "''", "'")
		switch k {
		case "snmp_oid":
			oid = v
		case "key":
			if oid != "" {
				got[v] = oid
			}
			oid = ""
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("contrib/zabbix/template_lvs_agentx.yaml is not what the generator makes from mib.Objects() (-generator +committed); run test/graphs/zabbix-build-template.sh:\n%s", diff)
	}
}
