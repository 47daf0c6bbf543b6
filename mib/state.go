package mib

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

	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// stateVersion is the version of the state file format.
const stateVersion = 1

// stateFile is the JSON form of Indexes.
type stateFile struct {
	Version     int            `json:"version"`
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
}

// OpenIndexes returns Indexes persisted in the state file at path. When the
// file is missing the numbering starts empty and the error is nil; when it
// cannot be read or is corrupt the numbering starts empty too and the error
// says why, for the caller to log as a warning. Either way the Indexes are
// usable.
func OpenIndexes(path string) (*Indexes, error) {
	x, err := loadIndexes(path)
	x.path = path
	if errors.Is(err, errCorrupt) {
		// Keep the corrupt file for inspection instead of overwriting it
		// at the first Save.
		aside := path + ".corrupt"
		if rerr := os.Rename(path, aside); rerr != nil {
			return x, fmt.Errorf("%w (and could not move it aside: %v)", err, rerr)
		}
		return x, fmt.Errorf("%w (moved to %s)", err, aside)
	}
	return x, err
}

// OpenIndexesReadOnly is OpenIndexes for a reader that must not change the
// file, such as "lvs-agentx dump" next to a running agent: Save on the
// result does nothing.
func OpenIndexesReadOnly(path string) (*Indexes, error) {
	return loadIndexes(path)
}

var errCorrupt = errors.New("corrupt index state")

// loadIndexes reads the state file at path; the Indexes are usable even
// with an error. A new or replaced file is marked to be written at the
// first Save.
func loadIndexes(path string) (*Indexes, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		x := NewIndexes()
		x.dirty = true
		return x, nil
	}
	if err != nil {
		x := NewIndexes()
		return x, fmt.Errorf("read index state: %w", err)
	}
	loaded, err := decodeState(data)
	if err != nil {
		x := NewIndexes()
		x.dirty = true
		return x, fmt.Errorf("%w %s: %w", errCorrupt, path, err)
	}
	return loaded, nil
}

// decodeState parses and validates a state file.
func decodeState(data []byte) (*Indexes, error) {
	var st stateFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("unsupported version %d", st.Version)
	}
	x := NewIndexes()
	x.gen = st.Generation
	var err error
	if x.svcs.next, err = checkNext(st.NextService); err != nil {
		return nil, fmt.Errorf("next_service: %w", err)
	}
	used := make(map[uint16]bool, len(st.Services))
	for i, s := range st.Services {
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
			rn.slots[dk] = slot{num: r.Number, lastSeen: r.LastSeen}
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

// encode returns the state file contents, sorted by number so that the
// same state always gives the same bytes.
func (x *Indexes) encode() ([]byte, error) {
	st := stateFile{Version: stateVersion, Generation: x.gen, NextService: x.svcs.next,
		Services: make([]stateService, 0, len(x.svcs.slots))}
	for k, s := range x.svcs.slots {
		ss := stateService{Family: k.Family, Protocol: k.Protocol, Addr: k.Addr, Port: k.Port, FWMark: k.FWMark,
			Number: s.num, LastSeen: s.lastSeen, NextReal: 1, Reals: []stateReal{}}
		if rn := x.reals[k]; rn != nil {
			ss.NextReal = rn.next
			for dk, r := range rn.slots {
				ss.Reals = append(ss.Reals, stateReal{Addr: dk.Addr, Port: dk.Port, Number: r.num, LastSeen: r.lastSeen})
			}
			slices.SortFunc(ss.Reals, func(a, b stateReal) int { return int(a.Number) - int(b.Number) })
		}
		st.Services = append(st.Services, ss)
	}
	slices.SortFunc(st.Services, func(a, b stateService) int { return int(a.Number) - int(b.Number) })
	data, err := json.Marshal(&st)
	if err != nil {
		return nil, fmt.Errorf("encode index state: %w", err)
	}
	return append(data, '\n'), nil
}

// Save writes the state file if the numbering changed since the last
// successful Save. It writes a temporary file, syncs it and renames it over
// the old one, so a crash leaves either the old or the new state. A failed
// Save is retried by the next one; the agent keeps serving either way.
func (x *Indexes) Save() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.path == "" || !x.dirty {
		return nil
	}
	data, err := x.encode()
	if err != nil {
		return err
	}
	if err := writeAtomic(x.path, data); err != nil {
		return fmt.Errorf("save index state: %w", err)
	}
	x.dirty = false
	return nil
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
