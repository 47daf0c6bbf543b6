// Package mib is the LVS-MIB: it translates an ipvsstats.Snapshot into the
// sorted view of LVS-MIB objects the agent serves, builds the varbinds of
// the LVS-MIB notifications, lists the objects for the integrations that
// are generated from them, and carries the MIB module files. It is pure
// translation: row numbers come from a Numbers and the change count from
// the caller, and it owns no timers, files or sockets.
package mib
