// Package mobyview is the JSON form of what github.com/moby/ipvs reads,
// shared by the guest program that writes it (test/cmd/ipvsdump) and the
// end-to-end test that compares it with ipvsstats.
package mobyview

import "github.com/moby/ipvs"

// View is moby/ipvs's reading of IPVS, with addresses as strings.
type View struct {
	TimeoutTCP, TimeoutTCPFin, TimeoutUDP int64 // seconds
	Services                              []Service
}

// Service is one virtual service as moby/ipvs reads it.
type Service struct {
	Family, Protocol, Port uint16
	Addr                   string
	FWMark                 uint32
	Scheduler              string
	Flags, Timeout         uint32
	Netmask                uint32
	PEName                 string
	Stats                  ipvs.SvcStats
	Dests                  []Dest
}

// Dest is one real server as moby/ipvs reads it.
type Dest struct {
	Addr            string
	Port            uint16
	Family          uint16
	Weight          int
	ConnectionFlags uint32
	UpperThreshold  uint32
	LowerThreshold  uint32
	ActiveConns     int
	InactiveConns   int
	Stats           ipvs.SvcStats
}
