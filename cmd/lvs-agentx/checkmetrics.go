package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lvs-agentx/lvs-agentx/metrics"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// series is one sample of a scrape keyed by its family and labels.
type series map[string]float64

// checkMetrics scrapes the agent's /metrics at url, reads IPVS directly,
// and compares the series of context contextName with what the agent
// should serve from that read. caFile verifies an HTTPS endpoint; basic
// auth credentials go in the URL (https://user:pass@host:port/metrics).
// The error is a usage error: a URL or CA file that cannot be used.
func checkMetrics(ctx context.Context, url, caFile, contextName, netns string, timeout time.Duration) (problems []string, summary string, err error) {
	body, err := fetchMetrics(ctx, url, caFile, timeout)
	var usage usageError
	if errors.As(err, &usage) {
		return nil, "", err
	}
	if err != nil {
		return []string{err.Error()}, "", nil
	}
	problems, summary = compareMetrics(ctx, body, url, contextName, netns)
	return problems, summary, nil
}

// compareMetrics compares a scrape's body with IPVS read directly.
func compareMetrics(ctx context.Context, body []byte, url, contextName, netns string) (problems []string, summary string) {
	got, err := parseSeries(body, contextName)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", url, err)}, ""
	}
	if len(got) == 0 {
		return []string{fmt.Sprintf("%s serves no lvs_ series of context %q: is that the agent's --metrics-listen, and does it serve that context?", url, contextName)}, ""
	}
	if got["lvs_up"] != 1 {
		return []string{"the agent reports IPVS unavailable (lvs_up 0) although check can read it: " +
			"the agent lacks CAP_NET_ADMIN, or reads another network namespace (--netns); see its log"}, ""
	}
	view, snap, problem := directView(ctx, netns)
	if problem != "" {
		return []string{problem}, ""
	}
	var text bytes.Buffer
	if err := metrics.WriteText(&text, contextName, view, servedRealServers(got)); err != nil {
		return []string{fmt.Sprintf("render what IPVS shows: %v", err)}, ""
	}
	want, err := parseSeries(text.Bytes(), contextName)
	if err != nil {
		return []string{fmt.Sprintf("parse what IPVS shows: %v", err)}, ""
	}
	problems = compareSeries(want, got)
	return problems, fmt.Sprintf("%d series served at %s match IPVS (%d services, %d real servers)",
		len(got), url, len(snap.Services), snap.NumDests())
}

// fetchMetrics gets url in the text format.
func fetchMetrics(ctx context.Context, url, caFile string, timeout time.Duration) ([]byte, error) {
	client := &http.Client{Timeout: timeout}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, usagef("--metrics-ca-file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("--metrics-ca-file %s: no PEM certificate in it", caFile)
		}
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, usagef("--metrics %q: %v", url, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w: is the agent running with --metrics-listen there?", req.URL.Redacted(), err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", req.URL.Redacted(), err)
	}
	if res.StatusCode != http.StatusOK {
		hint := ""
		if res.StatusCode == http.StatusUnauthorized {
			hint = ": the endpoint wants basic auth; put user:password in the URL"
		}
		return nil, fmt.Errorf("scrape %s: %s%s", req.URL.Redacted(), res.Status, hint)
	}
	return body, nil
}

// parseSeries keys the lvs_ samples of context name ("" for the default
// context) by family and labels, without the context label.
func parseSeries(body []byte, name string) (series, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("not the Prometheus text format: %w", err)
	}
	out := series{}
	for fam, mf := range mfs {
		if !strings.HasPrefix(fam, "lvs_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			ctx := ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "context" {
					ctx = lp.GetValue()
					continue
				}
				labels = append(labels, lp.GetName()+"="+strconv.Quote(lp.GetValue()))
			}
			if ctx != name {
				continue
			}
			key := fam
			if len(labels) > 0 {
				sort.Strings(labels)
				key += "{" + strings.Join(labels, ",") + "}"
			}
			out[key] = sampleValue(m)
		}
	}
	return out, nil
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

// servedRealServers tells from a scrape which --metrics-real-servers the
// agent runs with.
func servedRealServers(got series) metrics.RealServers {
	mode := metrics.RealServersNone
	for k := range got {
		if strings.HasPrefix(k, "lvs_real_server_weight{") {
			if strings.Contains(k, "real_address=") {
				return metrics.RealServersFull
			}
			mode = metrics.RealServersNames
		}
	}
	return mode
}

// compareSeries says where a scrape (got) differs from what IPVS shows
// (want), allowing for what changes between the two reads as check's SNMP
// comparison does: counters may lag (never lead), gauges move, the
// connection states come and go, the agent's own account is its own.
func compareSeries(want, got series) []string {
	class := map[string]metrics.FamilyInfo{}
	for _, f := range metrics.Families() {
		class[f.Name] = f
	}
	info := func(k string) metrics.FamilyInfo {
		fam, _, _ := strings.Cut(k, "{")
		return class[fam]
	}
	var problems []string
	for k, w := range want {
		f := info(k)
		g, ok := got[k]
		switch {
		case !ok && f.Table == mib.ConnStateTable:
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: missing from the scrape (IPVS has %v)", k, w))
		case f.Class == mib.ClassCounter && g > w:
			problems = append(problems, fmt.Sprintf("%s: counter %v is ahead of the kernel's %v", k, g, w))
		case f.Class != mib.ClassCounter && f.Class != mib.ClassGauge && f.Class != mib.ClassAgent && g != w:
			problems = append(problems, fmt.Sprintf("%s: the scrape has %v, IPVS has %v", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && info(k).Table != mib.ConnStateTable && info(k).Name != "" {
			problems = append(problems, fmt.Sprintf("%s: scraped (%v) but not in IPVS", k, g))
		}
	}
	sort.Strings(problems)
	return problems
}
