package main

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// fakeAgent answers GetBulk from a sorted list of names, as an agent with
// nothing after them would, and advances a fake clock by cost per request.
type fakeAgent struct {
	names []string
	cost  time.Duration
	clock *time.Time
	err   error
}

func (f *fakeAgent) GetBulk(oids []string, _ uint8, reps uint32) (*gosnmp.SnmpPacket, error) {
	*f.clock = f.clock.Add(f.cost)
	if f.err != nil {
		return nil, f.err
	}
	i := 0
	for i < len(f.names) && !after(f.names[i], oids[0]) {
		i++
	}
	res := &gosnmp.SnmpPacket{}
	for ; len(res.Variables) < int(reps); i++ {
		if i >= len(f.names) {
			res.Variables = append(res.Variables, gosnmp.SnmpPDU{Name: oids[0], Type: gosnmp.EndOfMibView})
			break
		}
		res.Variables = append(res.Variables, gosnmp.SnmpPDU{Name: f.names[i], Type: gosnmp.Integer, Value: 1})
	}
	return res, nil
}

// after reports whether OID a comes after OID b.
func after(a, b string) bool {
	x, y := strings.Split(a[1:], "."), strings.Split(b[1:], ".")
	for i := 0; i < len(x) && i < len(y); i++ {
		m, _ := strconv.Atoi(x[i])
		n, _ := strconv.Atoi(y[i])
		if m != n {
			return m > n
		}
	}
	return len(x) > len(y)
}

func column(root string, n int) []string {
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("%s.%d", root, i))
	}
	return names
}

func TestWalk(t *testing.T) {
	for _, tc := range []struct {
		name       string
		sizes      []int           // rows of each subtree's column
		costs      []time.Duration // per GetBulk
		minTime    time.Duration
		wantVBs    []int
		wantWalks  []int
		wantTook   []time.Duration
		wantOutput int // lines
	}{{
		// Alone, the last walk ends whole: 10 rows at 3 per GetBulk
		// is 4 requests a walk, the 4th ending it; 9 ms passes the
		// minimum within the 3rd walk.
		name: "one subtree ends its walk", sizes: []int{10}, costs: []time.Duration{time.Millisecond},
		minTime: 9 * time.Millisecond, wantVBs: []int{30}, wantWalks: []int{3},
		wantTook: []time.Duration{12 * time.Millisecond}, wantOutput: 30,
	}, {
		// Interleaved, both stop at the round where 2 x 9 ms has
		// passed: 3 ms a round, so after 6 rounds.
		name: "two subtrees share the time", sizes: []int{10, 5}, costs: []time.Duration{time.Millisecond, 2 * time.Millisecond},
		minTime: 9 * time.Millisecond, wantVBs: []int{10 + 6, 3 * 5}, wantWalks: []int{1, 3},
		wantTook: []time.Duration{6 * time.Millisecond, 12 * time.Millisecond}, wantOutput: 16 + 15,
	}, {
		// The time passes at round 5, but the longer subtree ends
		// its first walk only at round 11 (10 GetBulks of 3 rows,
		// one more to leave the subtree); the shorter one is cut
		// there, 3 rows into its 6th walk.
		name: "interleaved walks cover each table", sizes: []int{30, 5}, costs: []time.Duration{time.Millisecond, time.Millisecond},
		minTime: 5 * time.Millisecond, wantVBs: []int{30, 5*5 + 3}, wantWalks: []int{1, 5},
		wantTook: []time.Duration{11 * time.Millisecond, 11 * time.Millisecond}, wantOutput: 30 + 28,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			clock := time.Unix(0, 0)
			var subtrees []*subtree
			for i, n := range tc.sizes {
				root := fmt.Sprintf(".1.3.6.%d", i+1)
				names := column(root, n)
				names = append(names, fmt.Sprintf(".1.3.6.%d.1", i+2)) // the next subtree
				subtrees = append(subtrees, newSubtree(&fakeAgent{names: names, cost: tc.costs[i], clock: &clock}, root[1:]))
			}
			var out bytes.Buffer
			if err := walk(subtrees, 3, tc.minTime, func() time.Time { return clock }, &out); err != nil {
				t.Fatal(err)
			}
			for i, s := range subtrees {
				if s.varbinds != tc.wantVBs[i] || s.walks != tc.wantWalks[i] || s.took != tc.wantTook[i] {
					t.Errorf("subtree %d: %d varbinds, %d walks, took %v; want %d, %d, %v",
						i, s.varbinds, s.walks, s.took, tc.wantVBs[i], tc.wantWalks[i], tc.wantTook[i])
				}
			}
			if got := strings.Count(out.String(), "\n"); got != tc.wantOutput {
				t.Errorf("%d names printed, want %d", got, tc.wantOutput)
			}
			for _, l := range strings.Fields(out.String()) {
				if !strings.HasPrefix(l, ".1.3.6.1.") && !strings.HasPrefix(l, ".1.3.6.2.") {
					t.Errorf("printed %q, outside every subtree", l)
				}
			}
		})
	}
}

func TestWalkErrors(t *testing.T) {
	clock := time.Unix(0, 0)
	boom := errors.New("timeout")
	s := newSubtree(&fakeAgent{cost: time.Millisecond, clock: &clock, err: boom}, ".1.3.6.1")
	if err := walk([]*subtree{s}, 3, time.Second, func() time.Time { return clock }, &bytes.Buffer{}); !errors.Is(err, boom) {
		t.Errorf("walk = %v, want %v", err, boom)
	}
	// An agent that returns the name asked after never ends a walk.
	stuck := &stuckAgent{}
	s = newSubtree(stuck, ".1.3.6.1")
	stuck.name = ".1.3.6.1.5"
	s.next = stuck.name
	if err := walk([]*subtree{s}, 3, time.Second, func() time.Time { return clock }, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "returned again") {
		t.Errorf("walk = %v, want a name returned again", err)
	}
}

type stuckAgent struct{ name string }

func (a *stuckAgent) GetBulk([]string, uint8, uint32) (*gosnmp.SnmpPacket, error) {
	return &gosnmp.SnmpPacket{Variables: []gosnmp.SnmpPDU{{Name: a.name, Type: gosnmp.Integer, Value: 1}}}, nil
}
