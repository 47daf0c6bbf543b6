package metrics

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// fakeSource serves a fixed view and counts the views asked for, from
// concurrent scrapes as the server's tests make.
type fakeSource struct {
	view    *mib.View
	stats   ipvslive.ReadStats
	asked   atomic.Int64
	refresh func() // called as the refresh CurrentDeferred returns, if set
}

func (f *fakeSource) CurrentDeferred() (*mib.View, func()) {
	f.asked.Add(1)
	if f.refresh != nil {
		return f.view, f.refresh
	}
	return f.view, func() {}
}
func (f *fakeSource) ReadStats() ipvslive.ReadStats { return f.stats }

func fixtureView() *mib.View {
	v := mib.Build(fixture.Snapshot(), fixture.NewNumbers(), fixture.Clock)
	v.SetHealth(mib.Health{Totals: fixture.Totals(), Settings: fixture.Settings(), Conns: fixture.Conns(),
		ConnsReadAt: fixture.ConnsReadAt})
	return v
}

// newTestExporter serves the fixture in the default context and in
// context lb, and an unreadable IPVS in context gone.
func newTestExporter(mode RealServers) (*Exporter, *fakeSource) {
	e := New(Config{RealServers: mode})
	def := &fakeSource{view: fixtureView(), stats: ipvslive.ReadStats{Reads: 7, Failures: 1, LastDuration: 1500 * time.Microsecond}}
	e.Add("", def)
	e.Add("lb", &fakeSource{view: fixtureView()})
	e.Add("gone", &fakeSource{view: mib.Unavailable(fixture.ReadAt, fixture.Clock)})
	return e, def
}

func scrape(t *testing.T, h http.Handler, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	return res, body
}

func parseText(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse the text format: %v\n%s", err, body)
	}
	return mfs
}

// find returns the value of the series of family name whose labels are
// exactly want.
func find(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	t.Helper()
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if len(got) != len(want) {
			continue
		}
		same := true
		for k, v := range want {
			same = same && got[k] == v
		}
		if !same {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}

func TestScrapeValues(t *testing.T) {
	e, _ := newTestExporter(RealServersFull)
	res, body := scrape(t, e, nil)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	mfs := parseText(t, body)
	const big = uint64(1)<<32 + 7
	svc := map[string]string{"service": "TCP 10.99.0.1:80", "protocol": "tcp", "address": "10.99.0.1", "port": "80"}
	rs := map[string]string{"real_server": "127.0.0.1:8080", "real_address": "127.0.0.1", "real_port": "8080"}
	with := func(base map[string]string, more ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(more); i += 2 {
			m[more[i]] = more[i+1]
		}
		return m
	}
	real := with(svc, "real_server", rs["real_server"], "real_address", rs["real_address"], "real_port", rs["real_port"])
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"lvs_up", nil, 1},
		{"lvs_up", map[string]string{"context": "gone"}, 0},
		{"lvs_reads_total", nil, 7},
		{"lvs_read_failures_total", nil, 1},
		{"lvs_read_duration_seconds", nil, 0.0015},
		{"lvs_data_age_seconds", nil, 1.23},
		{"lvs_info", map[string]string{"version": "1.2.1"}, 1},
		{"lvs_services", map[string]string{"context": "lb"}, 6},
		{"lvs_tcp_timeout_seconds", nil, 900},
		{"lvs_service_connections_total", svc, float64(big)},
		{"lvs_service_connections_total", with(svc, "context", "lb"), float64(big)},
		{"lvs_service_in_bytes_total", svc, float64(big * 100)},
		{"lvs_service_connections_per_second", svc, 11},
		{"lvs_service_in_bytes_per_second", svc, float64(big)},
		{"lvs_service_active_connections", svc, 13},
		{"lvs_service_real_servers", svc, 3},
		{"lvs_service_available_real_servers", svc, 2},
		{"lvs_service_persistence_timeout_seconds", svc, 300},
		{"lvs_service_info", with(svc, "scheduler", "rr"), 1},
		{"lvs_service_connections_total", map[string]string{"service": "FWM 5 IPv6", "fwmark": "5"}, 0},
		{"lvs_real_server_weight", real, 1},
		{"lvs_real_server_active_connections", real, 3},
		{"lvs_real_server_inactive_connections", real, 4},
		{"lvs_real_server_persistent_connections", real, 5},
		{"lvs_real_server_upper_threshold_connections", real, 100},
		{"lvs_real_server_info", with(real, "forwarding", "masq"), 1},
		{"lvs_defense_state", map[string]string{"defense": "secure_tcp"}, 0},
		{"lvs_rates_estimated", nil, 1},
	}
	for _, tc := range tests {
		got, ok := find(t, mfs, tc.name, tc.labels)
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	// The unreadable context has the agent's own series and no others.
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "context" && lp.GetValue() == "gone" &&
					!map[string]bool{"lvs_up": true, "lvs_data_age_seconds": true, "lvs_changes_total": true,
						"lvs_reads_total": true, "lvs_read_failures_total": true, "lvs_read_duration_seconds": true}[name] {
					t.Errorf("%s has a series of the unreadable context", name)
				}
			}
		}
	}
	// Every family has help, and the interfaces keep their names.
	for _, name := range []string{"lvs_service_connections_total", "lvs_service_in_bytes_total",
		"lvs_real_server_weight", "lvs_real_server_active_connections"} {
		if mf := mfs[name]; mf == nil || len(mf.GetHelp()) < 20 {
			t.Errorf("%s: missing or without help", name)
		}
	}
}

func TestScrapeBigCounterExact(t *testing.T) {
	e, _ := newTestExporter(RealServersFull)
	_, body := scrape(t, e, nil)
	// float64 cannot hold 100*(2^32+7) exactly printed with %g; the
	// exposition writes the integer.
	if want := `lvs_service_in_bytes_total{service="TCP 10.99.0.1:80",protocol="tcp",address="10.99.0.1",port="80"} 429496730300`; !bytes.Contains(body, []byte(want+"\n")) {
		t.Errorf("no line %q in\n%s", want, body)
	}
}

func TestScrapeRealServerModes(t *testing.T) {
	for _, tc := range []struct {
		mode   RealServers
		labels []string // of every lvs_real_server_weight series
	}{
		{RealServersFull, []string{"address", "port", "protocol", "real_address", "real_port", "real_server", "service"}},
		{RealServersNames, []string{"real_server", "service"}},
		{RealServersNone, nil},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			e, _ := newTestExporter(tc.mode)
			_, body := scrape(t, e, nil)
			mfs := parseText(t, body)
			mf := mfs["lvs_real_server_weight"]
			if tc.labels == nil {
				for name := range mfs {
					if strings.HasPrefix(name, "lvs_real_server_") {
						t.Errorf("mode none serves %s", name)
					}
				}
				return
			}
			if mf == nil {
				t.Fatal("no lvs_real_server_weight")
			}
			for _, m := range mf.GetMetric() {
				var names []string
				fwm := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "context" {
						continue
					}
					fwm = fwm || lp.GetName() == "fwmark"
					names = append(names, lp.GetName())
				}
				sort.Strings(names)
				if !fwm && strings.Join(names, ",") != strings.Join(tc.labels, ",") {
					t.Errorf("labels %v, want %v", names, tc.labels)
				}
			}
		})
	}
}

func TestScrapeOpenMetrics(t *testing.T) {
	e, _ := newTestExporter(RealServersFull)
	res, body := scrape(t, e, map[string]string{"Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"})
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Errorf("Content-Type %q", ct)
	}
	s := string(body)
	for _, want := range []string{"# TYPE lvs_service_connections counter\n", "\nlvs_service_connections_total{",
		"# TYPE lvs_real_server_weight gauge\n", "# TYPE lvs_service info\n", "\nlvs_service_info{"} {
		if !strings.Contains(s, want) {
			t.Errorf("OpenMetrics body lacks %q", want)
		}
	}
	if !strings.HasSuffix(s, "# EOF\n") || strings.Count(s, "# EOF") != 1 {
		t.Errorf("OpenMetrics body does not end with one # EOF")
	}
}

func TestScrapeGzipAndCache(t *testing.T) {
	e, def := newTestExporter(RealServersFull)
	_, plain := scrape(t, e, nil)
	res, zipped := scrape(t, e, map[string]string{"Accept-Encoding": "gzip"})
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, unzipped) {
		t.Errorf("the gzipped body differs from the plain one")
	}
	// Within ten times the render's cost the body is served as it is,
	// without asking for views; past it, an unchanged view keeps the
	// body, a new one renders anew.
	c := &e.cache[0]
	c.cost = time.Hour
	first, asked := c.body, def.asked.Load()
	def.view = fixtureView()
	_, again := scrape(t, e, nil)
	if &c.body[0] != &first[0] || !bytes.Equal(again, plain) || def.asked.Load() != asked {
		t.Errorf("a body within its render budget was rendered again (views asked for: %d)", def.asked.Load()-asked)
	}
	c.cost = 0
	def.view = e.cache[0].views[0] // the same view as rendered
	_, _ = scrape(t, e, nil)
	if &c.body[0] != &first[0] || def.asked.Load() != asked+1 {
		t.Errorf("an unchanged view was rendered again")
	}
	def.view = fixtureView()
	_, _ = scrape(t, e, nil)
	if &c.body[0] == &first[0] || def.asked.Load() != asked+2 {
		t.Errorf("a new view was not rendered")
	}
}

func TestScrapeMethods(t *testing.T) {
	e, _ := newTestExporter(RealServersFull)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, "BREW"} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(m, "/metrics", strings.NewReader("x")))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: status %d, Allow %q", m, rec.Code, rec.Header().Get("Allow"))
		}
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/metrics", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "0" {
		t.Errorf("HEAD: status %d, %d bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

// TestPromtoolLint runs promtool's checks of names, types and help over a
// scrape (it fails on what breaks the conventions).
func TestPromtoolLint(t *testing.T) {
	promtool := testutil.NeedTool(t, "promtool", "apt-get install -y prometheus")
	e, _ := newTestExporter(RealServersFull)
	_, body := scrape(t, e, nil)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestParseRealServers(t *testing.T) {
	for _, s := range []string{"full", "names", "none"} {
		r, err := ParseRealServers(s)
		if err != nil || r.String() != s {
			t.Errorf("%s: %v %v", s, r, err)
		}
	}
	if _, err := ParseRealServers("some"); err == nil {
		t.Error("some: no error")
	}
}

var update = flag.Bool("update", false, "rewrite testdata/scrape.prom from the fixture")

// TestGolden compares a scrape of the fixture with testdata/scrape.prom,
// the reference of every family's name, help and labels: a change to a
// name that dashboards and rules use shows in review (go test -update
// rewrites it).
func TestGolden(t *testing.T) {
	e, _ := newTestExporter(RealServersFull)
	_, body := scrape(t, e, nil)
	const golden = "testdata/scrape.prom"
	if *update {
		if err := os.WriteFile(golden, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, want) {
		t.Errorf("the scrape differs from %s (go test -update rewrites it):\n%s", golden, body)
	}
}

// TestScrapeRate: past the burst, a scrape waits its turn; one that cannot
// wait that long is told to come back (429) rather than served at once.
func TestScrapeRate(t *testing.T) {
	e, _ := newTestExporter(RealServersNone)
	for i := 0; i < maxScrapesPerSecond; i++ {
		scrape(t, e, nil) // the burst
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil).WithContext(ctx))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q; want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	start := time.Now()
	scrape(t, e, nil) // waits for a token, then is served
	if time.Since(start) > maxScrapeWait {
		t.Errorf("a scrape past the burst waited %v", time.Since(start))
	}
}

// A refresh the source deferred starts after the render, once per scrape
// that asked for the views.
func TestDeferredRefreshAfterRender(t *testing.T) {
	e := New(Config{})
	var calls, beforeRender int
	src := &fakeSource{view: fixtureView()}
	src.refresh = func() {
		calls++
		if !e.cache[0].written {
			beforeRender++
		}
	}
	e.Add("", src)
	for range 2 { // the second scrape finds the body it may serve again
		scrape(t, e, nil)
	}
	if calls != 1 || beforeRender != 0 {
		t.Errorf("refresh called %d times, %d before the render; want once, after it", calls, beforeRender)
	}
}
