package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/ipvsevents"
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

// runAgent is the "run" command: serve the LVS-MIB to snmpd until ctx ends.
// When the command line names no command, run is the default and its
// --help introduces every command before its own flags.
func runAgent(ctx context.Context, args []string, named bool, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "lvs-agentx [run] [flags]", stdout)
	if !named {
		fs.usage = topUsage + "\nFlags of run (each also read from the environment variable shown):\n"
	}
	addr := fs.String("agentx", agent.DefaultAddress, "snmpd's AgentX socket in agentXSocket syntax: /path, unix:/path or tcp:host:port")
	ttl := fs.Duration("cache-ttl", mib.DefaultCacheTTL, "how old served data may get before a request triggers a background re-read of IPVS")
	refreshWait := fs.Duration("refresh-wait", mib.DefaultRefreshWait, "how long a request that finds the data older than --cache-ttl waits for the re-read it starts; past that it is answered from the previous read (lvsDataAge tells how old); keep it well under snmpd's agentXTimeout")
	stateFile := fs.String("state-file", DefaultStateFile, "file keeping the stable service and real server numbers")
	var specs specList
	fs.Var(&specs, "netns", "serve IPVS of the network namespace at PATH (e.g. /run/netns/lb) in the SNMP context NAME (default: the path's last element); repeat for several, or separate them with commas. Given once with neither --netns-dir nor --default-netns, it is served in the default context instead, as before contexts existed. Entering other namespaces needs CAP_SYS_ADMIN")
	netnsDir := fs.String("netns-dir", "", "serve every network namespace in this directory (e.g. /run/netns, where 'ip netns add' puts them), each in the SNMP context of its file name, following namespaces that appear and disappear; needs CAP_SYS_ADMIN")
	defaultNetns := fs.String("default-netns", "", "the network namespace served in the default context: a path, or none; empty: the agent's own")
	prio := fs.Uint("priority", agent.DefaultPriority, "AgentX registration priority, 1-255, lower wins")
	ping := fs.Duration("ping-interval", agent.DefaultPingInterval, "how often to ping snmpd to notice a dead master (0: never)")
	watch := fs.Duration("watch-interval", mib.DefaultWatchInterval, "how often to re-read IPVS in the background to find changes and notify them (a table whose read costs more than a tenth of this, its duration plus the garbage collection it causes, or all of the agent's CPU since the read began while it is otherwise idle, is re-read every ten such costs); 0: no background reads, no notifications")
	notify := fs.String("notify", "all", "notifications to send through snmpd (to its trap2sink, informsink and trapsess destinations): all, none, or a comma-separated list of "+strings.Join(ipvsevents.GroupNames(), ", "))
	notifyMax := fs.Int("notify-max", agent.DefaultNotifyMax, "at most this many notifications per --watch-interval; the rest are counted in one lvsNotificationStorm at the interval's end")
	var lf logFlags
	lf.register(fs)
	if err := parseFlags(fs, args, os.Getenv); err != nil {
		return err
	}
	if *prio < 1 || *prio > 255 {
		return usagef("--priority %d: want 1 to 255", *prio)
	}
	if *ttl <= 0 {
		return usagef("--cache-ttl %s: want a positive duration", *ttl)
	}
	if *refreshWait < 0 {
		return usagef("--refresh-wait %s: want 0 (never wait) or a positive duration", *refreshWait)
	}
	if *watch < 0 {
		return usagef("--watch-interval %s: want 0 (no watch) or a positive duration", *watch)
	}
	kinds, kerr := ipvsevents.ParseKinds(*notify)
	if kerr != nil {
		return usagef("--notify %q: %v", *notify, kerr)
	}
	if *watch == 0 {
		kinds = 0
	}
	if *notifyMax < 1 {
		return usagef("--notify-max %d: want 1 or more", *notifyMax)
	}
	if _, _, err := agent.ParseAddress(*addr); err != nil {
		return usagef("--agentx: %v", err)
	}
	if err := checkSpecs(specs); err != nil {
		return err
	}
	// One --netns and nothing else meant, before contexts, "read this
	// namespace instead of mine": keep that meaning.
	if len(specs) == 1 && *netnsDir == "" && *defaultNetns == "" {
		*defaultNetns, specs = specs[0].Path, nil
	}
	if *defaultNetns != "none" {
		if err := checkNetNS(*defaultNetns); err != nil {
			return err
		}
	}
	if *netnsDir != "" {
		if st, err := os.Stat(*netnsDir); err != nil || !st.IsDir() {
			return usagef("--netns-dir %s: not a directory", *netnsDir)
		}
	}
	multi := len(specs) > 0 || *netnsDir != ""
	if *defaultNetns == "none" && !multi {
		return usagef("--default-netns none: with no --netns or --netns-dir there is nothing to serve")
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	// The AgentX session blocks in read(2) between requests. With a single
	// P (one CPU) the runtime hands that P to another thread on each such
	// read, which costs more than answering the request; a second P avoids
	// it. GOMAXPROCS in the environment still wins.
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	// Go lets the heap reach at least 4 MiB (at GOGC=100) before it
	// collects, several times what a director's table needs, and twice a
	// large table's live data. At 50 the floor is 2 MiB and the peak 1.5x
	// the live data: collections come twice as often, and each is short
	// where the live data is small. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	disableHugePages(log)
	pingInterval := *ping
	if pingInterval == 0 {
		pingInterval = -1 // agent.Config: negative disables pings
	}

	log.Info("lvs-agentx starting", "version", version, "agentx", *addr, "default_netns", *defaultNetns,
		"netns", specs.String(), "netns_dir", *netnsDir,
		"cache_ttl", ttl.String(), "refresh_wait", refreshWait.String(), "state_file", *stateFile,
		"watch_interval", watch.String(), "notify", kinds.String(), "notify_max", *notifyMax)

	store, err := mib.OpenIndexStore(*stateFile)
	if err != nil {
		log.Warn("index state unusable; numbering afresh", "err", err)
	}
	wait := *refreshWait
	if wait == 0 {
		wait = -1 // mib.SourceConfig: negative never waits
	}
	// The agent learns snmpd's sysUpTime; lvsLastChange and the
	// notifications' sysUpTime.0 use it too.
	icfg := &instanceConfig{store: store, cacheTTL: *ttl, refreshWait: wait, watch: *watch, kinds: kinds,
		notifyMax: *notifyMax, uptime: agent.NewUptime(), log: log}
	var def *instance
	var src agent.ViewSource
	if *defaultNetns != "none" {
		if def, err = icfg.open(ctx, "", *defaultNetns); err != nil {
			if hint := netns.CapabilityHint(err); hint != "" {
				log.Error(hint, "netns", *defaultNetns)
			}
			return err
		}
		defer def.stop()
		src = def.src
	}
	a, err := agent.New(agent.Config{
		Address:      *addr,
		Subtree:      mib.Root,
		Priority:     uint8(*prio),
		Description:  "lvs-agentx " + version + ": LVS-MIB (IPVS statistics)",
		PingInterval: pingInterval,
		Source:       src,
		Logger:       log,
		Uptime:       icfg.uptime,
		OnState: func(s agent.State, cause error) {
			if hint := masterHint(cause); s == agent.StateUnreachable && hint != "" {
				log.Warn(hint, "master", *addr)
			}
		},
	})
	if err != nil {
		return usagef("%v", err)
	}
	status := make(chan os.Signal, 1)
	signal.Notify(status, syscall.SIGUSR1)
	defer signal.Stop(status)
	go logStatusOn(ctx, log, status)

	if def != nil {
		def.run(a, *watch)
	}
	var background sync.WaitGroup
	var cs *contexts
	if multi {
		capOK := hasSysAdmin()
		if !capOK {
			log.Warn("no CAP_SYS_ADMIN: other network namespaces cannot be entered (setns); --netns and --netns-dir need it as well as CAP_NET_ADMIN")
		}
		cs = &contexts{cfg: icfg, a: a, ctx: ctx, warned: !capOK, running: map[string]*instance{}}
		w := &netns.Watcher{Specs: specs, Dir: *netnsDir, Logger: log}
		background.Go(func() { w.Run(ctx, cs.changed) })
	}
	err = a.Run(ctx)
	background.Wait()
	if cs != nil {
		cs.stopAll()
	}
	if def != nil {
		def.stop()
	}
	if serr := store.Save(); serr != nil {
		log.Warn("could not save index state", "file", *stateFile, "err", serr)
	}
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	log.Info("lvs-agentx stopped")
	return nil
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
