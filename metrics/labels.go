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
// Each table's rows are built in one reused buffer, so that a row costs
// one allocation, its block's string.
func rowLabels(name string, v *mib.View, mode RealServers) *labels {
	l := &labels{rows: map[mib.Table][]string{}}
	var ctx []byte
	if name != "" {
		ctx = pair(nil, "context", name)
		l.context = string(ctx)
	}
	l.rows[mib.ServiceTable] = serviceLabels(ctx, v)
	if mode != RealServersNone {
		l.rows[mib.RealTable] = realLabels(ctx, v, mode, l.rows[mib.ServiceTable])
	}

	states := make([]string, v.Rows(mib.ConnStateTable))
	var b []byte
	proto, state := column("lvsConnStateProto"), column("lvsConnStateName")
	for i := range states {
		p := int64(v.Cell(proto, i).Int)
		name, ok := ipProtocols[p]
		if !ok {
			name = "ip_" + strconv.FormatInt(p, 10)
		}
		b = pair(pair(append(b[:0], ctx...), "protocol", name), "state", v.Cell(state, i).Bytes)
		states[i] = string(b)
	}
	l.rows[mib.ConnStateTable] = states

	settings := make([]string, v.Rows(mib.SettingTable))
	setting := column("lvsSettingName")
	for i := range settings {
		settings[i] = string(pair(append(b[:0], ctx...), "setting", v.Cell(setting, i).Bytes))
	}
	l.rows[mib.SettingTable] = settings

	daemons := make([]string, v.Rows(mib.DaemonTable))
	for i := range daemons {
		role := enumName("lvsSyncDaemonRole", int64(v.Index(mib.DaemonTable, i)[0]))
		daemons[i] = string(pair(append(b[:0], ctx...), "role", role))
	}
	l.rows[mib.DaemonTable] = daemons
	l.rows[mib.Scalars] = []string{l.context}
	return l
}

// serviceLabels returns the services' label blocks: context, service and
// protocol, address and port, or fwmark.
func serviceLabels(ctx []byte, v *mib.View) []string {
	out := make([]string, v.Rows(mib.ServiceTable))
	var b []byte
	name, proto, mark := column("lvsServiceName"), column("lvsServiceProto"), column("lvsServiceFWMark")
	address, port := column("lvsServiceInetAddr"), column("lvsServicePort")
	for i := range out {
		b = pair(append(b[:0], ctx...), "service", v.Cell(name, i).Bytes)
		if p := v.Cell(proto, i).Int; p == -1 {
			b = numPair(b, "fwmark", uint64(uint32(v.Cell(mark, i).Int)))
		} else {
			b = pair(b, "protocol", enumName("lvsServiceProto", int64(p)))
			b = addrPair(b, "address", v.Cell(address, i).Bytes)
			b = numPair(b, "port", uint64(uint16(v.Cell(port, i).Int)))
		}
		out[i] = string(b)
	}
	return out
}

// realLabels returns the real servers' label blocks: their service's
// (services, or only its name in RealServersNames mode), real_server, and
// in full mode real_address and real_port.
func realLabels(ctx []byte, v *mib.View, mode RealServers, services []string) []string {
	svcName, svcNumber := column("lvsServiceName"), column("lvsServiceNumber")
	serviceRow := map[int32]int{} // lvsServiceNumber: row
	var b []byte
	prefix := services // each service's labels that its real servers carry
	if mode == RealServersNames {
		prefix = make([]string, len(services))
	}
	for i := range services {
		serviceRow[v.Cell(svcNumber, i).Int] = i
		if mode == RealServersNames {
			prefix[i] = string(pair(append(b[:0], ctx...), "service", v.Cell(svcName, i).Bytes))
		}
	}
	out := make([]string, v.Rows(mib.RealTable))
	of, name := column("lvsRealServiceNumber"), column("lvsRealServerName")
	address, port := column("lvsRealServerInetAddr"), column("lvsRealServerPort")
	for i := range out {
		b = pair(append(b[:0], prefix[serviceRow[v.Cell(of, i).Int]]...), "real_server", v.Cell(name, i).Bytes)
		if mode == RealServersFull {
			b = addrPair(b, "real_address", v.Cell(address, i).Bytes)
			b = numPair(b, "real_port", uint64(uint16(v.Cell(port, i).Int)))
		}
		out[i] = string(b)
	}
	return out
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
func pair[T string | []byte](b []byte, name string, value T) []byte {
	if len(b) > 0 {
		b = append(b, ',')
	}
	b = append(b, name...)
	b = append(b, '=', '"')
	return append(escape(b, value, true), '"')
}

// escape appends s with backslashes and newlines escaped, and double
// quotes too when quotes is set (label values; help text only in
// OpenMetrics).
func escape[T string | []byte](b []byte, s T, quotes bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quotes:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// addrPair appends name="address" for an InetAddress's octets (an empty
// value for none); an address needs no escaping.
func addrPair(b []byte, name string, octets []byte) []byte {
	b = pair(b, name, "")
	if a, ok := netip.AddrFromSlice(octets); ok {
		b = append(a.AppendTo(b[:len(b)-1]), '"')
	}
	return b
}

// numPair appends name="n".
func numPair(b []byte, name string, n uint64) []byte {
	b = pair(b, name, "")
	return append(strconv.AppendUint(b[:len(b)-1], n, 10), '"')
}
