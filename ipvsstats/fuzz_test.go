package ipvsstats

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode runs every decoder over every message of arbitrary reply
// bytes. Seeds are the replies recorded from the real kernel. Decoding
// must never panic, and what decodes must survive the reader's own uses.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.bin"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures in %s: %v", fixtureDir, err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			m, rest, err := nextMsg(b)
			if err != nil {
				return
			}
			b = rest
			_, _ = m.errno()
			_, a, err := genlAttrs(m.data)
			if err != nil {
				continue
			}
			_, _ = decodeInfo(a)
			_, _ = decodeConfig(a)
			_, _ = decodeDaemon(a)
			if s, err := decodeService(a); err == nil {
				_ = s.Label()
				k, err := decodeServiceKey(a)
				if err != nil || k != s.ServiceKey {
					t.Fatalf("key decode %+v, %v disagrees with full decode %+v", k, err, s.ServiceKey)
				}
				_ = appendServiceKey(nil, &k)
				_ = flagsText(&s)
			}
			for _, fam := range []Family{FamilyIPv4, FamilyIPv6, 0} {
				if d, err := decodeDest(a, fam); err == nil && !d.Addr.IsValid() {
					t.Fatalf("decoded a real server without an address: %+v", d)
				}
			}
		}
	})
}
