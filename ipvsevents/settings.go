package ipvsevents

import (
	"slices"

	"github.com/lvs-agentx/lvs-agentx/ipvsproc"
)

// The settings whose changes have events of their own.
const (
	runEstimation = "run_estimation"
)

// defenses are the sysctls of IPVS's defense against memory exhaustion.
var defenses = []string{"drop_entry", "drop_packet", "secure_tcp"}

// CompareSettings returns the changes from the settings of the previous
// call to cur, which is sorted by name; nil cur (the settings could not be
// read) gives none and keeps the previous ones as the baseline, as Compare
// keeps the last successful read. The first call is the baseline.
//
// Each changed setting gives one event: DefenseOn or DefenseOff for a
// defense that began or stopped acting, RatesStopped or RatesResumed for
// run_estimation, SettingChanged for any other change, a defense's
// change between off and automatic-idle included. A setting that appears
// or disappears (another kernel) gives none.
func (t *Tracker) CompareSettings(cur []ipvsproc.Setting) []Event {
	if cur == nil {
		return nil
	}
	old := t.settings
	t.settings = cur
	if old == nil {
		return nil
	}
	var evs []Event
	i := 0
	for j := range cur {
		for i < len(old) && old[i].Name < cur[j].Name {
			i++
		}
		if i == len(old) || old[i].Name != cur[j].Name || old[i].Value == cur[j].Value {
			continue
		}
		evs = append(evs, Event{Kind: settingKind(&old[i], &cur[j]), Setting: &cur[j], Old: &old[i]})
	}
	return evs
}

// settingKind is the kind of event a setting's change from o to c is.
func settingKind(o, c *ipvsproc.Setting) Kind {
	switch {
	case c.Name == runEstimation && o.IsInteger && c.IsInteger && (o.Integer != 0) != (c.Integer != 0):
		if c.Integer == 0 {
			return RatesStopped
		}
		return RatesResumed
	case isDefense(c.Name) && defenseOn(o) != defenseOn(c):
		if defenseOn(c) {
			return DefenseOn
		}
		return DefenseOff
	}
	return SettingChanged
}

func isDefense(name string) bool { return slices.Contains(defenses, name) }

func defenseOn(s *ipvsproc.Setting) bool {
	return s.IsInteger && ipvsproc.Defense(s.Integer).On()
}
