package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestQueriesAreCurrent checks that the committed data query definitions,
// which Cacti reads as they are, equal a fresh generation from
// mib.Objects(): a column renumbered in the MIB package fails until
// `make cacti` (or `go generate ./contrib/cacti/gen`) is run again.
func TestQueriesAreCurrent(t *testing.T) {
	fresh, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range queryDefs {
		b, err := os.ReadFile(filepath.Join("../resource/snmp_queries", q.file))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(strings.Split(fresh[q.file], "\n"), strings.Split(string(b), "\n")); d != "" {
			t.Errorf("contrib/cacti/resource/snmp_queries/%s is stale; run make cacti (-fresh +committed):\n%s", q.file, d)
		}
	}
}

// exports names the committed template of each data query (by key).
var exports = map[string]string{
	"services":    "cacti_data_query_lvs_virtual_services.xml",
	"realservers": "cacti_data_query_lvs_real_servers.xml",
	"totals":      "cacti_data_query_lvs_director_totals.xml",
	"connstates":  "cacti_data_query_lvs_connection_states.xml",
}

// TestTemplatesAreCurrent checks the committed templates, Cacti's export
// of the template source, against a fresh source: each export holds its
// data query, its family's graph templates and data template exactly as
// the source has them (Cacti keeps the source's hashes and writes every
// field back), and otherwise only the stock Cacti objects they refer to.
// Making the templates needs a real Cacti (make cacti); this needs none.
func TestTemplatesAreCurrent(t *testing.T) {
	source := map[string]*node{}
	for _, n := range parseXML(t, Source()).children {
		source[n.name] = n
	}
	stock := map[string]bool{dataInputSNMPIndexed: true, gprintNormal: true, cdefBytesToBits: true, profile5Min: true}
	for _, q := range queryDefs {
		file := exports[q.key]
		b, err := os.ReadFile(filepath.Join("../templates", file))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]*node{}
		for _, n := range parseXML(t, string(b)).children {
			got[n.name] = n
		}
		want := []string{h("04", "dq/"+q.key), q.family.dataTemplate()}
		for _, g := range q.family.graphs {
			want = append(want, h("00", "gt/"+g.key))
		}
		for _, name := range want {
			if got[name] == nil {
				t.Errorf("%s: no %s (%s)", file, name, source[name].child("name"))
				continue
			}
			for _, d := range diffTree(name, source[name], got[name]) {
				t.Errorf("%s: %s", file, d)
			}
			delete(got, name)
		}
		for name := range got {
			if !stock[name] {
				t.Errorf("%s: %s (%s) is neither in the source nor a stock Cacti object", file, name, got[name].child("name"))
			}
		}
	}
	if t.Failed() {
		t.Log("contrib/cacti/templates/ is not Cacti's export of what the generator makes today (-source +committed); run make cacti")
	}
}

// TestDiffTree checks that the comparison finds a changed, a missing and
// an extra element.
func TestDiffTree(t *testing.T) {
	a := parseXML(t, "<x><a>1</a><b><c>2</c></b></x>")
	for in, want := range map[string]int{
		"<x><b><c>2</c></b><a>1</a></x>":         0,
		"<x><a>1</a><b><c>3</c></b></x>":         1,
		"<x><a>1</a></x>":                        1,
		"<x><a>1</a><b><c>2</c><d/></b></x>":     1,
		"<x><a>1</a><b><c>2</c></b><e>5</e></x>": 1,
	} {
		if d := diffTree("x", a, parseXML(t, in)); len(d) != want {
			t.Errorf("%s: %d differences, want %d: %v", in, len(d), want, d)
		}
	}
}

// node is an XML element: its text when it has no children.
type node struct {
	name     string
	text     string
	children []*node
}

func (n *node) child(name string) string {
	if n != nil {
		for _, c := range n.children {
			if c.name == name {
				return c.text
			}
		}
	}
	return ""
}

// parseXML returns the children of the document's root element.
func parseXML(t *testing.T, s string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	doc := &node{}
	stack := []*node{doc}
	for {
		tok, err := d.Token()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		switch x := tok.(type) {
		case xml.StartElement:
			n := &node{name: x.Name.Local}
			top := stack[len(stack)-1]
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			stack[len(stack)-1].text += string(x)
		}
	}
	if len(doc.children) != 1 {
		t.Fatalf("%d root elements", len(doc.children))
	}
	return doc.children[0]
}

// diffTree lists where b differs from a: children are matched by name
// (in Cacti's format they are unique within their parent), leaves by
// text.
func diffTree(path string, a, b *node) []string {
	if len(a.children) == 0 && len(b.children) == 0 {
		if a.text != b.text {
			return []string{fmt.Sprintf("%s: %q, committed %q", path, a.text, b.text)}
		}
		return nil
	}
	var out []string
	bc := map[string]*node{}
	for _, c := range b.children {
		bc[c.name] = c
	}
	ac := map[string]bool{}
	for _, c := range a.children {
		ac[c.name] = true
		if bc[c.name] == nil {
			out = append(out, fmt.Sprintf("%s/%s: missing in the committed file", path, c.name))
			continue
		}
		out = append(out, diffTree(path+"/"+c.name, c, bc[c.name])...)
	}
	for _, c := range b.children {
		if !ac[c.name] {
			out = append(out, fmt.Sprintf("%s/%s: in the committed file only", path, c.name))
		}
	}
	return out
}
