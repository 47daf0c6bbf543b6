package metrics

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"golang.org/x/time/rate"

	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// Source is the live state of one network namespace: an ipvslive.Source.
type Source interface {
	// CurrentDeferred returns the current view, refreshing it first when
	// it is stale, by the rules SNMP requests follow, except that a
	// refresh a request would not wait for starts only when refresh is
	// called, once the view is rendered (ipvslive.Source.CurrentDeferred).
	CurrentDeferred() (v *mib.View, refresh func())
	// ReadStats returns what the reads of IPVS have done so far.
	ReadStats() ipvslive.ReadStats
}

// Config configures an Exporter.
type Config struct {
	RealServers RealServers
	// Gatherer adds the agent's own metrics (go_, process_, build info)
	// after the LVS families; nil for none.
	Gatherer prometheus.Gatherer
	Logger   *slog.Logger
}

// The endpoint's pace: Prometheus servers scrape every few seconds at
// most, so more than this many scrapes a second are a loop or a mistake;
// they wait (the caches make each cheap, but not free).
const (
	maxScrapesPerSecond = 10
	maxScrapeWait       = 10 * time.Second
	// renderBudget: a body is rendered again no sooner than this many
	// times its last render's cost, as the watch re-reads a huge table.
	renderBudget = 10
)

// Exporter serves the LVS families of the contexts added to it. It is an
// http.Handler for /metrics.
type Exporter struct {
	cfg      Config
	families []family
	limiter  *rate.Limiter

	mu       sync.Mutex
	contexts map[string]Source

	// render serialises renders; cache holds the last body rendered in
	// each format (the text format, OpenMetrics).
	render sync.Mutex
	cache  [2]rendered
	zw     *gzip.Writer // reused by every render: its state is a megabyte
}

// rendered is a body and what it was rendered from.
type rendered struct {
	views   []*mib.View // one per context, in name order
	names   []string
	at      time.Time     // when it was rendered
	cost    time.Duration // how long that took
	body    []byte
	ctype   string
	written bool
}

// New returns an Exporter serving no context yet.
func New(cfg Config) *Exporter {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Exporter{cfg: cfg, families: families(), contexts: map[string]Source{},
		limiter: rate.NewLimiter(maxScrapesPerSecond, maxScrapesPerSecond)}
}

// Add serves src as the context name ("" for the default context),
// replacing what served that name before.
func (e *Exporter) Add(name string, src Source) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.contexts[name] = src
}

// Remove stops serving the context name.
func (e *Exporter) Remove(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.contexts, name)
}

// snapshot returns the contexts in name order with their current views,
// and the function that starts the refreshes they deferred.
func (e *Exporter) snapshot() ([]scraped, func()) {
	e.mu.Lock()
	srcs := make([]scraped, 0, len(e.contexts))
	for name, src := range e.contexts {
		srcs = append(srcs, scraped{name: name, src: src})
	}
	e.mu.Unlock()
	// Views are asked for outside the lock: a refresh may wait.
	refreshes := make([]func(), len(srcs))
	for i := range srcs {
		srcs[i].view, refreshes[i] = srcs[i].src.CurrentDeferred()
		srcs[i].stats = srcs[i].src.ReadStats()
	}
	slices.SortFunc(srcs, func(a, b scraped) int { return strings.Compare(a.name, b.name) })
	return srcs, func() {
		for _, r := range refreshes {
			r()
		}
	}
}

// ServeHTTP answers a scrape: GET or HEAD, in OpenMetrics when the Accept
// header asks for it, else the text format; gzipped when the client
// accepts it (Prometheus does), else decompressed on the way.
func (e *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: "+r.Method, http.StatusMethodNotAllowed)
		return
	}
	// Scrapers beyond the rate wait their turn, up to their timeout: a
	// loop of scrapes cannot take the CPU that SNMP requests need.
	wait, cancel := context.WithTimeout(r.Context(), maxScrapeWait)
	err := e.limiter.Wait(wait)
	cancel()
	if err != nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many scrapes: at most "+strconv.Itoa(maxScrapesPerSecond)+" a second", http.StatusTooManyRequests)
		return
	}
	om := expfmt.NegotiateIncludingOpenMetrics(r.Header).FormatType() == expfmt.TypeOpenMetrics
	body, ctype, err := e.body(om)
	if err != nil {
		e.cfg.Logger.Warn("metrics scrape failed", "err", err)
		http.Error(w, "rendering metrics failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Add("Vary", "Accept, Accept-Encoding")
	gz := acceptsGzip(r.Header.Get("Accept-Encoding"))
	if gz {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	if r.Method == http.MethodHead {
		return
	}
	if gz {
		w.Write(body) // a client gone away is nothing to report
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err == nil {
		_, err = io.Copy(w, zr)
	}
	if err != nil {
		e.cfg.Logger.Debug("metrics scrape not sent", "err", err)
	}
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip.
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" {
			return strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0"
		}
	}
	return false
}

// body returns the gzipped body of a scrape and its content type. A body
// is rendered again only when a context's view has changed since, and no
// sooner than ten times what the last render cost after it: scrapes in
// between take the body they find, without reading IPVS, so rendering
// takes at most a tenth of a CPU however often scrapers come (a huge
// director's body is then a little older than its views; lvs_data_age_
// seconds says how old). Renders run one at a time; scrapes that arrive
// during one wait for it. Bodies are kept compressed: a large director's
// text is twenty times their size.
func (e *Exporter) body(om bool) ([]byte, string, error) {
	e.render.Lock()
	defer e.render.Unlock()
	c := &e.cache[boolInt(om)]
	if c.written && time.Since(c.at) < renderBudget*c.cost {
		return c.body, c.ctype, nil
	}
	ctxs, refresh := e.snapshot()
	defer refresh() // after the render: the reads it deferred would only slow it
	if c.matches(ctxs) {
		return c.body, c.ctype, nil
	}
	start := time.Now()
	// The last body's size, and a little more, saves growing the buffer
	// (copying the body over and over) at every render.
	buf := bytes.NewBuffer(make([]byte, 0, len(c.body)+len(c.body)/8))
	if e.zw == nil {
		e.zw, _ = gzip.NewWriterLevel(buf, gzip.BestSpeed) // a valid level: no error
	} else {
		e.zw.Reset(buf)
	}
	ctype, err := e.write(e.zw, ctxs, om)
	if err == nil {
		err = e.zw.Close()
	}
	if err != nil {
		return nil, "", err
	}
	*c = rendered{body: buf.Bytes(), ctype: ctype, written: true, at: time.Now()}
	c.cost = c.at.Sub(start)
	for _, s := range ctxs {
		c.views, c.names = append(c.views, s.view), append(c.names, s.name)
	}
	return c.body, ctype, nil
}

func (c *rendered) matches(ctxs []scraped) bool {
	if !c.written || len(ctxs) != len(c.views) {
		return false
	}
	for i, s := range ctxs {
		if s.view != c.views[i] || s.name != c.names[i] {
			return false
		}
	}
	return true
}

// write writes every family of ctxs, then the gatherer's, and returns the
// content type.
func (e *Exporter) write(out io.Writer, ctxs []scraped, om bool) (string, error) {
	for i := range ctxs {
		ctxs[i].labels = rowLabels(ctxs[i].name, ctxs[i].view, e.cfg.RealServers)
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	wr := &writer{w: bw, om: om}
	for i := range e.families {
		wr.family(&e.families[i], ctxs, e.cfg.RealServers)
	}
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	if om {
		format = expfmt.NewFormat(expfmt.TypeOpenMetrics)
	}
	if e.cfg.Gatherer != nil {
		mfs, err := e.cfg.Gatherer.Gather()
		if err != nil {
			// Partial results still carry what could be gathered.
			e.cfg.Logger.Debug("gather the agent's own metrics", "err", err)
		}
		for _, mf := range mfs {
			var err error
			if om {
				_, err = expfmt.MetricFamilyToOpenMetrics(bw, mf)
			} else {
				_, err = expfmt.MetricFamilyToText(bw, mf)
			}
			if err != nil {
				return "", fmt.Errorf("encode %s: %w", mf.GetName(), err)
			}
		}
	}
	if om {
		if _, err := expfmt.FinalizeOpenMetrics(bw); err != nil {
			return "", fmt.Errorf("finish OpenMetrics: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return "", fmt.Errorf("write metrics: %w", err)
	}
	return string(format), nil
}

// WriteText writes the LVS families of one view, served as context name,
// in the text format: what a scrape of an agent serving v shows (check
// compares that with a scrape).
func WriteText(w io.Writer, name string, v *mib.View, mode RealServers) error {
	e := New(Config{RealServers: mode})
	_, err := e.write(w, []scraped{{name: name, view: v}}, false)
	return err
}
