package ipvslive

import (
	"slices"
	"sync"

	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// maxNumber is the highest lvsServiceNumber / lvsRealServerNumber.
const maxNumber = 65535

// Indexes is the mib.Numbers of one context: it hands out stable lvsServiceNumber values per service and
// lvsRealServerNumber values per (service, real server). An identity keeps
// its number while it exists and gets it back when it reappears; a number
// goes to a different identity only once 1..65535 are all used, and then
// the one unused longest is recycled. New identities seen together are
// numbered in key order, so a configuration numbers the same way on every
// fresh start. Indexes is safe for concurrent use.
type Indexes struct {
	mu    sync.Mutex
	store *IndexStore // the state file it is saved in, nil for none
	gen   uint64      // refresh generation: a slot's lastSeen is the last gen it was present in
	svcs  numbering[ipvsstats.ServiceKey]
	reals map[ipvsstats.ServiceKey]*numbering[ipvsstats.DestKey]
	dirty bool // numbers or presence changed since the last successful Save
}

// numbering is one number space: the services, or one service's real
// servers.
type numbering[K comparable] struct {
	slots       map[K]slot
	next        uint32 // lowest number never handed out, up to maxNumber+1
	prevPresent int    // identities present in the previous pass
}

type slot struct {
	num      uint16
	lastSeen uint64
	// drained is the weight a real server had when a SET drained it, to
	// give back when one enables it again; 0 for none (services: always).
	drained int32
}

func newNumbering[K comparable]() *numbering[K] {
	return &numbering[K]{slots: make(map[K]slot), next: 1}
}

// NewIndexes returns an empty numbering that is not persisted.
func NewIndexes() *Indexes {
	return &Indexes{svcs: *newNumbering[ipvsstats.ServiceKey](),
		reals: make(map[ipvsstats.ServiceKey]*numbering[ipvsstats.DestKey])}
}

// pass numbers the keys of one refresh: known keys keep their slot, new
// ones are numbered in cmpKey order. It returns each key's number (0 when
// none is free; keys repeated within the pass get 0 after the first), and
// whether anything changed that the state file should record. recycled is
// called with a key whose number was taken away.
func (n *numbering[K]) pass(keys []K, gen uint64, cmpKey func(a, b K) int, recycled func(K)) (nums []uint16, changed bool) {
	nums = make([]uint16, len(keys))
	var fresh []int // positions of keys without a slot
	stillPresent := 0
	for i, k := range keys {
		s, ok := n.slots[k]
		switch {
		case !ok:
			fresh = append(fresh, i)
			continue
		case s.lastSeen == gen:
			continue // duplicate within this pass
		case s.lastSeen == gen-1:
			stillPresent++
		default:
			changed = true // reappeared
		}
		s.lastSeen = gen
		n.slots[k] = s
		nums[i] = s.num
	}
	if stillPresent < n.prevPresent {
		changed = true // something disappeared
	}
	slices.SortStableFunc(fresh, func(a, b int) int { return cmpKey(keys[a], keys[b]) })
	for _, i := range fresh {
		k := keys[i]
		if s, ok := n.slots[k]; ok && s.lastSeen == gen {
			continue // duplicate of a key numbered just before
		}
		num, ok := n.free(gen, recycled)
		if !ok {
			continue
		}
		n.slots[k] = slot{num: num, lastSeen: gen}
		nums[i] = num
		changed = true
	}
	n.prevPresent = 0
	for _, num := range nums {
		if num != 0 {
			n.prevPresent++
		}
	}
	return nums, changed
}

// free returns a number never handed out, else the number of the identity
// absent longest (forgetting it), else false.
func (n *numbering[K]) free(gen uint64, recycled func(K)) (uint16, bool) {
	if n.next <= maxNumber {
		n.next++
		return uint16(n.next - 1), true
	}
	var oldest K
	found := false
	var best slot
	for k, s := range n.slots {
		if s.lastSeen < gen && (!found || s.lastSeen < best.lastSeen || (s.lastSeen == best.lastSeen && s.num < best.num)) {
			oldest, best, found = k, s, true
		}
	}
	if !found {
		return 0, false
	}
	delete(n.slots, oldest)
	if recycled != nil {
		recycled(oldest)
	}
	return best.num, true
}

// Assign numbers the services and their real servers of one snapshot. It
// returns the service numbers in the order of its services and the real
// server numbers flattened in the same order (0: not numbered: all 65535
// numbers in use).
func (x *Indexes) Assign(snap *ipvsstats.Snapshot) (svcNums, destNums []uint16) {
	services := snap.Services
	x.mu.Lock()
	defer x.mu.Unlock()
	x.gen++
	keys := make([]ipvsstats.ServiceKey, len(services))
	for i := range services {
		keys[i] = services[i].ServiceKey
	}
	svcNums, changed := x.svcs.pass(keys, x.gen, ipvsstats.ServiceKey.Compare,
		func(k ipvsstats.ServiceKey) { delete(x.reals, k) })
	x.dirty = x.dirty || changed

	destNums = make([]uint16, 0, snap.NumDests())
	var dkeys []ipvsstats.DestKey
	for i := range services {
		s := &services[i]
		if svcNums[i] == 0 {
			destNums = append(destNums, make([]uint16, len(s.Dests))...)
			continue
		}
		dkeys = dkeys[:0]
		for j := range s.Dests {
			dkeys = append(dkeys, s.Dests[j].DestKey)
		}
		rn := x.reals[s.ServiceKey]
		if rn == nil {
			rn = newNumbering[ipvsstats.DestKey]()
			x.reals[s.ServiceKey] = rn
		}
		nums, changed := rn.pass(dkeys, x.gen, ipvsstats.DestKey.Compare, nil)
		x.dirty = x.dirty || changed
		destNums = append(destNums, nums...)
	}
	return svcNums, destNums
}

// Lookup returns the number of service k and, when d is not nil, that of
// its real server d: the numbers they have, or had when last seen (a
// number is kept until it is recycled); 0 for none.
func (x *Indexes) Lookup(k ipvsstats.ServiceKey, d *ipvsstats.DestKey) (svcNum, destNum uint16) {
	x.mu.Lock()
	defer x.mu.Unlock()
	svcNum = x.svcs.slots[k].num
	if rn := x.reals[k]; rn != nil && d != nil {
		destNum = rn.slots[*d].num
	}
	return svcNum, destNum
}

// DrainedWeight returns the weight real server d of service k had when it
// was drained by a SET (see SetDrainedWeight); 0 when none is remembered.
func (x *Indexes) DrainedWeight(k ipvsstats.ServiceKey, d ipvsstats.DestKey) int32 {
	x.mu.Lock()
	defer x.mu.Unlock()
	if rn := x.reals[k]; rn != nil {
		return rn.slots[d].drained
	}
	return 0
}

// SetDrainedWeight remembers w as the weight of real server d of service k
// before it was drained (0 forgets it), for the state file's next Save. It
// reports false when d has no number, so nothing can be remembered.
func (x *Indexes) SetDrainedWeight(k ipvsstats.ServiceKey, d ipvsstats.DestKey, w int32) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	rn := x.reals[k]
	if rn == nil {
		return false
	}
	sl, ok := rn.slots[d]
	if !ok {
		return false
	}
	if sl.drained != w {
		sl.drained = w
		rn.slots[d] = sl
		x.dirty = true
	}
	return true
}
