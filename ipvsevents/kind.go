package ipvsevents

import (
	"fmt"
	"strings"
)

// Kind is what changed.
type Kind uint8

// The kinds of change.
const (
	IPVSUnreadable      Kind = iota + 1 // a read failed after one succeeded
	IPVSReadable                        // a read succeeded after one failed
	DaemonStarted                       // a sync daemon runs (or runs with other settings)
	DaemonStopped                       // a sync daemon no longer runs (as it did)
	ServiceAdded                        // a virtual service appeared
	ServiceRemoved                      // a virtual service disappeared
	RealAdded                           // a real server appeared in a service
	RealRemoved                         // a real server disappeared from a service
	RealQuiesced                        // a real server's weight went from above 0 to 0
	RealResumed                         // a real server's weight went from 0 to above 0
	RealOverloaded                      // a real server reached its upper connection threshold
	RealOverloadCleared                 // an overloaded real server fell back below its lower threshold
	ServiceDown                         // a service lost its last real server with weight > 0
	ServiceUp                           // a service has a real server with weight > 0 again
	DefenseOn                           // drop_entry, drop_packet or secure_tcp began to act (automatic and active, or always)
	DefenseOff                          // such a defense stopped acting
	RatesStopped                        // the kernel stopped estimating rates (run_estimation 0)
	RatesResumed                        // it estimates them again
	SettingChanged                      // another IPVS sysctl changed value
	maxKind
)

var kindNames = [maxKind]string{
	IPVSUnreadable: "ipvs-unreadable", IPVSReadable: "ipvs-readable",
	DaemonStarted: "daemon-started", DaemonStopped: "daemon-stopped",
	ServiceAdded: "service-added", ServiceRemoved: "service-removed",
	RealAdded: "real-added", RealRemoved: "real-removed",
	RealQuiesced: "real-quiesced", RealResumed: "real-resumed",
	RealOverloaded: "real-overloaded", RealOverloadCleared: "real-overload-cleared",
	ServiceDown: "service-down", ServiceUp: "service-up",
	DefenseOn: "defense-on", DefenseOff: "defense-off",
	RatesStopped: "rates-stopped", RatesResumed: "rates-resumed",
	SettingChanged: "setting-changed",
}

func (k Kind) String() string {
	if k > 0 && k < maxKind {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Kinds is a set of kinds.
type Kinds uint32

// AllKinds holds every kind.
const AllKinds Kinds = 1<<maxKind - 2

// KindsOf returns the set of ks.
func KindsOf(ks ...Kind) Kinds {
	var s Kinds
	for _, k := range ks {
		s |= 1 << k
	}
	return s
}

// Has reports whether k is in s.
func (s Kinds) Has(k Kind) bool { return s&(1<<k) != 0 }

// groups name the sets ParseKinds accepts: each a change and its reverse.
var groups = []struct {
	name  string
	kinds Kinds
}{
	{"ipvs", KindsOf(IPVSUnreadable, IPVSReadable)},
	{"services", KindsOf(ServiceAdded, ServiceRemoved)},
	{"availability", KindsOf(ServiceDown, ServiceUp)},
	{"reals", KindsOf(RealAdded, RealRemoved)},
	{"weights", KindsOf(RealQuiesced, RealResumed)},
	{"thresholds", KindsOf(RealOverloaded, RealOverloadCleared)},
	{"sync", KindsOf(DaemonStarted, DaemonStopped)},
	{"defense", KindsOf(DefenseOn, DefenseOff)},
	{"estimation", KindsOf(RatesStopped, RatesResumed)},
	{"settings", KindsOf(SettingChanged)},
}

// GroupNames lists the names ParseKinds accepts besides "all" and "none".
func GroupNames() []string {
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.name
	}
	return names
}

// ParseKinds parses a comma-separated list of group names (ipvs, services,
// availability, reals, weights, thresholds, sync, defense, estimation,
// settings), or "all", or "none".
func ParseKinds(list string) (Kinds, error) {
	switch strings.TrimSpace(list) {
	case "all":
		return AllKinds, nil
	case "none", "":
		return 0, nil
	}
	var s Kinds
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, g := range groups {
			if g.name == name {
				s |= g.kinds
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown kind of change %q: want all, none, or a list of %s",
				name, strings.Join(GroupNames(), ", "))
		}
	}
	return s, nil
}

// String is the set as ParseKinds reads it.
func (s Kinds) String() string {
	switch s {
	case AllKinds:
		return "all"
	case 0:
		return "none"
	}
	var names []string
	for _, g := range groups {
		if s&g.kinds == g.kinds {
			names = append(names, g.name)
		}
	}
	return strings.Join(names, ",")
}
