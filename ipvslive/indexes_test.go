package ipvslive

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/internal/fixture"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// numbersOf maps each service name (and "svc/real" for real servers) to
// the numbers idx gives them in snap, leaving out what it leaves
// unnumbered, as a view does.
func numbersOf(t *testing.T, snap *ipvsstats.Snapshot, idx *Indexes) map[string]string {
	t.Helper()
	svcNums, destNums := idx.Assign(snap)
	got := map[string]string{}
	d := 0
	for i, svc := range snap.Services {
		if svcNums[i] != 0 {
			got[svc.Label()] = itoa(svcNums[i])
		}
		for _, dest := range svc.Dests {
			if svcNums[i] != 0 && destNums[d] != 0 {
				got[svc.Label()+"/"+dest.Label()] = itoa(svcNums[i]) + "." + itoa(destNums[d])
			}
			d++
		}
	}
	return got
}

func itoa(n uint16) string { return strconv.Itoa(int(n)) }

func without(snap *ipvsstats.Snapshot, name string) *ipvsstats.Snapshot {
	snap.Services = slices.DeleteFunc(snap.Services, func(s ipvsstats.Service) bool {
		return s.Label() == name
	})
	return snap
}

func TestIndexesDeterministic(t *testing.T) {
	a := numbersOf(t, fixture.Snapshot(), NewIndexes())
	snap := fixture.Snapshot()
	slices.Reverse(snap.Services)
	for i := range snap.Services {
		slices.Reverse(snap.Services[i].Dests)
	}
	b := numbersOf(t, snap, NewIndexes())
	if len(a) != 6+8 {
		t.Fatalf("numbered %d objects, want 14: %v", len(a), a)
	}
	for k, n := range a {
		if b[k] != n {
			t.Errorf("%s numbered %s and %s depending on kernel order", k, n, b[k])
		}
	}
	if a["FWM 7"] != "1" || a["TCP [fd00::1]:443"] != "6" || a["TCP 10.99.0.1:80/127.0.0.1:8080"] != "2.3" {
		t.Errorf("numbers not in key order: %v", a)
	}
}

func TestIndexesStable(t *testing.T) {
	idx := NewIndexes()
	before := numbersOf(t, fixture.Snapshot(), idx)

	// Delete a service in the middle and a real server: nothing renumbers.
	snap := without(fixture.Snapshot(), "UDP 10.99.0.2:53")
	snap.Services[1].Dests = snap.Services[1].Dests[1:] // drop 127.0.0.1:8080 of TCP 10.99.0.1:80
	mid := numbersOf(t, snap, idx)
	for k, n := range mid {
		if before[k] != n {
			t.Errorf("after deletes %s is %s, was %s", k, n, before[k])
		}
	}
	if _, ok := mid["UDP 10.99.0.2:53"]; ok {
		t.Error("deleted service still numbered")
	}

	// A new service gets a fresh number, not the deleted one's.
	snap = fixture.Snapshot()
	snap.Services = append(snap.Services, ipvsstats.Service{ServiceKey: ipvsstats.ServiceKey{
		Family: ipvsstats.FamilyIPv4, Protocol: ipvsstats.ProtoTCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 1}})
	snap = without(snap, "UDP 10.99.0.2:53")
	if got := numbersOf(t, snap, idx)["TCP 10.0.0.1:1"]; got != "7" {
		t.Errorf("new service numbered %s, want 7", got)
	}

	// Re-created service and real server get their old numbers back.
	after := numbersOf(t, fixture.Snapshot(), idx)
	for k, n := range before {
		if after[k] != n {
			t.Errorf("after re-creation %s is %s, was %s", k, after[k], n)
		}
	}
}

func TestIndexesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "state.json")
	idx, err := openIndexes(path)
	if err != nil {
		t.Fatalf("missing state file: %v", err)
	}
	snap := without(fixture.Snapshot(), "TCP 10.99.0.1:80")
	numbersOf(t, fixture.Snapshot(), idx)
	before := numbersOf(t, snap, idx) // TCP 10.99.0.1:80 now absent but remembered
	if err := idx.Save(); err != nil {
		t.Fatal(err)
	}

	idx2, err := openIndexes(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	// Present services come back in a different kernel order.
	slices.Reverse(snap.Services)
	after := numbersOf(t, snap, idx2)
	for k, n := range before {
		if after[k] != n {
			t.Errorf("after restart %s is %s, was %s", k, after[k], n)
		}
	}
	snap = fixture.Snapshot()
	snap.Services = append(snap.Services, ipvsstats.Service{ServiceKey: ipvsstats.ServiceKey{
		Family: ipvsstats.FamilyIPv4, FWMark: 1}})
	got := numbersOf(t, snap, idx2)
	if got["TCP 10.99.0.1:80"] != "2" || got["TCP 10.99.0.1:80/127.0.0.1:8080"] != "2.3" || got["FWM 1"] != "7" {
		t.Errorf("after restart: %v", got)
	}

	// Saving twice without changes writes nothing new; the file is valid JSON state.
	if err := idx2.Save(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeState(data); err != nil || !strings.HasPrefix(string(data), `{"version":2,"contexts":{"":{`) {
		t.Errorf("saved state does not decode: %v", err)
	}
}

// TestIndexStoreContexts checks that one state file keeps the numbering of
// every context apart, that a context's numbers survive a restart even
// while it is not served, and that a version 1 file (one numbering) is
// read as the default context's.
func TestIndexStoreContexts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	st, err := OpenIndexStore(path)
	if err != nil {
		t.Fatal(err)
	}
	// Two contexts see different tables: each numbers its own.
	a := numbersOf(t, fixture.Snapshot(), st.Indexes("tenant-a"))
	b := numbersOf(t, without(fixture.Snapshot(), "TCP 10.99.0.1:80"), st.Indexes("tenant-b"))
	if a["UDP 10.99.0.2:53"] != "3" || b["UDP 10.99.0.2:53"] != "2" {
		t.Fatalf("numbering per context: a %v, b %v", a, b)
	}
	numbersOf(t, &ipvsstats.Snapshot{}, st.Indexes("no-ipvs-here"))
	if err := st.Indexes("tenant-a").Save(); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(path); err != nil || strings.Contains(string(data), "no-ipvs-here") {
		t.Errorf("a context without services is in the state file (%v):\n%s", err, data)
	}

	st2, err := OpenIndexStore(path)
	if err != nil {
		t.Fatal(err)
	}
	// tenant-b comes back first, in a store where tenant-a is not served.
	if got := numbersOf(t, without(fixture.Snapshot(), "TCP 10.99.0.1:80"), st2.Indexes("tenant-b")); fmt.Sprint(got) != fmt.Sprint(b) {
		t.Errorf("tenant-b after restart %v, was %v", got, b)
	}
	if err := st2.Save(); err != nil {
		t.Fatal(err)
	}
	st3, err := OpenIndexStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := numbersOf(t, fixture.Snapshot(), st3.Indexes("tenant-a")); fmt.Sprint(got) != fmt.Sprint(a) {
		t.Errorf("tenant-a after two restarts %v, was %v", got, a)
	}

	// A version 1 file becomes the default context.
	v1 := filepath.Join(t.TempDir(), "v1.json")
	data, err := json.Marshal(stateV1{Version: 1, stateIndexes: st3.Indexes("tenant-b").state()})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(v1, data, 0o600); err != nil {
		t.Fatal(err)
	}
	old, err := OpenIndexStore(v1)
	if err != nil {
		t.Fatal(err)
	}
	if got := numbersOf(t, without(fixture.Snapshot(), "TCP 10.99.0.1:80"), old.Indexes("")); fmt.Sprint(got) != fmt.Sprint(b) {
		t.Errorf("version 1 state as the default context: %v, want %v", got, b)
	}
	if got := numbersOf(t, fixture.Snapshot(), old.Indexes("x")); fmt.Sprint(got) != fmt.Sprint(a) {
		t.Errorf("another context in a version 1 store: %v, want the fresh numbering %v", got, a)
	}
}

func TestIndexesBadStateFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
	}{
		{"garbage", "not json"},
		{"version", `{"version":3,"generation":1,"next_service":1,"services":[]}`},
		{"version 2 in the form of 1", `{"version":2,"generation":1,"next_service":1,"services":[]}`},
		{"bad context", `{"version":2,"contexts":{"a":{"generation":1,"next_service":0,"services":[]}}}`},
		{"number zero", `{"version":1,"generation":1,"next_service":2,"services":[{"number":0,"next_real":1}]}`},
		{"number not handed out", `{"version":1,"generation":1,"next_service":2,"services":[{"number":5,"next_real":1}]}`},
		{"duplicate number", `{"version":1,"generation":1,"next_service":9,"services":[{"fwmark":1,"number":5,"next_real":1},{"fwmark":2,"number":5,"next_real":1}]}`},
		{"duplicate key", `{"version":1,"generation":1,"next_service":9,"services":[{"fwmark":1,"number":5,"next_real":1},{"fwmark":1,"number":6,"next_real":1}]}`},
		{"next out of range", `{"version":1,"generation":1,"next_service":70000,"services":[]}`},
		{"last seen in the future", `{"version":1,"generation":1,"next_service":9,"services":[{"fwmark":1,"number":5,"last_seen":2,"next_real":1}]}`},
		{"bad address", `{"version":1,"generation":1,"next_service":9,"services":[{"addr":"10.0.0.300","number":5,"next_real":1}]}`},
		{"bad real", `{"version":1,"generation":1,"next_service":9,"services":[{"number":5,"next_real":2,"reals":[{"number":2}]}]}`},
		{"unknown field", `{"version":1,"generation":1,"next_service":1,"services":[],"x":1}`},
		{"drained weight below 0", `{"version":2,"contexts":{"":{"generation":1,"next_service":9,"services":[{"fwmark":1,"number":5,"next_real":2,"reals":[{"addr":"10.0.0.1","number":1,"drained_weight":-3}]}]}}}`},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
		if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		idx, err := openIndexes(path)
		if err == nil {
			t.Errorf("%s: no warning", tt.name)
		}
		if got := numbersOf(t, fixture.Snapshot(), idx); got["FWM 7"] != "1" {
			t.Errorf("%s: numbering after a corrupt file: %v", tt.name, got)
		}
		if kept, err := os.ReadFile(path + ".corrupt"); err != nil || string(kept) != tt.content {
			t.Errorf("%s: corrupt file not kept aside: %q, %v", tt.name, kept, err)
		}
		if err := idx.Save(); err != nil {
			t.Errorf("%s: corrupt file not replaced: %v", tt.name, err)
		}
		if _, err := openIndexes(path); err != nil {
			t.Errorf("%s: replaced file: %v", tt.name, err)
		}
	}

	// An unwritable location: Save fails, numbering and serving go on.
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	idx, err := openIndexes(filepath.Join(blocker, "state.json"))
	if err == nil {
		t.Error("state file below a regular file: no warning")
	}
	if got := numbersOf(t, fixture.Snapshot(), idx); len(got) != 14 {
		t.Errorf("numbering with an unwritable state file: %v", got)
	}
	if err := idx.Save(); err == nil {
		t.Error("Save below a regular file succeeded")
	}
}

func TestNumberingRecycle(t *testing.T) {
	cmpInt := func(a, b int) int { return a - b }
	n := newNumbering[int]()
	n.next = maxNumber + 1
	// Keys 1..3 hold numbers 10, 20, 30; 2 was seen longest ago.
	n.slots[1] = slot{num: 10, lastSeen: 5}
	n.slots[2] = slot{num: 20, lastSeen: 3}
	n.slots[3] = slot{num: 30, lastSeen: 4}
	var forgotten []int
	nums, changed := n.pass([]int{1, 99}, 6, cmpInt, func(k int) { forgotten = append(forgotten, k) })
	if !changed || nums[0] != 10 || nums[1] != 20 || !slices.Equal(forgotten, []int{2}) {
		t.Errorf("recycle: nums %v changed %v forgotten %v, want [10 20] true [2]", nums, changed, forgotten)
	}
	// Next: key 3 (last seen 4) goes to 97, the lower of the new keys;
	// then nothing is free for 98.
	nums, _ = n.pass([]int{1, 99, 98, 97}, 7, cmpInt, nil)
	if !slices.Equal(nums, []uint16{10, 20, 0, 30}) {
		t.Errorf("exhausted: %v, want [10 20 0 30]", nums)
	}
	// Returning key 2 lost its number to 99; it takes 97's, absent now.
	nums, _ = n.pass([]int{1, 99, 98, 2}, 8, cmpInt, nil)
	if !slices.Equal(nums, []uint16{10, 20, 0, 30}) {
		t.Errorf("after recycling: %v", nums)
	}
}

func TestNumberingDuplicatesAndChanges(t *testing.T) {
	cmpInt := func(a, b int) int { return a - b }
	n := newNumbering[int]()
	nums, changed := n.pass([]int{5, 3, 5}, 1, cmpInt, nil)
	if !slices.Equal(nums, []uint16{2, 1, 0}) || !changed {
		t.Errorf("first pass %v %v", nums, changed)
	}
	if _, changed = n.pass([]int{3, 5}, 2, cmpInt, nil); changed {
		t.Error("same keys reported a change")
	}
	if _, changed = n.pass([]int{3}, 3, cmpInt, nil); !changed {
		t.Error("a disappearance was not a change")
	}
	if _, changed = n.pass([]int{3}, 4, cmpInt, nil); changed {
		t.Error("no change reported as one")
	}
	if nums, changed = n.pass([]int{3, 5}, 5, cmpInt, nil); !changed || nums[1] != 2 {
		t.Errorf("reappearance: %v %v", nums, changed)
	}
}

// openIndexes opens the store at path and returns its default context's
// numbering.
func openIndexes(path string) (*Indexes, error) {
	st, err := OpenIndexStore(path)
	return st.Indexes(""), err
}

// encode returns the state file of a store holding x as the default context.
func encode(x *Indexes) ([]byte, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return json.Marshal(stateFile{Version: stateVersion, Contexts: map[string]stateIndexes{"": x.state(), "other": x.state()}})
}

func FuzzDecodeState(f *testing.F) {
	idx := NewIndexes()
	mib.Build(fixture.Snapshot(), idx, fixture.Clock)
	good, err := encode(idx)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"version":1,"generation":0,"next_service":1,"services":[]}`))
	f.Add([]byte(`{"version":1,"generation":3,"next_service":65536,"services":[{"number":65535,"next_real":65536,"reals":[{"addr":"::1","number":1}]}]}`))
	f.Add([]byte(`{"version":2,"contexts":{"":{"generation":1,"next_service":9,"services":[{"fwmark":1,"number":5,"next_real":2,"reals":[{"addr":"10.0.0.1","number":1,"last_seen":1,"drained_weight":7}]}]}}}`))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sets, err := decodeState(data)
		if err != nil {
			return
		}
		// A decoded state numbers and re-encodes without trouble.
		for _, x := range sets {
			mib.Build(fixture.Snapshot(), x, fixture.Clock)
			if _, err := encode(x); err != nil {
				t.Fatalf("encode after decode: %v", err)
			}
		}
	})
}
