// Package e2e holds the end-to-end tests: real IPVS, real snmpd, real
// managers, each scenario in a network namespace of its own (see
// test/testbed for where the kernel comes from).
package e2e

import (
	"testing"

	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

func TestMain(m *testing.M) { testbed.Main(m) }
