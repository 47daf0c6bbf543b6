package mib

import (
	"cmp"
	"slices"

	"github.com/lvs-agentx/lvs-agentx/agent/agentx"
	"github.com/lvs-agentx/lvs-agentx/ipvsevents"
	"github.com/lvs-agentx/lvs-agentx/ipvsstats"
)

// notificationType is a NOTIFICATION-TYPE of LVS-MIB: its OID is
// lvsNotifications.arc (lvs.0.arc) and its varbinds are instances of
// objects, in this order.
type notificationType struct {
	name    string
	arc     uint32
	objects []string
}

// The OBJECTS of the notifications about one service, one real server, a
// real server's thresholds, one sync daemon.
var (
	serviceObjects = []string{"lvsServiceName", "lvsServiceAddrType", "lvsServiceInetAddr",
		"lvsServicePort", "lvsServiceProto", "lvsServiceFWMark", "lvsServiceNumDests", "lvsServiceNumAvailDests"}
	realObjects = []string{"lvsServiceName", "lvsRealServerName", "lvsRealServerAddrType",
		"lvsRealServerInetAddr", "lvsRealServerPort", "lvsRealServerWeight"}
	overloadObjects = []string{"lvsServiceName", "lvsRealServerName", "lvsRealActiveConns",
		"lvsRealInactiveConns", "lvsRealUpperThreshold", "lvsRealLowerThreshold"}
	daemonObjects  = []string{"lvsSyncDaemonInterface", "lvsSyncDaemonSyncId"}
	defenseObjects = []string{"lvsSettingName", "lvsSettingValue", "lvsAmemthresh"}
	settingObjects = []string{"lvsSettingName", "lvsSettingPreviousValue", "lvsSettingValue"}
)

// notificationTypes is the notification of each kind of change; the MIB
// file test checks it against LVS-MIB.txt.
var notificationTypes = map[ipvsevents.Kind]notificationType{
	ipvsevents.IPVSUnreadable:      {"lvsIpvsUnreadable", 1, []string{"lvsIpvsAvailable"}},
	ipvsevents.IPVSReadable:        {"lvsIpvsReadable", 2, []string{"lvsIpvsAvailable"}},
	ipvsevents.DaemonStarted:       {"lvsSyncDaemonStarted", 3, daemonObjects},
	ipvsevents.DaemonStopped:       {"lvsSyncDaemonStopped", 4, daemonObjects},
	ipvsevents.ServiceAdded:        {"lvsServiceAdded", 5, serviceObjects},
	ipvsevents.ServiceRemoved:      {"lvsServiceRemoved", 6, serviceObjects},
	ipvsevents.RealAdded:           {"lvsRealServerAdded", 7, realObjects},
	ipvsevents.RealRemoved:         {"lvsRealServerRemoved", 8, realObjects},
	ipvsevents.RealQuiesced:        {"lvsRealServerQuiesced", 9, realObjects},
	ipvsevents.RealResumed:         {"lvsRealServerResumed", 10, realObjects},
	ipvsevents.RealOverloaded:      {"lvsRealServerOverloaded", 11, overloadObjects},
	ipvsevents.RealOverloadCleared: {"lvsRealServerOverloadCleared", 12, overloadObjects},
	ipvsevents.ServiceDown:         {"lvsServiceDown", 13, serviceObjects},
	ipvsevents.ServiceUp:           {"lvsServiceUp", 14, serviceObjects},
	ipvsevents.DefenseOn:           {"lvsDefenseOn", 16, defenseObjects},
	ipvsevents.DefenseOff:          {"lvsDefenseOff", 17, defenseObjects},
	ipvsevents.RatesStopped:        {"lvsRatesStopped", 18, []string{"lvsRatesEstimated"}},
	ipvsevents.RatesResumed:        {"lvsRatesResumed", 19, []string{"lvsRatesEstimated"}},
	ipvsevents.SettingChanged:      {"lvsSettingChanged", 20, settingObjects},
}

// stormNotification summarises the notifications left out.
var stormNotification = notificationType{"lvsNotificationStorm", 15,
	[]string{"lvsNotificationsLeftOut", "lvsChanges", "lvsLastChange"}}

// sortedNotificationTypes returns every notification the agent sends, in
// OID order.
func sortedNotificationTypes() []notificationType {
	all := []notificationType{stormNotification}
	for _, nt := range notificationTypes {
		all = append(all, nt)
	}
	slices.SortFunc(all, func(a, b notificationType) int { return cmp.Compare(a.arc, b.arc) })
	return all
}

// notificationsOID is lvsNotifications.
var notificationsOID = child(Root, 0)

// objectsByName maps the objects' names to their entries in objects.
var objectsByName = func() map[string]*object {
	m := make(map[string]*object, len(objects))
	for i := range objects {
		m[objects[i].Name] = &objects[i]
	}
	return m
}()

// Notification returns the notification of ev: its OID and its varbinds,
// taken from cur, or from old (the view of the previous successful read)
// for what was removed or stopped, at the numbers nums gave the rows. ok
// is false when a row has no number.
func Notification(ev ipvsevents.Event, old, cur *View, nums Numbers) (trap agentx.OID, vbs []agentx.VarBind, ok bool) {
	nt := notificationTypes[ev.Kind]
	v := cur
	switch ev.Kind {
	case ipvsevents.ServiceRemoved, ipvsevents.RealRemoved, ipvsevents.DaemonStopped:
		v = old
	}
	// inst is the row: service, service.real, or role.
	var inst agentx.OID
	switch {
	case ev.Service != nil:
		var dk *ipvsstats.DestKey
		if ev.Dest != nil {
			dk = &ev.Dest.DestKey
		}
		s, r := nums.Lookup(ev.Service.ServiceKey, dk)
		inst = agentx.OID{uint32(s)}
		if ev.Dest != nil {
			inst = append(inst, uint32(r))
		}
	case ev.Daemon != nil:
		inst = agentx.OID{uint32(ev.Daemon.State)}
	case ev.Setting != nil:
		inst = agentx.OID{nameIndex(settingNames, ev.Setting.Name)}
	}
	vbs = make([]agentx.VarBind, 0, len(nt.objects))
	for _, name := range nt.objects {
		o := objectsByName[name]
		suffix := inst
		switch o.Table {
		case Scalars:
			suffix = agentx.OID{0}
		case ServiceTable:
			suffix = inst[:1] // the service of a real server notification
		}
		name := append(append(agentx.OID{}, o.OID...), suffix...)
		if o.NotifyOnly && ev.Old != nil { // lvsSettingPreviousValue: only the event has it
			vbs = append(vbs, agentx.VarBind{Name: name, Type: agentx.OctetString, Bytes: []byte(ev.Old.Value)})
			continue
		}
		vb := v.Get(name)
		if vb.Type == agentx.NoSuchObject || vb.Type == agentx.NoSuchInstance {
			return nil, nil, false
		}
		vbs = append(vbs, vb)
	}
	return child(notificationsOID, nt.arc), vbs, true
}

// Storm returns lvsNotificationStorm reporting n notifications left out,
// with lvsChanges and lvsLastChange from v: the summary of a storm of
// notifications.
func Storm(v *View, n uint32) (agentx.OID, []agentx.VarBind) {
	leftOut := objectsByName[stormNotification.objects[0]] // only notifications carry it
	vbs := []agentx.VarBind{{Name: child(leftOut.OID, 0), Type: agentx.Gauge32, Uint: uint64(n)}}
	for _, name := range stormNotification.objects[1:] {
		vbs = append(vbs, v.Get(child(objectsByName[name].OID, 0)))
	}
	return child(notificationsOID, stormNotification.arc), vbs
}
