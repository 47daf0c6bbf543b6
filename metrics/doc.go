// Package metrics serves the live state of every served network namespace
// as Prometheus metrics, in the text exposition format or OpenMetrics by
// content negotiation: the same views, fresh by the same rules, that
// answer SNMP requests, read row by row instead of through snmpd.
//
// Each family comes from one LVS-MIB object (its help is the object's
// DESCRIPTION), named by Prometheus' conventions: an lvs_ prefix, units in
// the name, _total for counters. Rows are labelled by their names and
// addresses, and every series by the SNMP context of its namespace
// (context, absent for the default context).
//
// A scrape renders every family into one body, shared by the scrapes that
// come while the views stay the same, and rendered again no sooner than
// ten times its cost after the last render, so that any number of
// scrapers costs at most a tenth of a CPU in renders; at most 10 scrapes
// a second are served, the others wait. The agent's own runtime metrics
// (go_, process_) come from a client_golang registry after the LVS ones.
package metrics
