// Command ipvsrecord records the kernel's raw IPVS generic netlink replies
// as test fixtures for package ipvsstats: one file per request, holding the
// reply messages (netlink header included) as the kernel sent them. It
// builds its requests with mdlayher/netlink's own encoder, independent of
// the reader under test.
//
//	ipvsrecord DIR
//
// writes DIR/info.bin, config.bin, daemons.bin, services.bin and, for the
// i-th service of services.bin, dests-I.bin.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ipvsrecord DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "ipvsrecord:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	nc, err := netlink.Dial(unix.NETLINK_GENERIC, nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	fam, err := genetlink.NewConn(nc).GetFamily("IPVS")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	do := func(name string, cmd uint8, dump bool, attrs []byte) ([]netlink.Message, error) {
		gm := genetlink.Message{Header: genetlink.Header{Command: cmd, Version: 1}, Data: attrs}
		data, err := gm.MarshalBinary()
		if err != nil {
			return nil, err
		}
		flags := netlink.Request
		if dump {
			flags |= netlink.Dump
		}
		msgs, err := nc.Execute(netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(fam.ID), Flags: flags}, Data: data})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var out []byte
		for _, m := range msgs {
			b, err := m.MarshalBinary()
			if err != nil {
				return nil, err
			}
			out = append(out, b...)
		}
		return msgs, os.WriteFile(filepath.Join(dir, name+".bin"), out, 0o644)
	}
	for _, r := range []struct {
		name string
		cmd  uint8
		dump bool
	}{{"info", 15, false}, {"config", 13, false}, {"daemons", 11, true}} {
		if _, err := do(r.name, r.cmd, r.dump, nil); err != nil {
			return err
		}
	}
	svcs, err := do("services", 4, true, nil)
	if err != nil {
		return err
	}
	for i, m := range svcs {
		key, err := serviceKey(m.Data[4:])
		if err != nil {
			return fmt.Errorf("service %d: %w", i, err)
		}
		if _, err := do(fmt.Sprintf("dests-%d", i), 8, true, key); err != nil {
			return err
		}
	}
	return nil
}

// serviceKey copies the identity attributes (family, protocol, address,
// port, fwmark) of a dumped service into a GET_DEST request.
func serviceKey(b []byte) ([]byte, error) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nil, err
	}
	ae := netlink.NewAttributeEncoder()
	for ad.Next() {
		if ad.Type() != 1 { // IPVS_CMD_ATTR_SERVICE
			continue
		}
		ae.Nested(1, func(nae *netlink.AttributeEncoder) error {
			nad, err := netlink.NewAttributeDecoder(ad.Bytes())
			if err != nil {
				return err
			}
			for nad.Next() {
				switch t := nad.Type(); t {
				case 1, 2, 3, 4, 5: // AF, PROTOCOL, ADDR, PORT, FWMARK
					nae.Bytes(t, nad.Bytes())
				}
			}
			return nad.Err()
		})
	}
	if err := ad.Err(); err != nil {
		return nil, err
	}
	return ae.Encode()
}
