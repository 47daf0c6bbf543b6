package ipvsproc

import (
	"errors"
	"testing"
)

// The files of a tree laid out as /proc, read twice: the second read
// starts from the beginning again.
func TestFiles(t *testing.T) {
	f, err := OpenRoot("testdata/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for range 2 {
		tot, err := f.Totals()
		if err != nil || tot.Conns != 16 || tot.InBPS != 1<<32 {
			t.Fatalf("Totals = %+v, %v", tot, err)
		}
		cc, err := f.Conns()
		if err != nil || cc.Entries != 8 || cc.FromSync != 2 || cc.Templates != 2 {
			t.Fatalf("Conns = %+v, %v", cc, err)
		}
		settings, err := f.Settings()
		if err != nil || len(settings) != 8 {
			t.Fatalf("Settings = %+v, %v", settings, err)
		}
		want := []Setting{
			{Name: "amemthresh", Value: "1024", Integer: 1024, IsInteger: true},
			{Name: "drop_entry", Value: "2", Integer: 2, IsInteger: true},
			{Name: "drop_packet", Value: "0", IsInteger: true},
			{Name: "est_cpulist", Value: "0-1"},
		}
		for i, w := range want {
			if settings[i] != w {
				t.Errorf("setting %d = %+v, want %+v", i, settings[i], w)
			}
		}
	}
}

// Where IPVS is not loaded its files do not exist.
func TestOpenWithoutIPVS(t *testing.T) {
	if _, err := OpenRoot(t.TempDir()); !errors.Is(err, ErrNoIPVS) {
		t.Errorf("OpenRoot of an empty tree: %v, want ErrNoIPVS", err)
	}
}

func TestDefense(t *testing.T) {
	for d, want := range map[Defense]string{DefenseOff: "off", DefenseIdle: "idle", DefenseActive: "active",
		DefenseAlways: "always", 7: "Defense(7)"} {
		if d.String() != want || d.On() != (d == DefenseActive || d == DefenseAlways) {
			t.Errorf("Defense(%d): %q on %v, want %q", int(d), d.String(), d.On(), want)
		}
	}
}
