package ipvsproc

import (
	"bytes"
	"strconv"
)

// Setting is one IPVS sysctl of a namespace (a file of
// /proc/sys/net/ipv4/vs).
type Setting struct {
	Name  string // the file's name, such as expire_nodest_conn
	Value string // its content, white space trimmed
	// Integer is the value when it is one decimal integer; IsInteger
	// says whether it is.
	Integer   int64
	IsInteger bool
}

// ParseSetting makes the Setting of the file name holding b.
func ParseSetting(name string, b []byte) Setting {
	v := string(bytes.TrimSpace(b))
	n, err := strconv.ParseInt(v, 10, 64)
	return Setting{Name: name, Value: v, Integer: n, IsInteger: err == nil}
}

// Defense is the state the kernel reports of one of its defenses against
// memory exhaustion (drop_entry, drop_packet, secure_tcp).
type Defense int

// The values of the defense sysctls.
const (
	DefenseOff    Defense = 0 // never
	DefenseIdle   Defense = 1 // automatic, free memory above amemthresh
	DefenseActive Defense = 2 // automatic, turned on by the kernel
	DefenseAlways Defense = 3 // always on
)

// String names d: off, idle, active, always.
func (d Defense) String() string {
	if d < DefenseOff || d > DefenseAlways {
		return "Defense(" + strconv.Itoa(int(d)) + ")"
	}
	return []string{"off", "idle", "active", "always"}[d]
}

// On reports whether the defense is acting now.
func (d Defense) On() bool { return d == DefenseActive || d == DefenseAlways }
