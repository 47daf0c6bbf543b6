package mib

import "testing"

// TestDefineEveryServedObject checks that every object the view serves
// has a description in LVS-MIB.txt, and the parse of a few whose
// enumerations the exporters use.
func TestDefineEveryServedObject(t *testing.T) {
	for _, o := range Objects() {
		d, ok := Define(o.Name)
		if !ok || len(d.Description) < 20 {
			t.Errorf("%s: no description in LVS-MIB.txt (%q)", o.Name, d.Description)
		}
	}
	for _, tc := range []struct {
		name string
		n    int64
		want string
	}{
		{"lvsServiceProto", -1, "fwmark"},
		{"lvsServiceProto", 132, "sctp"},
		{"lvsRealServerFlags", 3, "route"},
		{"lvsDropEntry", 2, "automaticActive"}, // from LvsDefenseState
		{"lvsServiceAdminState", 2, "drained"},
	} {
		d, _ := Define(tc.name)
		if got := d.Enum[tc.n]; got != tc.want {
			t.Errorf("%s enum %d = %q, want %q (%v)", tc.name, tc.n, got, tc.want, d.Enum)
		}
	}
	if d, _ := Define("lvsServiceStatsConnsHC"); d.Enum != nil {
		t.Errorf("lvsServiceStatsConnsHC: enum %v from a type that has none", d.Enum)
	}
}

func FuzzParseDefinitions(f *testing.F) {
	f.Add(string(lvsMIB))
	f.Add("a OBJECT-TYPE SYNTAX INTEGER { x(1), y(-2) } DESCRIPTION \"d\" ::= { b 1 }\nT ::= TEXTUAL-CONVENTION SYNTAX T\n")
	f.Fuzz(func(t *testing.T, text string) {
		for name, d := range parseDefinitions(text) {
			if name == "" || d.Description != "" && len(d.Description) > len(text) {
				t.Fatalf("bad definition %q: %+v", name, d)
			}
		}
	})
}
