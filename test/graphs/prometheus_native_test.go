package graphs

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// scrapeGolden is the metrics package's golden scrape of its fixture:
// every family of the agent's own endpoint with its exact labels.
const scrapeGolden = "../../metrics/testdata/scrape.prom"

// TestPrometheusNativeRules runs promtool over the rules for the agent's
// own endpoint and their unit tests (see checkRules), and checks that they
// carry every alert of the snmp_exporter rules under the same name, and
// that loading both files cannot make two groups write the same series:
// their recording rules and their groups have names of their own.
func TestPrometheusNativeRules(t *testing.T) {
	native, _ := checkRules(t, "lvs-native-rules.yml", "lvs-native-rules.test.yml")
	var snmp ruleFile
	readYAML(t, "lvs-rules.yml", &snmp)
	for _, a := range snmp.alerts() {
		if !slices.Contains(native.alerts(), a) {
			t.Errorf("lvs-rules.yml has alert %s, lvs-native-rules.yml has not", a)
		}
	}
	names := func(f ruleFile) map[string]bool {
		m := map[string]bool{}
		for _, g := range f.Groups {
			m["group "+g.Name] = true
			for _, r := range g.Rules {
				if r.Record != "" {
					m["recording rule "+r.Record] = true
				}
			}
		}
		return m
	}
	for n := range names(native) {
		if names(snmp)[n] {
			t.Errorf("lvs-rules.yml and lvs-native-rules.yml both have the %s", n)
		}
	}
}

// golden is what the tests need of the golden scrape.
type golden struct {
	families  map[string]map[string]bool // family: its series' label name sets, sorted and comma-joined
	values    map[string]map[string]bool // "family label": the label's values
	labelName map[string]bool            // every label name of every family
}

func readGolden(t *testing.T) golden {
	t.Helper()
	f, err := os.Open(scrapeGolden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s: %v", scrapeGolden, err)
	}
	g := golden{families: map[string]map[string]bool{}, values: map[string]map[string]bool{}, labelName: map[string]bool{}}
	for name, mf := range mfs {
		g.families[name] = map[string]bool{}
		for _, m := range mf.GetMetric() {
			var names []string
			for _, lp := range m.GetLabel() {
				names = append(names, lp.GetName())
				g.labelName[lp.GetName()] = true
				key := name + " " + lp.GetName()
				if g.values[key] == nil {
					g.values[key] = map[string]bool{}
				}
				g.values[key][lp.GetValue()] = true
			}
			sort.Strings(names)
			g.families[name][strings.Join(names, ",")] = true
		}
	}
	if len(g.families["lvs_up"]) == 0 || !g.labelName["real_server"] {
		t.Fatalf("%s: no lvs_up or no real server series", scrapeGolden)
	}
	return g
}

var (
	nativeMetric = regexp.MustCompile(`\blvs_[a-z0-9_]+`)
	// Label names in PromQL: grouping and matching clauses, selectors'
	// matchers; in templates, $labels.
	promqlGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	promqlSelector = regexp.MustCompile(`\{([^{}]*)\}`)
	promqlMatcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	templateLabel  = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)
)

// enumLabels are the labels whose values are a fixed vocabulary the agent
// chooses (not names of the director's rows): a series in the unit tests
// must use one of the golden scrape's values.
var enumLabels = []string{"protocol", "state", "defense", "setting"}

// TestPrometheusNativeNames checks lvs-native-rules.yml and its unit tests
// against the golden scrape of the agent's endpoint: every lvs_ name in
// them is a family of it, every label name of the rules is one of its
// labels (or instance or job, which Prometheus adds), and every series of
// the unit tests has the label names one of that family's series has,
// with values of the golden scrape where they are a fixed vocabulary; so
// that a renamed family or label breaks this test, not the alerts.
func TestPrometheusNativeNames(t *testing.T) {
	g := readGolden(t)
	known := func(l string) bool { return g.labelName[l] || l == "instance" || l == "job" }
	for _, file := range []string{"lvs-native-rules.yml", "lvs-native-rules.test.yml"} {
		b, err := os.ReadFile(filepath.Join(promDir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nativeMetric.FindAllString(string(b), -1) {
			if g.families[n] == nil {
				t.Errorf("%s: %s is no family of %s", file, n, scrapeGolden)
			}
		}
	}

	var rules ruleFile
	readYAML(t, "lvs-native-rules.yml", &rules)
	for _, gr := range rules.Groups {
		for _, r := range gr.Rules {
			var used []string
			for _, m := range promqlGrouping.FindAllStringSubmatch(r.Expr, -1) {
				for _, l := range strings.Split(m[1], ",") {
					used = append(used, strings.TrimSpace(l))
				}
			}
			for _, m := range promqlSelector.FindAllStringSubmatch(r.Expr, -1) {
				for _, mm := range promqlMatcher.FindAllStringSubmatch(m[1], -1) {
					used = append(used, mm[1])
				}
			}
			for _, a := range r.Annotations {
				for _, m := range templateLabel.FindAllStringSubmatch(a, -1) {
					used = append(used, m[1])
				}
			}
			for _, l := range used {
				if l != "" && !known(l) {
					t.Errorf("lvs-native-rules.yml: %s%s uses label %s, which %s has not", r.Alert, r.Record, l, scrapeGolden)
				}
			}
		}
	}

	var tests ruleTests
	readYAML(t, "lvs-native-rules.test.yml", &tests)
	for _, tc := range tests.Tests {
		for _, in := range tc.InputSeries {
			checkTestSeries(t, g, in.Series)
		}
		for _, a := range tc.AlertRuleTest {
			for _, e := range a.ExpAlerts {
				for l := range e.ExpLabels {
					if !known(l) && l != "severity" {
						t.Errorf("lvs-native-rules.test.yml: %s expects label %s, which %s has not", a.Alertname, l, scrapeGolden)
					}
				}
			}
		}
	}
}

// checkTestSeries checks one input series of the native unit tests
// against the golden scrape: an lvs_ family with the label names of one of
// its series, plus instance and job; or Prometheus' own up.
func checkTestSeries(t *testing.T, g golden, series string) {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(series + " 1\n"))
	if err != nil || len(mfs) != 1 {
		t.Errorf("series %s: %v", series, err)
		return
	}
	for name, mf := range mfs {
		labels := map[string]string{}
		var names []string
		for _, lp := range mf.GetMetric()[0].GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
			if lp.GetName() != "instance" && lp.GetName() != "job" {
				names = append(names, lp.GetName())
			}
		}
		if labels["instance"] == "" || labels["job"] == "" {
			t.Errorf("series %s: no instance or job, which every scraped series has", series)
		}
		sort.Strings(names)
		switch {
		case name == "up":
			if len(names) != 0 {
				t.Errorf("series %s: up has no labels but instance and job", series)
			}
		case !g.families[name][strings.Join(names, ",")]:
			t.Errorf("series %s: no %s series of %s has exactly the labels %v", series, name, scrapeGolden, names)
		}
		for _, l := range enumLabels {
			if v, ok := labels[l]; ok && !g.values[name+" "+l][v] {
				t.Errorf("series %s: %s=%q; %s has no such %s", series, l, v, scrapeGolden, l)
			}
		}
	}
}

// TestPrometheusNativeScrapeConfig checks lvs-agentx.scrape.yml with
// promtool, the rule file it loads included, and its commented TLS and
// basic auth job once uncommented (the syntax only: its certificate and
// password files are the reader's).
func TestPrometheusNativeScrapeConfig(t *testing.T) {
	const file = "lvs-agentx.scrape.yml"
	promtool(t, "check", "config", file)

	b, err := os.ReadFile(filepath.Join(promDir, file))
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := strings.Cut(string(b), "\nscrape_configs:\n")
	if !ok {
		t.Fatalf("%s has no scrape_configs", file)
	}
	// The commented job's lines are "  #- ..." and "  #  ...".
	variant := head + "\nscrape_configs:\n"
	commented := regexp.MustCompile(`^  #(- |  )`)
	for _, l := range strings.Split(string(b), "\n") {
		if commented.MatchString(l) {
			variant += "  " + l[3:] + "\n"
		}
	}
	var cfg struct {
		ScrapeConfigs []struct {
			Scheme    string `yaml:"scheme"`
			BasicAuth struct {
				Username string `yaml:"username"`
			} `yaml:"basic_auth"`
			TLSConfig struct {
				CAFile string `yaml:"ca_file"`
			} `yaml:"tls_config"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(variant), &cfg); err != nil {
		t.Fatalf("the commented job, uncommented: %v\n%s", err, variant)
	}
	if len(cfg.ScrapeConfigs) != 1 || cfg.ScrapeConfigs[0].Scheme != "https" ||
		cfg.ScrapeConfigs[0].BasicAuth.Username == "" || cfg.ScrapeConfigs[0].TLSConfig.CAFile == "" {
		t.Fatalf("the commented job, uncommented, is no https job with basic_auth and a CA:\n%s", variant)
	}
	tmp := filepath.Join(t.TempDir(), "tls.yml")
	if err := os.WriteFile(tmp, []byte(variant), 0o644); err != nil {
		t.Fatal(err)
	}
	promtool(t, "check", "config", "--syntax-only", tmp)
}
