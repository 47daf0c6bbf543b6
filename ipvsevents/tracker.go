package ipvsevents

import (
	"github.com/lvs-agentx/lvs-agentx/ipvsproc"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// Event is one change between two reads of IPVS. Service, Dest and Daemon
// point into the snapshot that holds what changed: the new one, or the
// previous one for what was removed or stopped. Snapshots are immutable, so
// an event stays valid as long as it is kept.
type Event struct {
	Kind    Kind
	Service *ipvsstats.Service // service and real server events
	Dest    *ipvsstats.Dest    // real server events
	Daemon  *ipvsstats.Daemon  // sync daemon events
	// Setting is the setting as now for setting, defense and estimation
	// events, and Old as before.
	Setting, Old *ipvsproc.Setting
}

// realID identifies a real server across snapshots.
type realID struct {
	svc  ipvsstats.ServiceKey
	dest ipvsstats.DestKey
}

// Tracker compares each read of IPVS with the one before. It remembers the
// last successful read, so that when IPVS is readable again after failed
// reads the differences are those to the last state known, and which real
// servers are overloaded, because IPVS's overload state depends on the
// path the connection count took, not only on its value. The first read
// is the baseline and gives no events. A Tracker is not safe for
// concurrent use.
type Tracker struct {
	seen       bool                                        // a read has been compared
	readable   bool                                        // the last read succeeded
	last       *ipvsstats.Snapshot                         // the last successful read
	services   map[ipvsstats.ServiceKey]*ipvsstats.Service // last's services by key
	overloaded map[realID]bool                             // real servers IPVS counts as overloaded; only true entries
	settings   []ipvsproc.Setting                          // the last settings read, sorted by name; nil before
}

// Compare returns the changes from the previous read to snap, which is nil
// for a read that failed. Events come in this order: IPVS readability,
// sync daemons, removed services, then each service of snap in its order
// with what happened to it (added, or its real servers' changes followed
// by the service becoming down or up).
//
// Real servers of a service added or removed as a whole give no events of
// their own: the service's event stands for them.
func (t *Tracker) Compare(snap *ipvsstats.Snapshot) []Event {
	var evs []Event
	if snap == nil {
		if t.seen && t.readable {
			evs = append(evs, Event{Kind: IPVSUnreadable})
		}
		t.seen, t.readable = true, false
		return evs
	}
	if t.seen && !t.readable {
		evs = append(evs, Event{Kind: IPVSReadable})
	}
	services := make(map[ipvsstats.ServiceKey]*ipvsstats.Service, len(snap.Services))
	for i := range snap.Services {
		services[snap.Services[i].ServiceKey] = &snap.Services[i]
	}
	if t.last == nil {
		t.overloaded = make(map[realID]bool)
		for i := range snap.Services {
			t.baseline(&snap.Services[i])
		}
	} else {
		evs = t.diff(snap, services, evs)
	}
	t.seen, t.readable, t.last, t.services = true, true, snap, services
	return evs
}

// diff appends the changes from t.last to snap.
func (t *Tracker) diff(snap *ipvsstats.Snapshot, services map[ipvsstats.ServiceKey]*ipvsstats.Service, evs []Event) []Event {
	evs = diffDaemons(t.last.Daemons, snap.Daemons, evs)
	for i := range t.last.Services {
		old := &t.last.Services[i]
		if services[old.ServiceKey] == nil {
			evs = append(evs, Event{Kind: ServiceRemoved, Service: old})
			for j := range old.Dests {
				delete(t.overloaded, realID{old.ServiceKey, old.Dests[j].DestKey})
			}
		}
	}
	for i := range snap.Services {
		cur := &snap.Services[i]
		old := t.services[cur.ServiceKey]
		if old == nil {
			evs = append(evs, Event{Kind: ServiceAdded, Service: cur})
			t.baseline(cur)
			continue
		}
		evs = t.diffService(old, cur, evs)
	}
	return evs
}

// baseline records which real servers of a service seen for the first
// time are overloaded, without events.
func (t *Tracker) baseline(s *ipvsstats.Service) {
	for j := range s.Dests {
		d := &s.Dests[j]
		if overloaded(false, nil, d) {
			t.overloaded[realID{s.ServiceKey, d.DestKey}] = true
		}
	}
}

// diffService appends the changes of a service present in both reads.
func (t *Tracker) diffService(old, cur *ipvsstats.Service, evs []Event) []Event {
	oldDests := pairDests(old, cur)
	if oldDests == nil { // the real servers are not the same ones in the same order
		byKey := make(map[ipvsstats.DestKey]*ipvsstats.Dest, len(old.Dests))
		for j := range old.Dests {
			byKey[old.Dests[j].DestKey] = &old.Dests[j]
		}
		curKeys := make(map[ipvsstats.DestKey]bool, len(cur.Dests))
		for j := range cur.Dests {
			curKeys[cur.Dests[j].DestKey] = true
		}
		for j := range old.Dests {
			if d := &old.Dests[j]; !curKeys[d.DestKey] {
				evs = append(evs, Event{Kind: RealRemoved, Service: old, Dest: d})
				delete(t.overloaded, realID{old.ServiceKey, d.DestKey})
			}
		}
		oldDests = make([]*ipvsstats.Dest, len(cur.Dests))
		for j := range cur.Dests {
			oldDests[j] = byKey[cur.Dests[j].DestKey]
		}
	}
	for j := range cur.Dests {
		d, od := &cur.Dests[j], oldDests[j]
		switch {
		case od == nil:
			evs = append(evs, Event{Kind: RealAdded, Service: cur, Dest: d})
		case od.Weight > 0 && d.Weight <= 0:
			evs = append(evs, Event{Kind: RealQuiesced, Service: cur, Dest: d})
		case od.Weight <= 0 && d.Weight > 0:
			evs = append(evs, Event{Kind: RealResumed, Service: cur, Dest: d})
		}
		id := realID{cur.ServiceKey, d.DestKey}
		was := t.overloaded[id]
		now := overloaded(was, od, d)
		switch {
		case now && !was:
			t.overloaded[id] = true
			evs = append(evs, Event{Kind: RealOverloaded, Service: cur, Dest: d})
		case was && !now:
			delete(t.overloaded, id)
			evs = append(evs, Event{Kind: RealOverloadCleared, Service: cur, Dest: d})
		}
	}
	switch wasUp, isUp := usable(old), usable(cur); {
	case wasUp && !isUp:
		evs = append(evs, Event{Kind: ServiceDown, Service: cur})
	case !wasUp && isUp:
		evs = append(evs, Event{Kind: ServiceUp, Service: cur})
	}
	return evs
}

// pairDests returns old's real servers matching cur's one by one when both
// list the same real servers in the same order, as the kernel does while
// nothing is added or removed; nil otherwise.
func pairDests(old, cur *ipvsstats.Service) []*ipvsstats.Dest {
	if len(old.Dests) != len(cur.Dests) {
		return nil
	}
	pairs := make([]*ipvsstats.Dest, len(cur.Dests))
	for j := range cur.Dests {
		if old.Dests[j].DestKey != cur.Dests[j].DestKey {
			return nil
		}
		pairs[j] = &old.Dests[j]
	}
	return pairs
}

// usable reports whether a service has a real server that takes new
// connections (weight above 0).
func usable(s *ipvsstats.Service) bool {
	for j := range s.Dests {
		if s.Dests[j].Weight > 0 {
			return true
		}
	}
	return false
}

// overloaded is IPVS's overload state of d, given the state was before
// and the previous read of the real server (nil when it is new). The
// kernel sets the state when a new connection brings active plus inactive
// connections to the upper threshold (when it is set) and clears it when
// a connection's end brings them below the lower threshold (when set;
// else below three quarters of the upper one); lowering no threshold but
// raising or removing the upper one clears it at once. The agent sees
// only samples of the count, so it applies these rules to each read.
func overloaded(was bool, old, d *ipvsstats.Dest) bool {
	if was && old != nil && (d.UpperThreshold == 0 || d.UpperThreshold > old.UpperThreshold) {
		was = false
	}
	conns := uint64(d.ActiveConns) + uint64(d.InactiveConns)
	upper, lower := uint64(d.UpperThreshold), uint64(d.LowerThreshold)
	if upper != 0 && conns >= upper {
		return true
	}
	if !was {
		return false
	}
	switch {
	case lower != 0:
		return conns >= lower
	case upper != 0:
		return conns*4 >= upper*3
	}
	return false
}

// diffDaemons appends the sync daemons that stopped and started. A daemon
// whose settings changed (a restart with another interface or sync ID)
// counts as stopped and started.
func diffDaemons(old, cur []ipvsstats.Daemon, evs []Event) []Event {
	for _, role := range []ipvsstats.DaemonState{ipvsstats.DaemonMaster, ipvsstats.DaemonBackup} {
		o, c := daemon(old, role), daemon(cur, role)
		if o != nil && c != nil && *o == *c {
			continue
		}
		if o != nil {
			evs = append(evs, Event{Kind: DaemonStopped, Daemon: o})
		}
		if c != nil {
			evs = append(evs, Event{Kind: DaemonStarted, Daemon: c})
		}
	}
	return evs
}

func daemon(ds []ipvsstats.Daemon, role ipvsstats.DaemonState) *ipvsstats.Daemon {
	for i := range ds {
		if ds[i].State == role {
			return &ds[i]
		}
	}
	return nil
}
