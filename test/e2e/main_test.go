// Package e2e holds the end-to-end tests: real IPVS, real snmpd, real
// managers and consumers, each scenario in a network namespace of its own
// (see test/testbed for where the kernel comes from).
package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/lvs-agentx/lvs-agentx/test/testbed"
)

func TestMain(m *testing.M) { testbed.Main(m, cactiTemplate) }

// envCactiTemplate names an installed, stopped private Cacti that the
// Cacti test copies instead of installing one (cacti.sh clone).
const envCactiTemplate = "LVS_E2E_CACTI_TEMPLATE"

// cactiTemplate installs a private Cacti on the host before a guest boots:
// installing it takes minutes in an emulated guest, copying it seconds.
func cactiTemplate() (func(), error) {
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		if ok, _ := regexp.MatchString(f.Value.String(), "TestCactiImportsAndGraphsTheAgent"); !ok {
			return func() {}, nil
		}
	}
	sh, err := filepath.Abs("../graphs/cacti.sh")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("/var/tmp", "lvs-agentx-cacti-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	for _, cmd := range []string{"start", "stop"} {
		if out, err := exec.Command(sh, cmd, dir).CombinedOutput(); err != nil {
			cleanup()
			return nil, fmt.Errorf("Cacti template: cacti.sh %s: %v\n%s", cmd, err, out)
		}
	}
	os.Setenv(envCactiTemplate, dir)
	return cleanup, nil
}
