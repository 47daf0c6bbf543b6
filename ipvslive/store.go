package ipvslive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// stateVersion is the version of the state file format. Version 1 held
// the default context's numbering only; it is still read, as that.
const stateVersion = 2

// stateFile is the JSON form of an IndexStore.
type stateFile struct {
	Version  int                     `json:"version"`
	Contexts map[string]stateIndexes `json:"contexts"`
}

// stateV1 is the file of version 1: one numbering at the top level.
type stateV1 struct {
	Version int `json:"version"`
	stateIndexes
}

// stateIndexes is the JSON form of one context's Indexes.
type stateIndexes struct {
	Generation  uint64         `json:"generation"`
	NextService uint32         `json:"next_service"`
	Services    []stateService `json:"services"`
}

type stateService struct {
	Family   ipvsstats.Family   `json:"family"`
	Protocol ipvsstats.Protocol `json:"protocol"`
	Addr     netip.Addr         `json:"addr"` // "" for fwmark services
	Port     uint16             `json:"port"`
	FWMark   uint32             `json:"fwmark"`
	Number   uint16             `json:"number"`
	LastSeen uint64             `json:"last_seen"`
	NextReal uint32             `json:"next_real"`
	Reals    []stateReal        `json:"reals"`
}

type stateReal struct {
	Addr     netip.Addr `json:"addr"`
	Port     uint16     `json:"port"`
	Number   uint16     `json:"number"`
	LastSeen uint64     `json:"last_seen"`
	// DrainedWeight is the weight to restore when a SET enables the real
	// server again. Omitted when none, so that a file without drained
	// real servers is what agents before maintenance by SET wrote, and
	// they still read it.
	DrainedWeight int32 `json:"drained_weight,omitempty"`
}

// IndexStore is the state file: the Indexes of every SNMP context the
// agent serves, by context name ("" for the default context), kept in one
// file so that a context that goes away and comes back, or an agent
// restart, finds its numbers again. It is safe for concurrent use.
type IndexStore struct {
	path  string // "" for a store that is never written
	mu    sync.Mutex
	sets  map[string]*Indexes
	dirty bool // the file must be written even if no numbering changed
}

// OpenIndexStore returns the store persisted in the state file at path.
// When the file is missing the store starts empty and the error is nil;
// when it cannot be read or is corrupt the store starts empty too and the
// error says why, for the caller to log as a warning (a corrupt file is
// moved aside to path.corrupt first). Either way the store is usable.
func OpenIndexStore(path string) (*IndexStore, error) {
	st, err := loadStore(path)
	st.path = path
	if errors.Is(err, errCorrupt) {
		// Keep the corrupt file for inspection instead of overwriting it
		// at the first Save.
		aside := path + ".corrupt"
		if rerr := os.Rename(path, aside); rerr != nil {
			return st, fmt.Errorf("%w (and could not move it aside: %v)", err, rerr)
		}
		return st, fmt.Errorf("%w (moved to %s)", err, aside)
	}
	return st, err
}

// OpenIndexStoreReadOnly is OpenIndexStore for a reader that must not
// change the file, such as "lvs-agentx dump" next to a running agent:
// Save does nothing.
func OpenIndexStoreReadOnly(path string) (*IndexStore, error) {
	return loadStore(path)
}

// Indexes returns the numbering of the context name, a fresh one if the
// store has none yet. Its Save saves the whole store.
func (st *IndexStore) Indexes(name string) *Indexes {
	st.mu.Lock()
	defer st.mu.Unlock()
	x := st.sets[name]
	if x == nil {
		x = NewIndexes()
		x.store = st
		st.sets[name] = x
	}
	return x
}

var errCorrupt = errors.New("corrupt index state")

// loadStore reads the state file at path; the store is usable even with
// an error. A new or replaced file is marked to be written at the first
// Save.
func loadStore(path string) (*IndexStore, error) {
	empty := &IndexStore{sets: make(map[string]*Indexes)}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		empty.dirty = true
		return empty, nil
	}
	if err != nil {
		return empty, fmt.Errorf("read index state: %w", err)
	}
	sets, err := decodeState(data)
	if err != nil {
		empty.dirty = true
		return empty, fmt.Errorf("%w %s: %w", errCorrupt, path, err)
	}
	st := &IndexStore{sets: sets}
	for _, x := range sets {
		x.store = st
	}
	return st, nil
}

// decodeState parses and validates a state file of either version.
func decodeState(data []byte) (map[string]*Indexes, error) {
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	var contexts map[string]stateIndexes
	switch head.Version {
	case 1:
		var v1 stateV1
		if err := decodeStrict(data, &v1); err != nil {
			return nil, err
		}
		contexts = map[string]stateIndexes{"": v1.stateIndexes}
	case stateVersion:
		var st stateFile
		if err := decodeStrict(data, &st); err != nil {
			return nil, err
		}
		contexts = st.Contexts
	default:
		return nil, fmt.Errorf("unsupported version %d", head.Version)
	}
	sets := make(map[string]*Indexes, len(contexts))
	for name, si := range contexts {
		x, err := si.indexes()
		if err != nil {
			if name != "" || head.Version != 1 {
				err = fmt.Errorf("context %q: %w", name, err)
			}
			return nil, err
		}
		sets[name] = x
	}
	return sets, nil
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// indexes validates one context's numbering and returns it.
func (si *stateIndexes) indexes() (*Indexes, error) {
	x := NewIndexes()
	x.gen = si.Generation
	var err error
	if x.svcs.next, err = checkNext(si.NextService); err != nil {
		return nil, fmt.Errorf("next_service: %w", err)
	}
	used := make(map[uint16]bool, len(si.Services))
	for i, s := range si.Services {
		k := ipvsstats.ServiceKey{Family: s.Family, Protocol: s.Protocol, Addr: s.Addr, Port: s.Port, FWMark: s.FWMark}
		if err := checkSlot(s.Number, s.LastSeen, x.gen, x.svcs.next, used); err != nil {
			return nil, fmt.Errorf("service %d: %w", i, err)
		}
		if _, dup := x.svcs.slots[k]; dup {
			return nil, fmt.Errorf("service %d: duplicate key", i)
		}
		x.svcs.slots[k] = slot{num: s.Number, lastSeen: s.LastSeen}
		if s.LastSeen == x.gen {
			x.svcs.prevPresent++
		}
		rn := newNumbering[ipvsstats.DestKey]()
		if rn.next, err = checkNext(s.NextReal); err != nil {
			return nil, fmt.Errorf("service %d: next_real: %w", i, err)
		}
		rused := make(map[uint16]bool, len(s.Reals))
		for j, r := range s.Reals {
			dk := ipvsstats.DestKey{Addr: r.Addr, Port: r.Port}
			if err := checkSlot(r.Number, r.LastSeen, x.gen, rn.next, rused); err != nil {
				return nil, fmt.Errorf("service %d real %d: %w", i, j, err)
			}
			if _, dup := rn.slots[dk]; dup {
				return nil, fmt.Errorf("service %d real %d: duplicate key", i, j)
			}
			if r.DrainedWeight < 0 {
				return nil, fmt.Errorf("service %d real %d: drained_weight %d below 0", i, j, r.DrainedWeight)
			}
			rn.slots[dk] = slot{num: r.Number, lastSeen: r.LastSeen, drained: r.DrainedWeight}
			if r.LastSeen == x.gen {
				rn.prevPresent++
			}
		}
		x.reals[k] = rn
	}
	return x, nil
}

func checkNext(next uint32) (uint32, error) {
	if next < 1 || next > maxNumber+1 {
		return 0, fmt.Errorf("%d out of range", next)
	}
	return next, nil
}

func checkSlot(num uint16, lastSeen, gen uint64, next uint32, used map[uint16]bool) error {
	switch {
	case num == 0 || uint32(num) >= next:
		return fmt.Errorf("number %d not handed out (next %d)", num, next)
	case used[num]:
		return fmt.Errorf("number %d used twice", num)
	case lastSeen > gen:
		return fmt.Errorf("last_seen %d after generation %d", lastSeen, gen)
	}
	used[num] = true
	return nil
}

// state returns the JSON form of x, sorted by number so that the same
// state always gives the same bytes. x.mu must be held.
func (x *Indexes) state() stateIndexes {
	si := stateIndexes{Generation: x.gen, NextService: x.svcs.next,
		Services: make([]stateService, 0, len(x.svcs.slots))}
	for k, s := range x.svcs.slots {
		ss := stateService{Family: k.Family, Protocol: k.Protocol, Addr: k.Addr, Port: k.Port, FWMark: k.FWMark,
			Number: s.num, LastSeen: s.lastSeen, NextReal: 1, Reals: []stateReal{}}
		if rn := x.reals[k]; rn != nil {
			ss.NextReal = rn.next
			for dk, r := range rn.slots {
				ss.Reals = append(ss.Reals, stateReal{Addr: dk.Addr, Port: dk.Port, Number: r.num, LastSeen: r.lastSeen,
					DrainedWeight: r.drained})
			}
			slices.SortFunc(ss.Reals, func(a, b stateReal) int { return int(a.Number) - int(b.Number) })
		}
		si.Services = append(si.Services, ss)
	}
	slices.SortFunc(si.Services, func(a, b stateService) int { return int(a.Number) - int(b.Number) })
	return si
}

// Save writes the state file if a numbering changed since the last
// successful Save. It writes a temporary file, syncs it and renames it over
// the old one, so a crash leaves either the old or the new state. A failed
// Save is retried by the next one; the agent keeps serving either way.
func (st *IndexStore) Save() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.path == "" {
		return nil
	}
	// Every numbering is held still while the file is written, so that
	// none is marked saved with changes the file does not have.
	names := make([]string, 0, len(st.sets))
	for name := range st.sets {
		names = append(names, name)
	}
	slices.Sort(names)
	dirty := st.dirty
	for _, name := range names {
		x := st.sets[name]
		x.mu.Lock()
		defer x.mu.Unlock()
		dirty = dirty || x.dirty
	}
	if !dirty {
		return nil
	}
	sf := stateFile{Version: stateVersion, Contexts: make(map[string]stateIndexes, len(names))}
	for _, name := range names {
		// A context that never had a service has nothing to remember:
		// namespaces without IPVS (most of a container host's) leave
		// no trace in the file.
		if x := st.sets[name]; len(x.svcs.slots) > 0 || name == "" {
			sf.Contexts[name] = x.state()
		}
	}
	data, err := json.Marshal(&sf)
	if err != nil {
		return fmt.Errorf("encode index state: %w", err)
	}
	if err := writeAtomic(st.path, append(data, '\n')); err != nil {
		return fmt.Errorf("save index state: %w", err)
	}
	st.dirty = false
	for _, name := range names {
		st.sets[name].dirty = false
	}
	return nil
}

// Save saves the store x belongs to (see IndexStore.Save); Indexes from
// NewIndexes are not persisted and Save does nothing.
func (x *Indexes) Save() error {
	if x.store == nil {
		return nil
	}
	return x.store.Save()
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	// Make the rename itself durable; a directory that cannot be synced
	// (some file systems) still has the new file.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
