// Command syncgen makes a backup director's connection table as large as
// asked: it sends IPVS sync messages (protocol version 1), as a master's
// sync daemon would, for N distinct established TCP connections, to the
// multicast group a backup daemon listens on. The backup's kernel creates
// one entry per connection, without traffic and without the services, and
// keeps it for the timeout the message gives. The bench uses it to time
// the connection table's read at sizes real traffic cannot reach in a
// guest.
//
//	syncgen -n 1000000 -syncid 1 -iface lo
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

// Sync protocol facts (include/net/ip_vs.h, net/netfilter/ipvs/ip_vs_sync.c).
const (
	mesgHeaderLen  = 8  // reserved, syncid, size, nr_conns, version, spare
	connV4Len      = 36 // type .. daddr
	protoVersion   = 1
	maxConns       = 255 // nr_conns is one byte
	tcpEstablished = 1   // IP_VS_TCP_S_ESTABLISHED
	protoTCP       = 6
)

func main() {
	n := flag.Int("n", 1000, "connections to create")
	first := flag.Int("first", 0, "number of the first connection: a later run continues where one stopped")
	syncID := flag.Int("syncid", 1, "the backup daemon's sync ID")
	iface := flag.String("iface", "lo", "interface the backup daemon listens on")
	group := flag.String("group", "224.0.0.81:8848", "multicast group and port of the sync daemons")
	timeout := flag.Int("timeout", 3600, "seconds each entry lives")
	perMsg := flag.Int("per-message", 200, "connections per message (at most 255; the message must fit the interface's MTU)")
	pace := flag.Duration("pace", 200*time.Microsecond, "pause between messages, so the backup's socket keeps up")
	flag.Parse()
	if err := run(*n, *first, *syncID, *iface, *group, *timeout, min(*perMsg, maxConns), *pace); err != nil {
		fmt.Fprintln(os.Stderr, "syncgen:", err)
		os.Exit(1)
	}
}

func run(n, first, syncID int, ifname, group string, timeout, perMsg int, pace time.Duration) error {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return fmt.Errorf("interface %s: %w", ifname, err)
	}
	dst, err := net.ResolveUDPAddr("udp4", group)
	if err != nil {
		return fmt.Errorf("group %s: %w", group, err)
	}
	addrs, err := ifi.Addrs()
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("interface %s has no address to send from: %v", ifname, err)
	}
	var src net.IP
	for _, a := range addrs {
		if ip, _, _ := net.ParseCIDR(a.String()); ip.To4() != nil {
			src = ip
			break
		}
	}
	conn, err := net.DialUDP("udp4", &net.UDPAddr{IP: src}, dst)
	if err != nil {
		return fmt.Errorf("dial %s: %w", group, err)
	}
	defer conn.Close()
	buf := make([]byte, 0, mesgHeaderLen+maxConns*connV4Len)
	for i := first; i < first+n; {
		k := min(perMsg, first+n-i)
		buf = message(buf[:0], byte(syncID), i, k, uint32(timeout))
		if _, err := conn.Write(buf); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		i += k
		time.Sleep(pace)
	}
	return nil
}

// message appends a sync message holding connections i .. i+k-1, each
// from its own client address and port (connection j: 10.0.0.0 plus
// j/60000, port 1024 plus j%60000) to VIP 10.255.0.1:80 through real
// server 10.254.0.1:80.
func message(b []byte, syncID byte, i, k int, timeout uint32) []byte {
	size := mesgHeaderLen + k*connV4Len
	b = append(b, 0, syncID)
	b = binary.BigEndian.AppendUint16(b, uint16(size))
	b = append(b, byte(k), protoVersion, 0, 0)
	for j := i; j < i+k; j++ {
		b = append(b, 0, protoTCP) // type IPv4, protocol
		b = binary.BigEndian.AppendUint16(b, connV4Len)
		b = binary.BigEndian.AppendUint32(b, 0) // flags: masquerading
		b = binary.BigEndian.AppendUint16(b, tcpEstablished)
		b = binary.BigEndian.AppendUint16(b, uint16(1024+j%60000)) // cport
		b = binary.BigEndian.AppendUint16(b, 80)                   // vport
		b = binary.BigEndian.AppendUint16(b, 80)                   // dport
		b = binary.BigEndian.AppendUint32(b, 0)                    // fwmark
		b = binary.BigEndian.AppendUint32(b, timeout)
		b = binary.BigEndian.AppendUint32(b, 10<<24|uint32(j/60000)) // caddr
		b = binary.BigEndian.AppendUint32(b, 10<<24|255<<16|1)       // vaddr
		b = binary.BigEndian.AppendUint32(b, 10<<24|254<<16|1)       // daddr
	}
	return b
}
