#!/bin/bash
# lvs-rrd.sh: graph Linux Virtual Server statistics from the LVS-MIB with
# net-snmp's tools and RRDtool alone (no Cacti). Part of lvs-agentx.
#
# Every step one snmpbulkwalk of the LVS-MIB subtree feeds one RRD per
# virtual service (service-N.rrd) and one per real server (real-N-M.rrd),
# named by lvs-agentx's stable indexes, so a file keeps following its
# service across reconfigurations and agent restarts, and one of the
# director's totals (totals.rrd: the namespace's, which keep counting
# after services are deleted).
#
# Usage: lvs-rrd.sh [options] update|run|graph
#   update     walk once and update (creating RRDs as needed)
#   run        update every step, forever or -n times
#   graph      render PNGs for every RRD in the directory
# Options (environment variable in brackets):
#   -H agent     net-snmp agent address, e.g. 192.0.2.2 or udp:host:1161 [LVS_RRD_HOST, localhost]
#   -c community SNMP v2c community [LVS_RRD_COMMUNITY, public]
#   -s seconds   RRD step and polling interval [LVS_RRD_STEP, 60]
#   -b seconds   RRD heartbeat: longest gap between updates that still
#                counts (rrdtool spreads the counted increase over the gap)
#                [LVS_RRD_HEARTBEAT, twice the step]
#   -d dir       where RRDs, names and PNGs go [LVS_RRD_DIR, /var/lib/lvs-rrd]
#   -n count     "run": stop after count updates (0: never) [0]
#   -S start     "graph": rrdtool start time [LVS_RRD_START, -1d]
#   -e end       "graph": rrdtool end time [now]
#
# RRD data sources: conns, inpkts, outpkts, inbytes, outbytes (COUNTER, from
# the 64-bit counters, so rrdtool stores per-second rates) and active,
# inactive (GAUGE, current connections); in totals.rrd entries, templates
# (GAUGE, the connection table's entries and persistence templates) in
# place of active, inactive.
set -euo pipefail

host=${LVS_RRD_HOST:-localhost}
community=${LVS_RRD_COMMUNITY:-public}
step=${LVS_RRD_STEP:-60}
heartbeat=${LVS_RRD_HEARTBEAT:-}
dir=${LVS_RRD_DIR:-/var/lib/lvs-rrd}
start=${LVS_RRD_START:--1d}
end=now
count=0

# The LVS-MIB (enterprises.8225.4711) and the columns used here.
readonly MIB=.1.3.6.1.4.1.8225.4711
# lvsServiceEntry: 13/14 in/out bytes (Counter64), 25/26/27 conns/inpkts/
# outpkts (Counter64), 28/29 active/inactive (Gauge32), 34 name.
readonly SVC_COLS="25 26 27 13 14 28 29"
readonly SVC_NAME=34
# lvsRealEntry: 10/11 in/out bytes, 24/25/26 conns/inpkts/outpkts, 19/20
# active/inactive, 31 name.
readonly REAL_COLS="24 25 26 10 11 19 20"
readonly REAL_NAME=31
# lvsTotals (20): 1-5 conns, inpkts, outpkts, inbytes, outbytes (Counter64
# scalars); lvsConn (21): 1 entries, 2 templates (Gauge32).

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "lvs-rrd: $*" >&2; exit 1; }

while getopts H:c:s:b:d:n:S:e:h opt; do
	case $opt in
	H) host=$OPTARG ;;
	c) community=$OPTARG ;;
	s) step=$OPTARG ;;
	b) heartbeat=$OPTARG ;;
	d) dir=$OPTARG ;;
	n) count=$OPTARG ;;
	S) start=$OPTARG ;;
	e) end=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
[[ $step =~ ^[1-9][0-9]*$ ]] || die "step must be a positive number of seconds: $step"
[[ $count =~ ^[0-9]+$ ]] || die "count must be a number: $count"
heartbeat=${heartbeat:-$((step * 2))}
[[ $heartbeat =~ ^[1-9][0-9]*$ ]] || die "heartbeat must be a positive number of seconds: $heartbeat"
for tool in snmpbulkwalk rrdtool; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y snmp rrdtool)"
done

# create FILE TIME KIND prints the rrdtool command making an RRD that starts
# just before TIME and keeps per-step averages and maxima for a day, and
# coarser ones for a week, a month and a year; its gauges are the
# connection table's for KIND totals.
create() {
	local hb=$heartbeat day=$((86400 / step)) cf name gauges="active inactive"
	[ "$3" != totals ] || gauges="entries templates"
	printf 'create %s --step %s --start %s' "$1" "$step" "$(($2 - 1))"
	for name in conns inpkts outpkts inbytes outbytes; do
		printf ' DS:%s:COUNTER:%s:0:U' "$name" "$hb"
	done
	for name in $gauges; do
		printf ' DS:%s:GAUGE:%s:0:U' "$name" "$hb"
	done
	for cf in AVERAGE MAX; do
		printf ' RRA:%s:0.5:1:%s RRA:%s:0.5:%s:336 RRA:%s:0.5:%s:372 RRA:%s:0.5:%s:366' \
			"$cf" "$day" "$cf" $(((1800 + step - 1) / step)) "$cf" $(((7200 + step - 1) / step)) \
			"$cf" $(((86400 + step - 1) / step))
	done
	printf '\n'
}

# update walks the LVS-MIB once and feeds every row to its RRD.
update() {
	mkdir -p "$dir"
	local now=$EPOCHSECONDS walk
	# -On numeric OIDs, -Oq "OID value", -Oe enums as numbers, -Cr50 50
	# rows per GetBulk: one walk gives a consistent picture of both tables.
	walk=$(snmpbulkwalk -v2c -c "$community" -t 5 -r 2 -On -Oq -Oe -Cr50 "$host" "$MIB") ||
		die "snmpbulkwalk $host $MIB failed"
	# Turn the walk into lines "KIND INDEX NAME|v1:v2:...": one per row.
	local rows
	rows=$(awk -v mib="$MIB" -v svc="$SVC_COLS" -v real="$REAL_COLS" \
		-v svcname="$SVC_NAME" -v realname="$REAL_NAME" '
		BEGIN {
			ns = split(svc, sc, " "); for (i = 1; i <= ns; i++) spos[sc[i]] = i
			nr = split(real, rc, " "); for (i = 1; i <= nr; i++) rpos[rc[i]] = i
			plen = length(mib) + 1
		}
		substr($1, 1, plen) == mib "." {
			n = split(substr($1, plen + 1), a, ".")
			v = $0; sub(/^[^ ]+ /, "", v); gsub(/^"|"$/, "", v)
			if (n == 4 && a[1] == 17 && a[2] == 1) {
				key = "service " a[4]; col = a[3]; pos = spos[col]; isname = (col == svcname)
			} else if (n == 5 && a[1] == 18 && a[2] == 1) {
				key = "real " a[4] "-" a[5]; col = a[3]; pos = rpos[col]; isname = (col == realname)
			} else if (n == 3 && a[3] == 0 && (a[1] == 20 && a[2] <= 5 || a[1] == 21 && a[2] <= 2)) {
				key = "totals all"; pos = a[1] == 20 ? a[2] : 5 + a[2]; isname = 0
				name[key] = "director totals"
			} else next
			if (!(key in seen)) { seen[key] = 1; order[++nkeys] = key }
			if (isname) name[key] = v
			else if (pos) val[key, pos] = v
		}
		END {
			for (k = 1; k <= nkeys; k++) {
				key = order[k]; line = ""
				for (i = 1; i <= 7; i++) line = line (i > 1 ? ":" : "") ((key, i) in val ? val[key, i] : "U")
				printf "%s %s|%s\n", key, line, name[key]
			}
		}' <<<"$walk")
	# One rrdtool process takes every create and update of this step
	# ("rrdtool -" reads commands from stdin): process start-up is most of
	# the cost on a small or virtual machine.
	local kind idx rest values label base
	while read -r kind idx rest; do
		[ -n "$kind" ] || continue
		values=${rest%%|*}
		label=${rest#*|}
		base="$dir/$kind-$idx"
		[ "$kind" != totals ] || base="$dir/totals"
		[ -f "$base.rrd" ] || create "$base.rrd" "$now" "$kind"
		printf '%s\n' "$label" >"$base.name"
		printf 'update %s %s:%s\n' "$base.rrd" "$now" "$values"
	done <<<"$rows" | rrdtool - >"$dir/.rrdtool.out" || die "rrdtool failed: $(cat "$dir/.rrdtool.out")"
	local out
	out=$(<"$dir/.rrdtool.out")
	[[ $out != *ERROR* ]] || die "rrdtool: $out"
}

# graph renders four PNGs per RRD: connections/s, packets/s, bits/s and
# active/inactive connections (for the totals the connection table's
# entries and templates), all through one rrdtool process.
graph() {
	local file base label n=0
	for file in "$dir"/totals.rrd "$dir"/service-*.rrd "$dir"/real-*.rrd; do
		[ -f "$file" ] || continue
		base=${file%.rrd}
		label=$(<"$base.name") || label=${base##*/}
		label=${label//\'/}
		case $base in
		*/real-*) label="real server $label (${base##*/real-})" ;;
		*/totals) label="director totals" ;;
		*) label="service $label" ;;
		esac
		local common="--start $start --end $end --width 700 --height 200 --slope-mode --lower-limit 0"
		echo "graph $base-conns.png $common --title 'LVS $label: new connections'" \
			"--vertical-label connections/s DEF:c=$file:conns:AVERAGE 'AREA:c#4668E4:connections/s'" \
			"'GPRINT:c:LAST:cur %8.2lf' 'GPRINT:c:AVERAGE:avg %8.2lf' 'GPRINT:c:MAX:max %8.2lf\\n'"
		echo "graph $base-packets.png $common --title 'LVS $label: packets'" \
			"--vertical-label packets/s DEF:i=$file:inpkts:AVERAGE DEF:o=$file:outpkts:AVERAGE" \
			"'AREA:i#00CF00:in ' 'GPRINT:i:AVERAGE:avg %8.2lf %s\\n'" \
			"'LINE2:o#002A97:out' 'GPRINT:o:AVERAGE:avg %8.2lf %s\\n'"
		echo "graph $base-bits.png $common --title 'LVS $label: traffic' --base 1000" \
			"--vertical-label bits/s DEF:i=$file:inbytes:AVERAGE DEF:o=$file:outbytes:AVERAGE" \
			"CDEF:ib=i,8,* CDEF:ob=o,8,*" \
			"'AREA:ib#00CF00:in ' 'GPRINT:ib:AVERAGE:avg %8.2lf %sbit/s\\n'" \
			"'LINE2:ob#002A97:out' 'GPRINT:ob:AVERAGE:avg %8.2lf %sbit/s\\n'"
		if [ "${base##*/}" = totals ]; then
			echo "graph $base-table.png $common --title 'LVS $label: connection table'" \
				"--vertical-label entries DEF:a=$file:entries:AVERAGE DEF:i=$file:templates:AVERAGE" \
				"'AREA:a#FF7D00:entries  ' 'GPRINT:a:LAST:cur %8.0lf\\n'" \
				"'LINE2:i#8F005C:templates' 'GPRINT:i:LAST:cur %8.0lf\\n'"
		else
			echo "graph $base-active.png $common --title 'LVS $label: connections'" \
				"--vertical-label connections DEF:a=$file:active:AVERAGE DEF:i=$file:inactive:AVERAGE" \
				"'AREA:a#FF7D00:active  ' 'GPRINT:a:LAST:cur %8.0lf\\n'" \
				"'LINE2:i#8F005C:inactive' 'GPRINT:i:LAST:cur %8.0lf\\n'"
		fi
		n=$((n + 1))
	done >"$dir/.graph.cmds"
	[ "$n" -gt 0 ] || die "no RRDs in $dir: run update first"
	local out
	out=$(rrdtool - <"$dir/.graph.cmds") || die "rrdtool graph failed: $out"
	[[ $out != *ERROR* ]] || die "rrdtool graph: $out"
	echo "lvs-rrd: $((n * 4)) graphs in $dir"
}

case $1 in
update) update ;;
run)
	i=0
	while :; do
		t0=$EPOCHSECONDS
		# A failed step (agent unreachable) is a gap in the graphs, not the
		# end of the poller.
		(update) || echo "lvs-rrd: step at $t0 failed; trying again next step" >&2
		i=$((i + 1))
		[ "$count" -ne 0 ] && [ "$i" -ge "$count" ] && break
		left=$((t0 + step - EPOCHSECONDS))
		[ "$left" -le 0 ] || sleep "$left"
	done
	;;
graph) graph ;;
*) usage ;;
esac
