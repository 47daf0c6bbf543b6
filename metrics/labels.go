package metrics

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/mib"
)

// RealServers says which series of real servers a scrape carries: the
// control over a large director's cardinality.
type RealServers uint8

const (
	// RealServersFull: every real server family, labelled by the service's
	// name, protocol, address and port (or fwmark) and the real server's
	// name, address and port.
	RealServersFull RealServers = iota
	// RealServersNames: the same series, labelled only by the service's
	// and the real server's names (and context): the other labels repeat
	// what the names say.
	RealServersNames
	// RealServersNone: no real server series at all.
	RealServersNone
)

var realServersNames = []string{"full", "names", "none"}

// ParseRealServers parses full, names or none.
func ParseRealServers(s string) (RealServers, error) {
	for i, n := range realServersNames {
		if s == n {
			return RealServers(i), nil
		}
	}
	return 0, fmt.Errorf("%q: want one of %s", s, strings.Join(realServersNames, ", "))
}

func (r RealServers) String() string { return realServersNames[r] }

// ipProtocols names the IP protocols the connection table lists.
var ipProtocols = map[int64]string{0: "ip", 1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "sctp"}

// labels are the label pairs of every row of one context's view,
// without braces: `context="lb",service="TCP 10.0.0.1:80",...`.
type labels struct {
	context string // the context's own pair, "" for the default context
	rows    map[mib.Table][]string
}

// rowLabels builds the labels of every row of v, served as context name.
func rowLabels(name string, v *mib.View, mode RealServers) *labels {
	l := &labels{rows: map[mib.Table][]string{}}
	if name != "" {
		l.context = string(pair(nil, "context", name))
	}
	cols := map[string]mib.Column{}
	col := func(row int, object string) agentx.VarBind {
		c, ok := cols[object]
		if !ok {
			c = column(object)
			cols[object] = c
		}
		return v.Cell(c, row)
	}

	services := make([]string, v.Rows(mib.ServiceTable))
	names := make([]string, len(services)) // the services' own pairs, for RealServersNames
	serviceRow := map[int32]int{}          // lvsServiceNumber: row
	for i := range services {
		b := pair([]byte(l.context), "service", string(col(i, "lvsServiceName").Bytes))
		names[i] = string(b)
		full := b
		if proto := col(i, "lvsServiceProto").Int; proto == -1 {
			full = pair(full, "fwmark", strconv.FormatUint(uint64(uint32(col(i, "lvsServiceFWMark").Int)), 10))
		} else {
			full = pair(full, "protocol", enumName("lvsServiceProto", int64(proto)))
			full = pair(full, "address", addr(col(i, "lvsServiceInetAddr").Bytes))
			full = pair(full, "port", strconv.Itoa(int(col(i, "lvsServicePort").Int)))
		}
		services[i] = string(full)
		serviceRow[col(i, "lvsServiceNumber").Int] = i
	}
	l.rows[mib.ServiceTable] = services

	if mode != RealServersNone {
		reals := make([]string, v.Rows(mib.RealTable))
		for i := range reals {
			svc := serviceRow[col(i, "lvsRealServiceNumber").Int]
			name := string(col(i, "lvsRealServerName").Bytes)
			var b []byte
			if mode == RealServersNames {
				b = pair([]byte(names[svc]), "real_server", name)
			} else {
				b = pair([]byte(services[svc]), "real_server", name)
				b = pair(b, "real_address", addr(col(i, "lvsRealServerInetAddr").Bytes))
				b = pair(b, "real_port", strconv.Itoa(int(col(i, "lvsRealServerPort").Int)))
			}
			reals[i] = string(b)
		}
		l.rows[mib.RealTable] = reals
	}

	states := make([]string, v.Rows(mib.ConnStateTable))
	for i := range states {
		p := int64(col(i, "lvsConnStateProto").Int)
		proto, ok := ipProtocols[p]
		if !ok {
			proto = "ip_" + strconv.FormatInt(p, 10)
		}
		b := pair([]byte(l.context), "protocol", proto)
		states[i] = string(pair(b, "state", string(col(i, "lvsConnStateName").Bytes)))
	}
	l.rows[mib.ConnStateTable] = states

	settings := make([]string, v.Rows(mib.SettingTable))
	for i := range settings {
		settings[i] = string(pair([]byte(l.context), "setting", string(col(i, "lvsSettingName").Bytes)))
	}
	l.rows[mib.SettingTable] = settings

	daemons := make([]string, v.Rows(mib.DaemonTable))
	for i := range daemons {
		daemons[i] = string(pair([]byte(l.context), "role", enumName("lvsSyncDaemonRole", int64(v.Index(mib.DaemonTable, i)[0]))))
	}
	l.rows[mib.DaemonTable] = daemons
	l.rows[mib.Scalars] = []string{l.context}
	return l
}

// enumName is the name LVS-MIB.txt gives value n of object's enumeration,
// or the number.
func enumName(object string, n int64) string {
	d, _ := mib.Define(object)
	if s, ok := d.Enum[n]; ok {
		return s
	}
	return strconv.FormatInt(n, 10)
}

// addr formats an InetAddress's octets; "" for none.
func addr(b []byte) string {
	a, ok := netip.AddrFromSlice(b)
	if !ok {
		return ""
	}
	return a.String()
}

// label formats a cell's value as a label value: its enumeration's name,
// its text (an address for the InetAddress objects, named ...Addr), or its
// number.
func label(object string, vb agentx.VarBind) string {
	switch vb.Type {
	case agentx.OctetString:
		if a := addr(vb.Bytes); a != "" && (len(vb.Bytes) == 4 || len(vb.Bytes) == 16) && strings.HasSuffix(object, "Addr") {
			return a
		}
		return string(vb.Bytes)
	case agentx.Integer:
		return enumName(object, int64(vb.Int))
	case agentx.Counter32, agentx.Gauge32, agentx.Counter64, agentx.TimeTicks:
		return strconv.FormatUint(vb.Uint, 10)
	}
	return ""
}

// pair appends name="value" to b, after a comma unless b is empty,
// escaping the value as both exposition formats want.
func pair(b []byte, name, value string) []byte {
	if len(b) > 0 {
		b = append(b, ',')
	}
	b = append(b, name...)
	b = append(b, '=', '"')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
