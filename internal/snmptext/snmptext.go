// Package snmptext formats variables as net-snmp 5.9's command-line tools
// print them with -On and no MIB modules loaded, so that what the agent
// serves compares line by line with a real snmpwalk.
package snmptext

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
)

// Walker is what WriteWalk walks: an agent.View.
type Walker interface {
	Next(dst, from agentx.OID, include bool, to agentx.OID) (agentx.VarBind, bool)
}

// WriteWalk writes every variable of v below root, one per line, exactly
// as net-snmp 5.9's
//
//	snmpwalk -v2c -c COMMUNITY -On -m '' HOST ROOT
//
// prints them. It is what `lvs-agentx dump --format=oids` prints.
func WriteWalk(w io.Writer, v Walker, root agentx.OID) error {
	bw := bufio.NewWriter(w)
	from := root
	for {
		vb, ok := v.Next(nil, from, false, nil)
		if !ok || !vb.Name.HasPrefix(root) {
			break
		}
		line, err := FormatVarBind(vb)
		if err != nil {
			return err
		}
		bw.WriteString(line)
		bw.WriteByte('\n')
		from = vb.Name
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write oids: %w", err)
	}
	return nil
}

// FormatVarBind formats one variable as a line of `snmpwalk -On -m ""`,
// without the newline. A multi-line value (a long hex string, a string
// with a newline) contains newlines, as net-snmp prints it.
func FormatVarBind(vb agentx.VarBind) (string, error) {
	name := vb.Name.String() + " = "
	switch vb.Type {
	case agentx.Integer:
		return name + "INTEGER: " + strconv.FormatInt(int64(vb.Int), 10), nil
	case agentx.OctetString:
		return name + formatOctets(vb.Bytes), nil
	case agentx.IPAddress:
		a, ok := netip.AddrFromSlice(vb.Bytes)
		if !ok || !a.Is4() {
			return "", fmt.Errorf("format %v: IpAddress of %d bytes", vb.Name, len(vb.Bytes))
		}
		return name + "IpAddress: " + a.String(), nil
	case agentx.Counter32:
		return name + "Counter32: " + strconv.FormatUint(vb.Uint, 10), nil
	case agentx.Gauge32:
		return name + "Gauge32: " + strconv.FormatUint(vb.Uint, 10), nil
	case agentx.Counter64:
		return name + "Counter64: " + strconv.FormatUint(vb.Uint, 10), nil
	case agentx.TimeTicks:
		return name + "Timeticks: (" + strconv.FormatUint(vb.Uint, 10) + ") " + uptime(vb.Uint), nil
	case agentx.ObjectIdentifier:
		return name + "OID: " + vb.OID.String(), nil
	}
	return "", fmt.Errorf("format %v: unsupported type %d", vb.Name, vb.Type)
}

// formatOctets follows net-snmp without a display hint: a string whose
// bytes are all printable ASCII or white space is quoted, with `"` and `\`
// escaped; the empty string is just ""; anything else is hex, upper case,
// each byte followed by a space, 16 bytes per line.
func formatOctets(b []byte) string {
	if len(b) == 0 {
		return `""`
	}
	printable := true
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && !isSpace(c) {
			printable = false
			break
		}
	}
	var s strings.Builder
	if printable {
		s.WriteString(`STRING: "`)
		for _, c := range b {
			if c == '"' || c == '\\' {
				s.WriteByte('\\')
			}
			s.WriteByte(c)
		}
		s.WriteByte('"')
		return s.String()
	}
	s.WriteString("Hex-STRING: ")
	for i, c := range b {
		if i > 0 && i%16 == 0 {
			s.WriteByte('\n')
		}
		fmt.Fprintf(&s, "%02X ", c)
	}
	return s.String()
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// uptime formats hundredths of a second as net-snmp does:
// "0:00:01.23", "1 day, 2:03:04.05", "3 days, 0:00:00.00".
func uptime(cs uint64) string {
	centi := cs % 100
	secs := cs / 100
	days := secs / 86400
	t := fmt.Sprintf("%d:%02d:%02d.%02d", secs/3600%24, secs/60%60, secs%60, centi)
	switch days {
	case 0:
		return t
	case 1:
		return "1 day, " + t
	}
	return strconv.FormatUint(days, 10) + " days, " + t
}
