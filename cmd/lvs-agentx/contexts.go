package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvs-agentx/lvs-agentx/agent"
	"github.com/lvs-agentx/lvs-agentx/ipvsevents"
	"github.com/lvs-agentx/lvs-agentx/ipvslive"
	"github.com/lvs-agentx/lvs-agentx/ipvsproc"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/metrics"
	"github.com/lvs-agentx/lvs-agentx/netns"
)

// specList is a repeatable --netns [NAME=]PATH; its environment variable
// separates several with commas.
type specList []netns.Spec

func (l *specList) String() string {
	s := make([]string, len(*l))
	for i, sp := range *l {
		s[i] = sp.Name + "=" + sp.Path
	}
	return strings.Join(s, ",")
}

func (l *specList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		sp, err := netns.ParseSpec(part)
		if err != nil {
			return err
		}
		*l = append(*l, sp)
	}
	return nil
}

// nameList is a repeatable list of context names; each value may
// separate several with commas.
type nameList []string

func (l *nameList) String() string { return strings.Join(*l, ",") }

func (l *nameList) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		if name == "" || len(name) > agent.MaxContextName {
			return fmt.Errorf("context name %q: want 1 to %d octets", name, agent.MaxContextName)
		}
		*l = append(*l, name)
	}
	return nil
}

// checkSpecs makes sure each --netns names a network namespace under a
// usable, distinct context name, so that a typo is reported before
// anything starts.
func checkSpecs(specs []netns.Spec) error {
	seen := map[string]bool{}
	for _, sp := range specs {
		if len(sp.Name) > agent.MaxContextName {
			return usagef("--netns %s: context name %q is longer than SNMP's 32 octets; name it: NAME=PATH", sp.Path, sp.Name)
		}
		if seen[sp.Name] {
			return usagef("--netns: context name %q given twice; name them apart: NAME=PATH", sp.Name)
		}
		seen[sp.Name] = true
		if err := checkNetNS(sp.Path); err != nil {
			return err
		}
	}
	return nil
}

// instanceConfig is what every served namespace shares.
type instanceConfig struct {
	store       *ipvslive.IndexStore
	cacheTTL    time.Duration
	refreshWait time.Duration
	watch       time.Duration
	kinds       ipvsevents.Kinds
	notifyMax   int
	uptime      *agent.Uptime
	log         *slog.Logger
	// writable reports whether SETs may change weights in a context.
	writable func(name string) bool
	// exporter serves every running instance as metrics; nil when the
	// metrics endpoint is off.
	exporter *metrics.Exporter
}

// instance is one network namespace served as an SNMP context: its IPVS
// reader, the Source that numbers and serves its view, the watch and its
// notifications.
type instance struct {
	name     string // the context; "" for the default context
	watch    time.Duration
	reader   *ipvsstats.Reader
	src      *ipvslive.Source
	view     agent.ViewSource // what requests are answered from: src, or src writable
	notifier *agent.Notifier
	exporter *metrics.Exporter // nil when the metrics endpoint is off
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// open opens the reader for the namespace at path ("" for the agent's own)
// and reads it once, so the first request is answered at once and an
// unreadable IPVS is logged at start.
func (c *instanceConfig) open(ctx context.Context, name, path string) (*instance, error) {
	reader, err := ipvsstats.Open(ipvsstats.Options{NetNS: path})
	if err != nil {
		return nil, fmt.Errorf("open IPVS reader: %w", err)
	}
	log := c.log
	if name != "" {
		log = log.With("context", name)
	}
	in := &instance{name: name, watch: c.watch, reader: reader, exporter: c.exporter}
	in.ctx, in.cancel = context.WithCancel(ctx)
	cfg := ipvslive.Config{Reader: reader, Indexes: c.store.Indexes(name), CacheTTL: c.cacheTTL,
		RefreshWait: c.refreshWait, Logger: log, SysUpTimeAt: c.uptime.At, ReleaseMemory: debug.FreeOSMemory,
		OpenProc: func() (ipvslive.Proc, error) { return ipvsproc.Open(path) }}
	if c.kinds != 0 {
		in.notifier = agent.NewNotifier(agent.NotifierConfig{Max: c.notifyMax, Window: c.watch, Context: name, Logger: log})
		cfg.Notify, cfg.NotifyKinds = in.notifier.Enqueue, c.kinds
	}
	in.src = ipvslive.New(in.ctx, cfg)
	in.view = in.src
	if c.writable != nil && c.writable(name) {
		// The audit log names the context itself, also the default one.
		in.view = ipvslive.NewWritable(in.src, ipvslive.WritableConfig{Writer: reader, Context: name, Logger: c.log})
	}
	in.src.Refresh(in.ctx)
	return in, nil
}

// run starts the watch and the notifications, sent through a, and serves
// the instance as metrics.
func (in *instance) run(a *agent.Agent) {
	in.wg.Go(func() { in.src.Watch(in.ctx, in.watch) })
	if in.notifier != nil {
		in.wg.Go(func() { in.notifier.Run(in.ctx, a, in.src.StormNotification) })
	}
	if in.exporter != nil {
		in.exporter.Add(in.name, in.src)
	}
}

// stop ends the watch and the metrics and closes the reader.
func (in *instance) stop() {
	if in.exporter != nil {
		in.exporter.Remove(in.name)
	}
	in.cancel()
	in.wg.Wait()
	in.reader.Close()
}

// contexts serves the namespaces a netns.Watcher finds, each as the SNMP
// context of its name.
type contexts struct {
	cfg     *instanceConfig
	a       *agent.Agent
	ctx     context.Context
	warned  bool // the missing CAP_SYS_ADMIN has been logged
	mu      sync.Mutex
	running map[string]*instance
}

// newContexts returns the contexts served through a (nil: only as
// metrics) until ctx ends,
// warning once when other namespaces cannot be entered.
func newContexts(ctx context.Context, cfg *instanceConfig, a *agent.Agent) *contexts {
	capOK := hasSysAdmin()
	if !capOK {
		cfg.log.Warn("no CAP_SYS_ADMIN: other network namespaces cannot be entered (setns); --netns and --netns-dir need it as well as CAP_NET_ADMIN")
	}
	return &contexts{cfg: cfg, a: a, ctx: ctx, warned: !capOK, running: map[string]*instance{}}
}

// changed stops serving the namespaces removed and starts serving those
// added (a namespace re-created under its name is both: removed first).
func (cs *contexts) changed(added, removed []netns.Namespace) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, ns := range removed {
		in := cs.running[ns.Name]
		if in == nil {
			continue
		}
		if cs.a != nil {
			if err := cs.a.RemoveContext(cs.ctx, ns.Name); err != nil {
				cs.cfg.log.Debug("unregister context", "context", ns.Name, "err", err)
			}
		}
		in.stop()
		delete(cs.running, ns.Name)
		cs.cfg.log.Info("network namespace gone; its context is no longer served", "context", ns.Name, "netns", ns.Path)
	}
	for _, ns := range added {
		if len(ns.Name) > agent.MaxContextName {
			cs.cfg.log.Warn("network namespace not served: its name is longer than an SNMP context name may be (32 octets)",
				"netns", ns.Path)
			continue
		}
		in, err := cs.cfg.open(cs.ctx, ns.Name, ns.Path)
		if err != nil {
			if hint := netns.CapabilityHint(err); hint != "" {
				if !cs.warned {
					cs.cfg.log.Warn(hint, "context", ns.Name, "netns", ns.Path, "err", err)
					cs.warned = true
				}
				continue
			}
			cs.cfg.log.Warn("cannot serve network namespace", "context", ns.Name, "netns", ns.Path, "err", err)
			continue
		}
		// A refused registration is logged by the agent; the context is
		// registered again with the next session.
		if cs.a != nil {
			_ = cs.a.AddContext(cs.ctx, ns.Name, in.view)
		}
		in.run(cs.a)
		cs.running[ns.Name] = in
		cs.cfg.log.Info("serving network namespace", "context", ns.Name, "netns", ns.Path,
			"writable", cs.cfg.writable != nil && cs.cfg.writable(ns.Name))
	}
}

// stopAll stops every instance (the agent has unregistered them).
func (cs *contexts) stopAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for name, in := range cs.running {
		in.stop()
		delete(cs.running, name)
	}
}

// hasSysAdmin reports whether the process may enter other network
// namespaces (setns needs CAP_SYS_ADMIN); true when it cannot tell.
func hasSysAdmin() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return true
	}
	return data[0].Effective&(1<<unix.CAP_SYS_ADMIN) != 0
}
