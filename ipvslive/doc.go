// Package ipvslive keeps the live state of one IPVS instance (one network
// namespace) and serves it as the LVS-MIB: it reads IPVS through a Reader,
// numbers the rows with stable indexes kept in a state file, publishes the
// current view and decides when a request or the watch reads again (the
// cache TTL, the wait for a refresh, a budget of a tenth of a CPU that
// counts the runtime's own cost), and turns the changes between reads into
// the change count and the LVS-MIB notifications.
package ipvslive
