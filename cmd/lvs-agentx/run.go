package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/ipvsevents"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/metrics"
	"github.com/lvs-agentx/lvs-agentx/mib"
	"github.com/lvs-agentx/lvs-agentx/netns"
)

// DefaultStateFile is where the stable indexes are kept.
const DefaultStateFile = "/var/lib/lvs-agentx/indexes.json"

// defaultGCPercent is the collector's GOGC unless the environment sets one.
const defaultGCPercent = 50

// disableHugePages turns transparent huge pages off for the process. Where
// the kernel backs anonymous memory with them ("always", Debian's default),
// the few MiB of heap the agent uses are faulted in 2 MiB at a time, up to
// 2 MiB of RSS more per region touched, for data read too rarely to gain
// from fewer TLB misses. A kernel that refuses (before 3.15) changes
// nothing.
func disableHugePages(log *slog.Logger) {
	if err := unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0); err != nil {
		log.Debug("transparent huge pages stay enabled", "err", err)
	}
}

// runConfig is the run command's configuration, parsed and checked.
type runConfig struct {
	addr         string // snmpd's AgentX socket
	priority     uint8
	ping         time.Duration // agent.Config.PingInterval: negative never pings
	cacheTTL     time.Duration
	refreshWait  time.Duration // ipvslive.Config.RefreshWait: negative never waits
	watch        time.Duration
	kinds        ipvsevents.Kinds
	notifyMax    int
	stateFile    string
	specs        specList
	netnsDir     string
	defaultNetns string // "none": no default context
	// writable: SETs may change weights in the default context, and in
	// every named one unless writableIn names some.
	writable   bool
	writableIn nameList // named contexts SETs may change weights in
	// The Prometheus endpoint: off while metricsListen is "".
	metricsListen string
	webConfig     string
	realServers   metrics.RealServers
	log           *slog.Logger
}

// writableContext reports whether SETs may change weights in the context
// name ("" for the default context).
func (c *runConfig) writableContext(name string) bool {
	if name == "" || len(c.writableIn) == 0 {
		return c.writable
	}
	return slices.Contains(c.writableIn, name)
}

// multi reports whether other namespaces are served in contexts of their
// own.
func (c *runConfig) multi() bool { return len(c.specs) > 0 || c.netnsDir != "" }

// runAgent is the "run" command: serve the LVS-MIB to snmpd until ctx ends.
// When the command line names no command, run is the default and its
// --help introduces every command before its own flags.
func runAgent(ctx context.Context, args []string, named bool, stdout, stderr io.Writer) error {
	cfg, err := parseRun(args, named, stdout, stderr)
	if err != nil {
		return err
	}
	tuneRuntime(cfg.log)
	cfg.log.Info("lvs-agentx starting", "version", version, "agentx", cfg.addr, "default_netns", cfg.defaultNetns,
		"netns", cfg.specs.String(), "netns_dir", cfg.netnsDir,
		"cache_ttl", cfg.cacheTTL.String(), "refresh_wait", max(cfg.refreshWait, 0).String(), "state_file", cfg.stateFile,
		"watch_interval", cfg.watch.String(), "notify", cfg.kinds.String(), "notify_max", cfg.notifyMax,
		"writable", cfg.writable, "writable_contexts", cfg.writableIn.String(),
		"metrics_listen", cfg.metricsListen, "metrics_real_servers", cfg.realServers.String())
	return serve(ctx, cfg)
}

// parseRun parses and checks the run command's flags and environment.
func parseRun(args []string, named bool, stdout, stderr io.Writer) (*runConfig, error) {
	fs := newFlagSet("run", "lvs-agentx [run] [flags]", stdout)
	if !named {
		fs.usage = topUsage + "\nFlags of run (each also read from the environment variable shown):\n"
	}
	c := &runConfig{}
	fs.StringVar(&c.addr, "agentx", agent.DefaultAddress, "snmpd's AgentX socket in agentXSocket syntax: /path, unix:/path or tcp:host:port; none: no SNMP at all, only the metrics endpoint (--metrics-listen), without notifications")
	fs.DurationVar(&c.cacheTTL, "cache-ttl", ipvslive.DefaultCacheTTL, "how old served data may get before a request triggers a background re-read of IPVS")
	fs.DurationVar(&c.refreshWait, "refresh-wait", ipvslive.DefaultRefreshWait, "how long a request that finds the data older than --cache-ttl waits for the re-read it starts; past that it is answered from the previous read (lvsDataAge tells how old); keep it well under snmpd's agentXTimeout")
	fs.StringVar(&c.stateFile, "state-file", DefaultStateFile, "file keeping the stable service and real server numbers")
	fs.Var(&c.specs, "netns", "serve IPVS of the network namespace at PATH (e.g. /run/netns/lb) in the SNMP context NAME (default: the path's last element); repeat for several, or separate them with commas. Given once with neither --netns-dir nor --default-netns, it is served in the default context instead, as before contexts existed. Entering other namespaces needs CAP_SYS_ADMIN")
	fs.StringVar(&c.netnsDir, "netns-dir", "", "serve every network namespace in this directory (e.g. /run/netns, where 'ip netns add' puts them), each in the SNMP context of its file name, following namespaces that appear and disappear; needs CAP_SYS_ADMIN")
	fs.StringVar(&c.defaultNetns, "default-netns", "", "the network namespace served in the default context: a path, or none; empty: the agent's own")
	prio := fs.Uint("priority", agent.DefaultPriority, "AgentX registration priority, 1-255, lower wins")
	fs.DurationVar(&c.ping, "ping-interval", agent.DefaultPingInterval, "how often to ping snmpd to notice a dead master (0: never)")
	fs.DurationVar(&c.watch, "watch-interval", ipvslive.DefaultWatchInterval, "how often to re-read IPVS in the background to find changes and notify them (a table whose read costs more than a tenth of this, its duration plus the garbage collection it causes, or all of the agent's CPU since the read began while it is otherwise idle, is re-read every ten such costs); 0: no background reads, no notifications")
	notify := fs.String("notify", "all", "notifications to send through snmpd (to its trap2sink, informsink and trapsess destinations): all, none, or a comma-separated list of "+strings.Join(ipvsevents.GroupNames(), ", "))
	fs.IntVar(&c.notifyMax, "notify-max", agent.DefaultNotifyMax, "at most this many notifications per --watch-interval; the rest are counted in one lvsNotificationStorm at the interval's end")
	fs.BoolVar(&c.writable, "writable", false, "maintenance by SET: let SETs of lvsRealServerWeight, lvsRealServerAdminState and lvsServiceAdminState change real server weights in the kernel, in the default context and in every named one (unless --writable-contexts names some); off: every SET is refused notWritable. snmpd decides who may SET: give only an SNMPv3 authPriv user a write view")
	fs.Var(&c.writableIn, "writable-contexts", "maintenance by SET in these named contexts only (comma-separated); the default context stays as --writable says")
	fs.StringVar(&c.metricsListen, "metrics-listen", "", "serve Prometheus metrics of every context at http://ADDR/metrics (host:port, e.g. :9815 or 127.0.0.1:9815), from the same reads as SNMP; empty: no metrics endpoint")
	fs.StringVar(&c.webConfig, "web.config.file", "", "the metrics endpoint's TLS and basic auth configuration, in the Prometheus exporter-toolkit web configuration format; empty: plain HTTP")
	realServers := fs.String("metrics-real-servers", "full", "which real server series /metrics carries: full (labelled by the service's name, protocol, address and port and the real server's name, address and port), names (labelled by the service's and real server's names only) or none (no per-real-server series: for very large directors)")
	var lf logFlags
	lf.register(fs)
	if err := parseFlags(fs, args, os.Getenv); err != nil {
		return nil, err
	}
	if *prio < 1 || *prio > 255 {
		return nil, usagef("--priority %d: want 1 to 255", *prio)
	}
	c.priority = uint8(*prio)
	kinds, err := ipvsevents.ParseKinds(*notify)
	if err != nil {
		return nil, usagef("--notify %q: %v", *notify, err)
	}
	c.kinds = kinds
	if c.realServers, err = metrics.ParseRealServers(*realServers); err != nil {
		return nil, usagef("--metrics-real-servers %v", err)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.log, err = lf.logger(stderr); err != nil {
		return nil, err
	}
	return c, nil
}

// check validates the durations, the socket and the namespaces, and
// settles what the zero values mean.
func (c *runConfig) check() error {
	switch {
	case c.cacheTTL <= 0:
		return usagef("--cache-ttl %s: want a positive duration", c.cacheTTL)
	case c.refreshWait < 0:
		return usagef("--refresh-wait %s: want 0 (never wait) or a positive duration", c.refreshWait)
	case c.watch < 0:
		return usagef("--watch-interval %s: want 0 (no watch) or a positive duration", c.watch)
	case c.notifyMax < 1:
		return usagef("--notify-max %d: want 1 or more", c.notifyMax)
	}
	if c.addr == "none" {
		if c.metricsListen == "" {
			return usagef("--agentx none: with no --metrics-listen there is nothing to serve")
		}
		if c.writable {
			return usagef("--writable: maintenance is by SNMP SET, and --agentx none serves no SNMP")
		}
		c.kinds = 0 // notifications go through snmpd
	} else if _, _, err := agent.ParseAddress(c.addr); err != nil {
		return usagef("--agentx: %v", err)
	}
	if c.metricsListen != "" {
		if _, _, err := net.SplitHostPort(c.metricsListen); err != nil {
			return usagef("--metrics-listen %q: want host:port, such as :9815 or 127.0.0.1:9815", c.metricsListen)
		}
	}
	if c.webConfig != "" && c.metricsListen == "" {
		return usagef("--web.config.file: there is no metrics endpoint to configure without --metrics-listen")
	}
	if err := metrics.CheckWebConfig(c.webConfig); err != nil {
		return usagef("--web.config.file: %v", err)
	}
	if err := checkSpecs(c.specs); err != nil {
		return err
	}
	// One --netns and nothing else means "read this namespace instead of
	// mine", in the default context.
	if len(c.specs) == 1 && c.netnsDir == "" && c.defaultNetns == "" {
		c.defaultNetns, c.specs = c.specs[0].Path, nil
	}
	if c.defaultNetns != "none" {
		if err := checkNetNS(c.defaultNetns); err != nil {
			return err
		}
	}
	if c.netnsDir != "" {
		if st, err := os.Stat(c.netnsDir); err != nil || !st.IsDir() {
			return usagef("--netns-dir %s: not a directory", c.netnsDir)
		}
	}
	if c.defaultNetns == "none" && !c.multi() {
		return usagef("--default-netns none: with no --netns or --netns-dir there is nothing to serve")
	}
	if c.watch == 0 {
		c.kinds = 0 // no watch, nothing to notify
	}
	if c.ping == 0 {
		c.ping = -1
	}
	if c.refreshWait == 0 {
		c.refreshWait = -1
	}
	return nil
}

// tuneRuntime sets the Go runtime up for a small, mostly idle daemon that
// answers in bursts; GOMAXPROCS and GOGC in the environment still win.
func tuneRuntime(log *slog.Logger) {
	// The AgentX session blocks in read(2) between requests. With a single
	// P (one CPU) the runtime hands that P to another thread on each such
	// read, which costs more than answering the request; a second P avoids
	// it.
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	// Go lets the heap reach at least 4 MiB (at GOGC=100) before it
	// collects, several times what a director's table needs, and twice a
	// large table's live data. At 50 the floor is 2 MiB and the peak 1.5x
	// the live data: collections come twice as often, and each is short
	// where the live data is small.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	disableHugePages(log)
}

// serve wires the default context and the watched namespaces to one AgentX
// session and runs it until ctx ends, then saves the index state.
func serve(ctx context.Context, cfg *runConfig) error {
	log := cfg.log
	store, err := ipvslive.OpenIndexStore(cfg.stateFile)
	if err != nil {
		log.Warn("index state unusable; numbering afresh", "err", err)
	}
	// The agent learns snmpd's sysUpTime; lvsLastChange and the
	// notifications' sysUpTime.0 use it too.
	icfg := &instanceConfig{store: store, cacheTTL: cfg.cacheTTL, refreshWait: cfg.refreshWait, watch: cfg.watch,
		kinds: cfg.kinds, notifyMax: cfg.notifyMax, uptime: agent.NewUptime(), log: log, writable: cfg.writableContext}
	var background sync.WaitGroup
	defer background.Wait()
	mctx, stopMetrics := context.WithCancel(ctx)
	defer stopMetrics()
	if icfg.exporter, err = startMetrics(mctx, cfg, &background); err != nil {
		return err
	}
	var def *instance
	var src agent.ViewSource
	if cfg.defaultNetns != "none" {
		if def, err = icfg.open(ctx, "", cfg.defaultNetns); err != nil {
			if hint := netns.CapabilityHint(err); hint != "" {
				log.Error(hint, "netns", cfg.defaultNetns)
			}
			return err
		}
		defer def.stop() // on the early returns; stop may be called again
		src = def.view
	}
	a, err := newSession(cfg, src, icfg.uptime)
	if err != nil {
		return err
	}
	status := make(chan os.Signal, 1)
	signal.Notify(status, syscall.SIGUSR1)
	defer signal.Stop(status)
	go logStatusOn(ctx, log, status)

	if def != nil {
		def.run(a)
	}
	var cs *contexts
	if cfg.multi() {
		cs = newContexts(ctx, icfg, a)
		w := &netns.Watcher{Specs: cfg.specs, Dir: cfg.netnsDir, Logger: log}
		background.Go(func() { w.Run(ctx, cs.changed) })
	}
	err = runSession(ctx, a)
	stopMetrics()
	background.Wait()
	if cs != nil {
		cs.stopAll()
	}
	if def != nil {
		def.stop()
	}
	if serr := store.Save(); serr != nil {
		log.Warn("could not save index state", "file", cfg.stateFile, "err", serr)
	}
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	log.Info("lvs-agentx stopped")
	return nil
}

// newSession returns the AgentX session with snmpd serving src in the
// default context; nil with --agentx none.
func newSession(cfg *runConfig, src agent.ViewSource, uptime *agent.Uptime) (*agent.Agent, error) {
	if cfg.addr == "none" {
		return nil, nil
	}
	a, err := agent.New(agent.Config{Address: cfg.addr, Subtree: mib.Root, Priority: cfg.priority,
		Description: "lvs-agentx " + version + ": LVS-MIB (IPVS statistics)", PingInterval: cfg.ping,
		Source: src, Logger: cfg.log, Uptime: uptime,
		OnState: func(s agent.State, cause error) {
			if hint := masterHint(cause); s == agent.StateUnreachable && hint != "" {
				cfg.log.Warn(hint, "master", cfg.addr)
			}
		},
	})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return a, nil
}

// runSession runs the AgentX session until ctx ends; without one (nil)
// it waits for that while the metrics endpoint serves.
func runSession(ctx context.Context, a *agent.Agent) error {
	if a == nil {
		<-ctx.Done()
		return nil
	}
	return a.Run(ctx)
}

// startMetrics listens on --metrics-listen and serves the Prometheus
// endpoint there until ctx ends, in background; nil when it is off.
func startMetrics(ctx context.Context, cfg *runConfig, background *sync.WaitGroup) (*metrics.Exporter, error) {
	if cfg.metricsListen == "" {
		return nil, nil
	}
	e := metrics.New(metrics.Config{RealServers: cfg.realServers, Gatherer: metrics.NewRegistry(version), Logger: cfg.log})
	h, err := metrics.Handler(e, version)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", cfg.metricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics endpoint: %w", err)
	}
	background.Go(func() {
		err := metrics.Serve(ctx, l, h, metrics.ServerConfig{WebConfigFile: cfg.webConfig, Version: version, Logger: cfg.log})
		if err != nil {
			cfg.log.Error("the metrics endpoint stopped; SNMP goes on", "err", err)
		}
	})
	return e, nil
}

// logStatusOn logs one line about the process's own health for each value
// on ch (SIGUSR1), until ctx ends: what an operator (or the soak test)
// watches for leaks without a debug port.
func logStatusOn(ctx context.Context, log *slog.Logger, ch <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			logStatus(log)
		}
	}
}

func logStatus(log *slog.Logger) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	log.Info("lvs-agentx status", "goroutines", runtime.NumGoroutine(), "heap_bytes", m.HeapAlloc,
		"runtime_sys_bytes", m.Sys, "gc_cycles", m.NumGC)
}

// masterHint turns the usual reasons the AgentX socket cannot be reached
// into what to change in snmpd.conf; "" when there is nothing to add.
func masterHint(err error) string {
	switch {
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return "permission denied on snmpd's AgentX socket: set agentXPerms in snmpd.conf so that this user " +
			"(or a group it is in) may read and write the socket and search its directory"
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		return "snmpd is not accepting AgentX connections there: is it running, with 'master agentx' and " +
			"this agentXSocket in snmpd.conf?"
	}
	return ""
}
