package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// DefaultAddress is where net-snmp's snmpd listens for subagents by default.
const DefaultAddress = "/var/agentx/master"

// Defaults for the zero values of Config.
const (
	DefaultPriority     = 127
	DefaultTimeout      = 5 * time.Second
	DefaultPingInterval = 15 * time.Second
	DefaultBackoffMin   = 100 * time.Millisecond
	DefaultBackoffMax   = time.Second
)

// State is the state of the agent's session with the master.
type State int

// Session states reported to Config.OnState.
const (
	// StateRegistered: the session is open and the subtree registered.
	StateRegistered State = iota + 1
	// StateLost: an established session ended; the agent reconnects.
	StateLost
	// StateUnreachable: the first attempt to reach the master failed (or
	// the first after a loss); further failures are not reported.
	StateUnreachable
)

func (s State) String() string {
	switch s {
	case StateRegistered:
		return "registered"
	case StateLost:
		return "lost"
	case StateUnreachable:
		return "unreachable"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Config configures an Agent.
type Config struct {
	// Address of the master in net-snmp's agentXSocket syntax: "/path",
	// "unix:/path" or "tcp:host:port". Empty means DefaultAddress.
	Address string
	// Subtree is the OID registered with the master (and sent as the
	// subagent's ID in the Open PDU). Required.
	Subtree agentx.OID
	// Priority of the registration; 0 means DefaultPriority (lower values
	// win when registrations overlap).
	Priority uint8
	// Description is sent in the Open PDU.
	Description string
	// Timeout is how long the master may take to answer us or to accept
	// what we write, and what we ask the master to allow us per request
	// (whole seconds, 1..255). 0 means DefaultTimeout.
	Timeout time.Duration
	// PingInterval is how often an idle session is checked with a Ping.
	// 0 means DefaultPingInterval; negative disables pings.
	PingInterval time.Duration
	// BackoffMin and BackoffMax bound the delay between reconnection
	// attempts, which doubles from BackoffMin up to BackoffMax with jitter.
	BackoffMin, BackoffMax time.Duration
	// Source provides the view each request in the default context is
	// answered from. When nil the subtree is registered only in the
	// contexts added with AddContext.
	Source ViewSource
	// Logger receives one line per session state change; nil discards.
	Logger *slog.Logger
	// OnState, if set, is called on every state change with the cause
	// (nil for StateRegistered). It must not block.
	OnState func(s State, cause error)
	// Uptime is the sysUpTime clock of notifications, set from the
	// master's at each Open; share it with whatever serves TimeStamp
	// objects. NewUptime() when nil.
	Uptime *Uptime
}

// Agent is an AgentX subagent. Create it with New and start it with Run.
type Agent struct {
	cfg     Config
	network string
	addr    string
	log     *slog.Logger

	mu   sync.Mutex // guards sess
	sess *session

	// regMu orders changes to the registered contexts with the
	// registrations a new session makes, so none is lost between them.
	regMu sync.Mutex
	// contexts are the named contexts and their sources, replaced whole
	// on each change so that a request reads them without a lock.
	contexts atomic.Pointer[map[string]ViewSource]
}

// ParseAddress converts an agentXSocket address into the network and
// address net.Dial expects.
func ParseAddress(s string) (network, addr string, err error) {
	switch {
	case s == "":
		return "unix", DefaultAddress, nil
	case strings.HasPrefix(s, "/"):
		return "unix", s, nil
	case strings.HasPrefix(s, "unix:"):
		if p := strings.TrimPrefix(s, "unix:"); p != "" {
			return "unix", p, nil
		}
	case strings.HasPrefix(s, "tcp:"):
		hp := strings.TrimPrefix(s, "tcp:")
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			return "", "", fmt.Errorf("agentx address %q: %w", s, err)
		}
		if host == "" {
			host = "localhost"
		}
		if port == "" {
			return "", "", fmt.Errorf("agentx address %q: missing port", s)
		}
		return "tcp", net.JoinHostPort(host, port), nil
	}
	return "", "", fmt.Errorf("agentx address %q: want /path, unix:/path or tcp:host:port", s)
}

// New validates cfg and returns an Agent.
func New(cfg Config) (*Agent, error) {
	network, addr, err := ParseAddress(cfg.Address)
	if err != nil {
		return nil, err
	}
	if len(cfg.Subtree) == 0 {
		return nil, errors.New("agent config: Subtree is required")
	}
	if len(cfg.Subtree) > 128 {
		return nil, errors.New("agent config: Subtree has more than 128 sub-identifiers")
	}
	if cfg.Priority == 0 {
		cfg.Priority = DefaultPriority
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Timeout < time.Second || cfg.Timeout > 255*time.Second {
		return nil, fmt.Errorf("agent config: Timeout %v outside 1s..255s", cfg.Timeout)
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = DefaultBackoffMin
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = DefaultBackoffMax
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		return nil, fmt.Errorf("agent config: BackoffMax %v below BackoffMin %v", cfg.BackoffMax, cfg.BackoffMin)
	}
	if cfg.Uptime == nil {
		cfg.Uptime = NewUptime()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Agent{cfg: cfg, network: network, addr: addr, log: log}
	a.contexts.Store(&map[string]ViewSource{})
	return a, nil
}

// MaxContextName is the longest context name: SNMPv3's contextName is at
// most 32 octets (RFC 3411 SnmpAdminString (SIZE(0..32))).
const MaxContextName = 32

// AddContext serves the subtree from src in the SNMP context name as well,
// registering it with the master now if a session is open and in every
// session after. Adding a name again replaces its source. The error says
// why the master refused the registration; the context stays added and is
// registered again with the next session.
func (a *Agent) AddContext(ctx context.Context, name string, src ViewSource) error {
	if name == "" || len(name) > MaxContextName {
		return fmt.Errorf("context %q: want a name of 1 to %d octets", name, MaxContextName)
	}
	if src == nil {
		return fmt.Errorf("context %q: no source", name)
	}
	a.regMu.Lock()
	defer a.regMu.Unlock()
	m := maps.Clone(*a.contexts.Load())
	_, had := m[name]
	m[name] = src
	a.contexts.Store(&m)
	if s := a.session(); s != nil && !had {
		if err := s.register(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// RemoveContext stops serving the context name and unregisters it from the
// master if a session is open. Removing a name that is not served does
// nothing.
func (a *Agent) RemoveContext(ctx context.Context, name string) error {
	a.regMu.Lock()
	defer a.regMu.Unlock()
	m := maps.Clone(*a.contexts.Load())
	if _, ok := m[name]; !ok {
		return nil
	}
	delete(m, name)
	a.contexts.Store(&m)
	if s := a.session(); s != nil {
		return s.unregister(ctx, name)
	}
	return nil
}

// Contexts returns the names of the contexts added, sorted.
func (a *Agent) Contexts() []string {
	m := *a.contexts.Load()
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// source returns the source of a request's context; nil when the context
// is not served.
func (a *Agent) source(hasContext bool, name []byte) ViewSource {
	if !hasContext {
		return a.cfg.Source
	}
	return (*a.contexts.Load())[string(name)]
}

func (a *Agent) session() *session {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sess
}

// Run connects to the master, opens a session, registers the subtree and
// serves requests until ctx is done. Any failure (master gone, timeout,
// refused Open or Register) leads to a new connection after a capped
// exponential backoff. When ctx is done Run unregisters, closes the
// session with reason shutdown and returns nil. Run must not be called
// concurrently.
func (a *Agent) Run(ctx context.Context) error {
	delay := a.cfg.BackoffMin
	everUp, reported := false, false
	for {
		s, err := a.connect(ctx)
		if err == nil {
			if everUp {
				a.log.Info("agentx session re-established", "master", a.addr)
			} else {
				a.log.Info("agentx session registered", "master", a.addr, "subtree", a.cfg.Subtree.String())
			}
			a.notify(StateRegistered, nil)
			everUp, reported = true, false
			delay = a.cfg.BackoffMin
			err = s.serve(ctx, a.cfg.PingInterval)
			a.setSession(nil)
			if ctx.Err() != nil {
				s.shutdown()
				a.log.Info("agentx session closed", "master", a.addr)
				return nil
			}
			a.log.Warn("agentx master lost", "master", a.addr, "reason", err)
			a.notify(StateLost, err)
			reported = true
		} else if ctx.Err() != nil {
			return nil
		} else if !reported {
			a.log.Warn("agentx master unreachable, retrying", "master", a.addr, "reason", err)
			a.notify(StateUnreachable, err)
			reported = true
		} else {
			a.log.Debug("agentx connect failed", "master", a.addr, "reason", err)
		}
		// Jitter in [delay/2, delay] keeps many subagents from reconnecting
		// in lockstep after a master restart.
		wait := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		delay = min(delay*2, a.cfg.BackoffMax)
	}
}

func (a *Agent) notify(s State, cause error) {
	if a.cfg.OnState != nil {
		a.cfg.OnState(s, cause)
	}
}

func (a *Agent) setSession(s *session) {
	a.mu.Lock()
	a.sess = s
	a.mu.Unlock()
}

// connect dials the master, opens a session, registers the subtree in
// every context and makes the session the agent's.
func (a *Agent) connect(ctx context.Context) (*session, error) {
	d := net.Dialer{Timeout: a.cfg.Timeout}
	conn, err := d.DialContext(ctx, a.network, a.addr)
	if err != nil {
		return nil, fmt.Errorf("connect to master: %w", err)
	}
	pc, err := newPollConn(conn, a.cfg.Timeout)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("connect to master: %w", err)
	}
	s := newSession(a, pc)
	go s.readLoop()
	a.regMu.Lock()
	defer a.regMu.Unlock()
	if err := s.open(ctx); err != nil {
		s.close(err)
		return nil, err
	}
	a.setSession(s)
	return s, nil
}

// errNotConnected is returned by sendNotify while no session is registered.
var errNotConnected = errors.New("agentx: not connected to the master")

// Well-known OIDs RFC 2741 section 6.2.10 requires at the head of a Notify.
var (
	sysUpTimeOID   = agentx.OID{1, 3, 6, 1, 2, 1, 1, 3, 0}
	snmpTrapOIDOID = agentx.OID{1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0}
)

// sendNotify sends a notification through the master, in the context
// contextName ("" for the default): sysUpTime.0 (the master's, see Uptime)
// and snmpTrapOID.0 (= trap) first, as RFC 2741 section 6.2.10 requires,
// then vbs. It waits for the master's response. A Notifier is what sends
// through it.
func (a *Agent) sendNotify(ctx context.Context, contextName string, trap agentx.OID, vbs []agentx.VarBind) error {
	s := a.session()
	if s == nil {
		return errNotConnected
	}
	all := make([]agentx.VarBind, 0, len(vbs)+2)
	all = append(all,
		agentx.VarBind{Name: sysUpTimeOID, Type: agentx.TimeTicks, Uint: uint64(a.cfg.Uptime.At(time.Now()))},
		agentx.VarBind{Name: snmpTrapOIDOID, Type: agentx.ObjectIdentifier, OID: trap})
	all = append(all, vbs...)
	if _, err := s.callOK(ctx, contextName, &agentx.Notify{VarBinds: all}); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}
