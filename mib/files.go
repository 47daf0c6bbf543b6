package mib

import _ "embed"

// File is a MIB module file as distributed with lvs-agentx.
type File struct {
	Name    string // file name, e.g. "LVS-MIB.txt"
	Content []byte
}

//go:embed OC-MIB.txt
var ocMIB []byte

//go:embed LVS-MIB.txt
var lvsMIB []byte

// Files returns the MIB modules describing the view, OC-MIB first because
// LVS-MIB imports it. They need SNMPv2-SMI, SNMPv2-TC, SNMPv2-CONF and
// INET-ADDRESS-MIB from the system's MIB directories.
func Files() []File {
	return []File{
		{Name: "OC-MIB.txt", Content: ocMIB},
		{Name: "LVS-MIB.txt", Content: lvsMIB},
	}
}
