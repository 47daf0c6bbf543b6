package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
)

// The server's limits: a client that is slow or sends too much holds a
// connection no longer than these. A scrape sends nothing but its
// headers, so reading it may take little; writing a large director's
// body to a slow scraper may take longer.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 8 << 10
	shutdownTimeout   = 5 * time.Second
)

// limits are the server's timeouts and header size. Tests shorten them to
// watch each one act within a test's time; the agent always runs with
// defaultLimits.
type limits struct {
	readHeader, read, write, idle, shutdown time.Duration
	maxHeaderBytes                          int
}

func defaultLimits() limits {
	return limits{readHeader: readHeaderTimeout, read: readTimeout, write: writeTimeout, idle: idleTimeout,
		shutdown: shutdownTimeout, maxHeaderBytes: maxHeaderBytes}
}

// ServerConfig configures the metrics endpoint's HTTP server.
type ServerConfig struct {
	// WebConfigFile is exporter-toolkit's web configuration (TLS, basic
	// auth); "" serves plain HTTP to everyone.
	WebConfigFile string
	Version       string // shown on the landing page
	Logger        *slog.Logger
	// limits replaces defaultLimits when set, whole (tests only: the
	// package offers no way to weaken them).
	limits limits
}

// CheckWebConfig reports whether path is a usable web configuration file,
// so that a mistake stops the agent at start rather than at the first
// scrape.
func CheckWebConfig(path string) error {
	if path == "" {
		return nil
	}
	if err := web.Validate(path); err != nil {
		return fmt.Errorf("web config %s: %w", path, err)
	}
	return nil
}

// Handler returns the endpoint's routes: /metrics, a landing page at /,
// 404 for every other path.
func Handler(e *Exporter, version string) (http.Handler, error) {
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "lvs-agentx",
		Description: "IPVS (LVS) statistics of every served network namespace, as Prometheus metrics",
		Version:     version,
		RoutePrefix: "/",
		Links:       []web.LandingLinks{{Address: "/metrics", Text: "Metrics"}},
	})
	if err != nil {
		return nil, fmt.Errorf("landing page: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", e)
	mux.Handle("/", landing) // itself answers 404 below /
	return mux, nil
}

// Serve serves h on l until ctx ends, with TLS and basic auth as
// cfg.WebConfigFile says, then shuts down, letting running scrapes end.
func Serve(ctx context.Context, l net.Listener, h http.Handler, cfg ServerConfig) error {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lim := cfg.limits
	if lim == (limits{}) {
		lim = defaultLimits()
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		WriteTimeout:      lim.write,
		IdleTimeout:       lim.idle,
		MaxHeaderBytes:    lim.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan error, 1)
	go func() {
		webConfig := cfg.WebConfigFile
		done <- web.Serve(l, srv, &web.FlagConfig{WebConfigFile: &webConfig}, log)
	}()
	select {
	case err := <-done:
		return fmt.Errorf("metrics server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), lim.shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}
