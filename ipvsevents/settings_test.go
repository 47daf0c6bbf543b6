package ipvsevents

import (
	"slices"
	"strings"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/ipvsproc"
)

// settings parses "name=value ..." into sorted settings.
func settings(s string) []ipvsproc.Setting {
	out := []ipvsproc.Setting{}
	for _, f := range strings.Fields(s) {
		name, value, _ := strings.Cut(f, "=")
		out = append(out, ipvsproc.ParseSetting(name, []byte(value+"\n")))
	}
	slices.SortFunc(out, func(a, b ipvsproc.Setting) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func TestCompareSettings(t *testing.T) {
	base := "drop_entry=0 drop_packet=0 expire_nodest_conn=0 run_estimation=1 secure_tcp=0 sync_ports=1"
	tests := []struct {
		name  string
		reads []string // after base; "-" is a failed read
		want  []string // "kind name old->new" of the last read
	}{
		{"unchanged", []string{base}, nil},
		{"setting", []string{strings.Replace(base, "expire_nodest_conn=0", "expire_nodest_conn=1", 1)},
			[]string{"setting-changed expire_nodest_conn 0->1"}},
		{"defense by hand", []string{strings.Replace(base, "drop_entry=0", "drop_entry=3", 1)},
			[]string{"defense-on drop_entry 0->3"}},
		{"defense automatic, idle, is a setting", []string{strings.Replace(base, "secure_tcp=0", "secure_tcp=1", 1)},
			[]string{"setting-changed secure_tcp 0->1"}},
		{"kernel turns it on", []string{strings.Replace(base, "drop_packet=0", "drop_packet=1", 1),
			strings.Replace(base, "drop_packet=0", "drop_packet=2", 1)},
			[]string{"defense-on drop_packet 1->2"}},
		{"kernel turns it off", []string{strings.Replace(base, "drop_packet=0", "drop_packet=2", 1),
			strings.Replace(base, "drop_packet=0", "drop_packet=1", 1)},
			[]string{"defense-off drop_packet 2->1"}},
		{"always to active stays on", []string{strings.Replace(base, "drop_entry=0", "drop_entry=3", 1),
			strings.Replace(base, "drop_entry=0", "drop_entry=2", 1)},
			[]string{"setting-changed drop_entry 3->2"}},
		{"estimation stops", []string{strings.Replace(base, "run_estimation=1", "run_estimation=0", 1)},
			[]string{"rates-stopped run_estimation 1->0"}},
		{"estimation resumes", []string{strings.Replace(base, "run_estimation=1", "run_estimation=0", 1), base},
			[]string{"rates-resumed run_estimation 0->1"}},
		{"failed read keeps the baseline", []string{"-", strings.Replace(base, "sync_ports=1", "sync_ports=4", 1)},
			[]string{"setting-changed sync_ports 1->4"}},
		{"two at once, in name order", []string{"drop_entry=0 drop_packet=0 expire_nodest_conn=1 run_estimation=1 secure_tcp=3 sync_ports=1"},
			[]string{"setting-changed expire_nodest_conn 0->1", "defense-on secure_tcp 0->3"}},
		{"another kernel's settings give none", []string{"drop_entry=0 est_nice=0 run_estimation=1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr Tracker
			if evs := tr.CompareSettings(settings(base)); len(evs) != 0 {
				t.Fatalf("baseline gave %d events", len(evs))
			}
			var evs []Event
			for _, r := range tt.reads {
				var cur []ipvsproc.Setting
				if r != "-" {
					cur = settings(r)
				}
				evs = tr.CompareSettings(cur)
			}
			var got []string
			for _, e := range evs {
				got = append(got, e.Kind.String()+" "+e.Setting.Name+" "+e.Old.Value+"->"+e.Setting.Value)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("events %q, want %q", got, tt.want)
			}
		})
	}
}
