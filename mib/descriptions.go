package mib

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Definition is what LVS-MIB.txt says of an object type beyond its OID:
// the text of its DESCRIPTION, whitespace collapsed, and the labels of its
// enumerated values (its own or its textual convention's).
type Definition struct {
	Description string
	Enum        map[int64]string
}

// Define returns the definition of the object type, notification or
// textual convention named name in LVS-MIB.txt.
func Define(name string) (Definition, bool) {
	definitions.once.Do(func() { definitions.m = parseDefinitions(string(lvsMIB)) })
	d, ok := definitions.m[name]
	return d, ok
}

var definitions struct {
	once sync.Once
	m    map[string]Definition
}

var (
	// A definition starts at a line naming it; it ends at its ::= {...}
	// (an object) or at the next definition (a textual convention).
	defStart = regexp.MustCompile(`(?m)^([a-zA-Z][\w-]*)\s+(?:OBJECT-TYPE|NOTIFICATION-TYPE|::= TEXTUAL-CONVENTION)\b`)
	syntaxRe = regexp.MustCompile(`SYNTAX\s+(?:INTEGER\s*\{([^}]*)\}|([A-Z][\w-]*))`)
	enumRe   = regexp.MustCompile(`([a-zA-Z][\w-]*)\s*\(\s*(-?\d+)\s*\)`)
	descRe   = regexp.MustCompile(`DESCRIPTION\s+"([^"]*)"`)
)

// parseDefinitions reads the definitions of a MIB module's text, enough
// of SMIv2 for descriptions and enumerations: descriptions hold no
// quotes, and an object whose SYNTAX names a textual convention takes
// that convention's enumeration.
func parseDefinitions(text string) map[string]Definition {
	m := map[string]Definition{}
	tcOf := map[string]string{}
	starts := defStart.FindAllStringSubmatchIndex(text, -1)
	for i, s := range starts {
		end := len(text)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		name, body := text[s[2]:s[3]], text[s[1]:end]
		var d Definition
		if dm := descRe.FindStringSubmatch(body); dm != nil {
			d.Description = strings.Join(strings.Fields(dm[1]), " ")
		}
		if sm := syntaxRe.FindStringSubmatch(body); sm != nil {
			if sm[1] != "" {
				d.Enum = map[int64]string{}
				for _, em := range enumRe.FindAllStringSubmatch(sm[1], -1) {
					n, _ := strconv.ParseInt(em[2], 10, 64) // the pattern allows only digits
					d.Enum[n] = em[1]
				}
			} else {
				tcOf[name] = sm[2]
			}
		}
		m[name] = d
	}
	for name, tc := range tcOf {
		if d := m[name]; d.Enum == nil {
			d.Enum = m[tc].Enum
			m[name] = d
		}
	}
	return m
}
