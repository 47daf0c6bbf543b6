// Package ipvsevents compares successive IPVS snapshots and turns their
// differences into events: IPVS becoming unreadable or readable again,
// sync daemons, services and real servers coming and going, weights going
// to 0 and back, services left without a usable real server, and real
// servers crossing their connection thresholds.
package ipvsevents
