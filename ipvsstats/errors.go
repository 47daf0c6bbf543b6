package ipvsstats

import (
	"errors"
	"fmt"
	"syscall"
)

// Errors a Read or Open can wrap; test with errors.Is. The error text says
// what to do about it.
var (
	// ErrNotLoaded: the kernel has no "IPVS" generic netlink family.
	ErrNotLoaded = errors.New("IPVS is not loaded in this kernel (network namespace): run `modprobe ip_vs`")
	// ErrPermission: the kernel refused the request.
	ErrPermission = errors.New("reading IPVS needs CAP_NET_ADMIN (run as root or grant the capability)")
	// ErrNetNS: the network namespace given in Options cannot be entered.
	ErrNetNS = errors.New("cannot enter network namespace")
	// ErrInconsistent: the IPVS table kept changing while it was read, so
	// every attempt saw a torn dump.
	ErrInconsistent = errors.New("IPVS table changed during every read attempt")
)

// classify attaches the typed error a caller can act on to a kernel error.
func classify(err error) error {
	switch {
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%w: %w", ErrPermission, err)
	}
	return err
}
