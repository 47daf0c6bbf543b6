// Package e2e holds the end-to-end tests: real IPVS, real snmpd, real
// managers, each scenario in a network namespace of its own (see
// test/testbed for where the kernel comes from).
package e2e

import (
	"embed"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

func TestMain(m *testing.M) { testbed.Main(m) }

// scripts holds the scenarios' larger steps, each file named by its test.
//
//go:embed scripts/*.sh
var scripts embed.FS

// scriptOf returns scripts/name.
func scriptOf(name string) string {
	b, err := scripts.ReadFile("scripts/" + name)
	if err != nil {
		panic(err)
	}
	return string(b)
}
