package ipvsstats

import (
	"errors"
	"fmt"
)

// The kernel builds a dump in pieces and lets go of its lock between
// datagrams, so a table that changes during a read can come out torn: a
// service listed twice or skipped, real servers of a service that is gone.
// The checks here find such reads; Read then reads again.

// errTorn marks one read attempt that saw a table change under it.
var errTorn = errors.New("torn dump")

func tornf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errTorn}, args...)...)
}

// checkServices dumps the service identities again and compares them, in
// order, with svcs.
func (c *conn) checkServices(svcs []Service) error {
	i := 0
	var differ bool
	_, err := c.exchange(command{cmd: cmdGetService, dump: true}, func(b []byte) error {
		k, err := decodeServiceKey(b)
		if err != nil {
			return err
		}
		if i >= len(svcs) || svcs[i].ServiceKey != k {
			differ = true
		}
		i++
		return nil
	})
	if err != nil {
		return fmt.Errorf("get services again: %w", err)
	}
	if differ || i != len(svcs) {
		return tornf("service list changed during the read (%d services, then %d)", len(svcs), i)
	}
	return nil
}

// checkDests dumps a service's real servers again and compares their
// identities, in order, with ds.
func (c *conn) checkDests(k *ServiceKey, ds []Dest) error {
	i := 0
	var differ bool
	_, err := c.exchange(command{cmd: cmdGetDest, dump: true, svc: k}, func(b []byte) error {
		d, err := decodeDest(b, k.Family)
		if err != nil {
			return err
		}
		if i >= len(ds) || ds[i].DestKey != d.DestKey {
			differ = true
		}
		i++
		return nil
	})
	if err != nil {
		return fmt.Errorf("get real servers of %s again: %w", k.Label(), err)
	}
	if differ || i != len(ds) {
		return tornf("real servers of %s changed during the read", k.Label())
	}
	return nil
}

func dupService(svcs []Service) (ServiceKey, bool) {
	seen := make(map[ServiceKey]struct{}, len(svcs))
	for i := range svcs {
		k := svcs[i].ServiceKey
		if _, ok := seen[k]; ok {
			return k, true
		}
		seen[k] = struct{}{}
	}
	return ServiceKey{}, false
}

// dupDest returns a real server listed twice in ds.
func dupDest(ds []Dest) (*Dest, bool) {
	if len(ds) <= 32 {
		// Quadratic but allocation-free for the common small service.
		for i := range ds {
			for j := i + 1; j < len(ds); j++ {
				if ds[i].DestKey == ds[j].DestKey {
					return &ds[j], true
				}
			}
		}
		return nil, false
	}
	seen := make(map[DestKey]struct{}, len(ds))
	for i := range ds {
		if _, ok := seen[ds[i].DestKey]; ok {
			return &ds[i], true
		}
		seen[ds[i].DestKey] = struct{}{}
	}
	return nil, false
}
