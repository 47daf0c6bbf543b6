// Package ipvsproc parses what IPVS shows of a network namespace only in
// /proc, outside generic netlink: the namespace's totals
// (/proc/net/ip_vs_stats), its connection table (/proc/net/ip_vs_conn_sync,
// counted by protocol and state without allocating per entry) and its
// settings (/proc/sys/net/ipv4/vs). Each parser is a pure function of the
// file's bytes; opening the files in a namespace is the caller's.
package ipvsproc
