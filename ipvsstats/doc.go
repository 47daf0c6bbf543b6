// Package ipvsstats reads the kernel's IPVS state (Linux Virtual Server)
// over the "IPVS" generic netlink family into an immutable Snapshot.
package ipvsstats
