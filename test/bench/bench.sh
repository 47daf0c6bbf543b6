# bench.sh: the scale benchmark's scenario (test/bench), after
# scenario.Script's prelude (lib.sh: startsnmpd, startagent, waitserved,
# us, secs, ticks, rss, ...) and the variables main.go sets: SIZES,
# WALK_MAX, BULK_MAX, BASELINE, REFS, PAIRS. It measures, for each size,
# with one snmpd and a fresh agent per size, and prints "SIZE KEY VALUE"
# lines. Times come from bash's EPOCHREALTIME (microseconds), CPU from
# /proc/PID/stat (USER_HZ = 100 ticks/s). The pairs' statistics are the
# host's (stats.go): the script prints their inputs as "SIZE @pair ..."
# and where they go as "SIZE @pairstats".

# keepalived_yardstick measures keepalived, the AgentX subagent LVS
# operators already run, on the same snmpd and the same table: it writes a
# keepalived.conf with a virtual_server per service of table.rules (no
# health checks) and lets keepalived create the IPVS table itself. Then a
# fresh agent of ours serves that same table, and PAIRS pairs are walked
# after one unmeasured pair (a fresh process's first walk pays for pages
# and translated code the later ones find ready). A pair is one walkloop
# walking both sides' subtrees interleaved, one GetBulk of each in turn,
# for at least 20 s in all and until each side has walked its whole table
# (keepalived's cost per varbind grows along its table), with the same
# max-repetitions as the other walks; which side goes first alternates
# from pair to pair. Walked one after the other, two walks of 10 s each in
# the emulated guest moved by up to a fifth from the next for reasons
# neither agent controls (BENCHMARKS.md); interleaved, both sides see the
# same guest to the millisecond. Each side's rate is its varbinds over the
# time of its own GetBulks, each timed from its sending to the sending of
# the other side's next one, and its CPU per varbind its agent's CPU over
# the pair by its varbinds (each agent works only for its own side's
# requests). Ratios are reported per pair with their median and, for the
# median, a 95% confidence bound, by which BENCHMARKS.md judges the
# agent's speed against keepalived's. Each side walks what the size calls
# for: keepalived's whole checker subtree (KEEPALIVED-MIB
# .1.3.6.1.4.1.9586.100.5.3: virtualServerTable, realServerTable and the
# LVS scalars) against our whole subtree up to BULK_MAX real servers, else
# realServerAddress against the column of ours with the same InetAddress
# under the same two-integer index (lvsRealServerInetAddr).
#
# Each side walks through a community whose view leaves out the other's
# subtree (main.go's snmpd.conf), so each walk sees snmpd as it is with
# that agent alone. Without the views, the last GetBulk of every walk of
# ours ran on past our subtree (.8225) into keepalived's (.9586), up to
# max-repetitions of varbinds answered by keepalived, while keepalived's
# walks end in nothing: snmpd skips a subtree outside the view without
# asking its subagent.
KA=.1.3.6.1.4.1.9586.100.5.3
kaconf() {
	awk 'BEGIN { print "global_defs {"; print "  enable_snmp_checker"; print "}" }
	$1 == "-A" { if (open) print "}"; split($3, a, ":")
		printf "virtual_server %s %s {\n  lb_algo %s\n  lb_kind NAT\n  protocol TCP\n", a[1], a[2], $5; open = 1 }
	$1 == "-a" { split($5, r, ":"); printf "  real_server %s %s {\n    weight %s\n  }\n", r[1], r[2], $8 }
	END { if (open) print "}" }' table.rules
}
# pairside NAME VARBINDS SECONDS TICKS: one side of a pair, its agent's
# CPU ticks over the pair given.
pairside() {
	out "$1_varbinds" $2
	out "$1_s" $3
	out "$1_vb_per_s" $(awk -v n=$2 -v s=$3 'BEGIN { printf "%.0f", n / s }')
	out "$1_agent_ms_per_vb" $(awk -v c=$4 -v n=$2 'BEGIN { printf "%.3f", 10 * c / n }')
}
keepalived_yardstick() {
	ipvsadm -C
	kaconf > keepalived.conf
	rm -f ka.pid ka-check.pid
	keepalived -n -l -C -x -A "$WORK/agentx.sock" -f "$WORK/keepalived.conf" -p "$WORK/ka.pid" -c "$WORK/ka-check.pid" 2>>keepalived.log &
	local parent=$! i t0=$(us)
	# Ready once the kernel has every real server and keepalived serves
	# the last one (virtualServerIndex S, realServerIndex D).
	for i in $(seq 1200); do
		[ "$(ipvsadm -Ln | grep -c -- '->')" -gt $((S * D)) ] &&
			snmpget -v2c -c public -On -m '' -t 5 127.0.0.1:1161 $KA.4.1.2.$S.$D 2>/dev/null | grep -q INTEGER && break
		sleep 0.5
	done
	out keepalived_ready_s $(secs $(( $(us) - t0 )) 3)
	AGENT=$(pgrep -P $parent | head -1) # the checker child serves SNMP
	[ -n "$AGENT" ] || { out keepalived_error "no checker process"; kill $parent; wait $parent; return 1; }
	out keepalived_services "$(ipvsadm -Ln | grep -c '^TCP')"
	local ka=$AGENT ours p
	out keepalived_rss_kib_start $(rss $ka)
	benchagent 1h
	ours=$AGENT
	out pairs_agent_rss_kib_start $(rss $ours)
	local name=bulkwalk ostart=lvsalone@$LVS kastart=kaalone@$KA
	if [ $((S * D)) -gt $BULK_MAX ]; then
		name=bulkwalk_realaddr_column ostart=lvsalone@$LVS.18.1.18 kastart=kaalone@$KA.4.1.4
	fi
	local loop=(walkloop -target 127.0.0.1:1161 -for 10s -r 50 -summary "$WORK/pair.sum") failed=
	"${loop[@]}" $ostart $kastart > /dev/null 2>walk.err || { out pairs_error "$(head -c 200 walk.err | tr '\n' ' ')"; failed=1; }
	local order first o0 o1 k0 k1 s0 s1 t0 t1 n ov os kv ks
	for p in $( [ -z "$failed" ] && seq $PAIRS ); do
		order="$ostart $kastart" first=ours; [ $((p % 2)) = 0 ] && order="$kastart $ostart" first=keepalived
		o0=$(ticks $ours) k0=$(ticks $ka) s0=$(ticks $SNMPD) t0=$(us)
		n=$("${loop[@]}" $order 2>walk.err | wc -l)
		t1=$(us) o1=$(ticks $ours) k1=$(ticks $ka) s1=$(ticks $SNMPD)
		[ -s walk.err ] && { out "pair${p}_error" "$(head -c 200 walk.err | tr '\n' ' ')"; failed=1; break; }
		read ov os < <(awk -v r=${ostart#*@} '$1 == r { print $2, $4 }' "$WORK/pair.sum")
		read kv ks < <(awk -v r=${kastart#*@} '$1 == r { print $2, $4 }' "$WORK/pair.sum")
		[ $((ov + kv)) = $n ] || { out "pair${p}_error" "$n names printed, $ov + $kv counted"; failed=1; break; }
		out "pair${p}_first" $first
		out "pair${p}_wall_s" $(secs $((t1 - t0)) 3)
		pairside "pair${p}_${name}" $ov $os $((o1 - o0))
		pairside "pair${p}_keepalived_${name}" $kv $ks $((k1 - k0))
		out "pair${p}_snmpd_ms_per_vb" $(awk -v c=$((s1 - s0)) -v n=$n 'BEGIN { printf "%.3f", 10 * c / n }')
		# for the host's statistics (stats.go), which it replaces with none
		echo "$SIZE @pair $ov $os $((o1 - o0)) $kv $ks $((k1 - k0))"
	done
	if [ -n "$failed" ]; then
		AGENT=$ours stopagent
		kill -TERM $parent; wait $parent
		ipvsadm -C
		return 1
	fi
	local orss=$(rss $ours) krss=$(rss $ka)
	out pairs_agent_rss_kib_after_walks $orss
	out pairs_agent_rss_parts_kib_after_walks $(rssparts $ours)
	out keepalived_rss_kib_after_walks $krss
	out keepalived_rss_parts_kib_after_walks $(rssparts $ka)
	# the host writes the pairs' ratios, their medians and bounds here
	echo "$SIZE @pairstats"
	out pairs_rss_ratio $(awk -v a=$orss -v b=$krss 'BEGIN { printf "%.2f", a / b }')
	AGENT=$ours stopagent
	kill -TERM $parent; wait $parent
	ipvsadm -C
}

set -u
startsnmpd
out() { echo "$SIZE $1 $2"; echo "$SIZE $1 $2" >> "$CTL/progress"; } # $CTL/progress: visible while it runs
# benchagent TTL [BINARY] [WATCH]: an agent (BINARY's, default ours) with
# cache TTL TTL, served before it returns. Walks are measured without the
# watch (0), so they time the request path alone; a BINARY other than ours
# is started without --watch-interval (an older build may not know it).
benchagent() {
	local bin=${2:-lvs-agentx}
	AGENT_BIN=$bin startagent --cache-ttl "$1" $( [ "$bin" = lvs-agentx ] && echo "--watch-interval ${3:-0}" )
	waitserved 300 || exit 1
}
# timedwalk NAME CMD...: runs CMD with output to /dev/null, prints wall seconds
# and the agent's CPU seconds during it; CMD's stdout line count is kept.
timedwalk() {
	local name=$1; shift
	local k0=$(taskticks $AGENT) c0=$(ticks $AGENT) s0=$(ticks $SNMPD) t0=$(us)
	local n=$("$@" 2>walk.err | wc -l)
	local t1=$(us) c1=$(ticks $AGENT) s1=$(ticks $SNMPD) k1=$(taskticks $AGENT)
	local wall=$(( t1 - t0 ))
	out "${name}_agent_thread_ticks" "$(taskdelta $AGENT "$k0" "$k1")"
	out "${name}_varbinds" $n
	out "${name}_wall_s" $(secs $wall 3)
	out "${name}_vb_per_s" $(awk -v n=$n -v w=$wall 'BEGIN { printf "%.0f", n / (w / 1e6) }')
	out "${name}_agent_cpu_s" $(awk -v c=$((c1 - c0)) 'BEGIN { printf "%.2f", c / 100 }')
	out "${name}_agent_cpu_pct" $(awk -v c=$((c1 - c0)) -v w=$wall 'BEGIN { printf "%.1f", 100 * (c / 100) / (w / 1e6) }')
	out "${name}_agent_ms_per_vb" $(awk -v c=$((c1 - c0)) -v n=$n 'BEGIN { printf "%.3f", 10 * c / n }')
	out "${name}_snmpd_ms_per_vb" $(awk -v c=$((s1 - s0)) -v n=$n 'BEGIN { printf "%.3f", 10 * c / n }')
	[ -s walk.err ] && { out "${name}_error" "$(head -c 200 walk.err | tr '\n' ' ')"; }
	return 0
}
# getlat N: mean wall ms of N single-OID snmpgets (process start included).
getlat() {
	local t0=$(us)
	for i in $(seq $1); do snmpget -v2c -c public -On -m '' 127.0.0.1:1161 $LVS.2.0 > /dev/null; done
	secs $(( ($(us) - t0) / $1 * 1000 )) 3
}

# Native comparison: snmpd walking its own IF-MIB ifTable + ifXTable over
# 2000 dummy interfaces (REFS=0 leaves these references out).
SIZE=native
if [ "$REFS" = 1 ]; then
for i in $(seq 2000); do echo "link add d$i type dummy"; done > links.batch
ip -batch links.batch || exit 1
AGENT=$SNMPD
timedwalk ifmib_bulkwalk snmpbulkwalk -v2c -c public -On -m '' -t 10 -Cr50 127.0.0.1:1161 .1.3.6.1.2.1.2.2
timedwalk ifxmib_bulkwalk snmpbulkwalk -v2c -c public -On -m '' -t 10 -Cr50 127.0.0.1:1161 .1.3.6.1.2.1.31.1.1
# GetNext: ifTable's first five columns (10,000 varbinds), the whole table
# would take minutes one varbind per request.
timedwalk ifmib_walk snmpwalk -v2c -c public -On -m '' -t 10 -CE .1.3.6.1.2.1.2.2.1.6 127.0.0.1:1161 .1.3.6.1.2.1.2.2
# The same tables through AgentX, served by net-snmp's own C subagent
# (snmpd -X) to a master that leaves them out (-I -...): what the AgentX
# path costs whoever the subagent is.
kill $SNMPD; wait $SNMPD
startsnmpd -I -ifTable,ifXTable,interfaces
echo "agentXSocket $WORK/agentx.sock" > sub.conf
snmpd -f -X -C -c sub.conf -Lf sub.log -p sub.pid &
AGENT=$!
for i in $(seq 100); do
	snmpget -v2c -c public -On -m '' 127.0.0.1:1161 .1.3.6.1.2.1.2.2.1.2.1 2>/dev/null | grep -q STRING && break
	sleep 0.2
done
timedwalk csub_ifmib_bulkwalk snmpbulkwalk -v2c -c public -On -m '' -t 10 -Cr50 127.0.0.1:1161 .1.3.6.1.2.1.2.2
timedwalk csub_ifxmib_bulkwalk snmpbulkwalk -v2c -c public -On -m '' -t 10 -Cr50 127.0.0.1:1161 .1.3.6.1.2.1.31.1.1
kill $AGENT; wait $AGENT
sed 's/^link add \(d[0-9]*\) type dummy$/link del \1/' links.batch > unlinks.batch
ip -batch unlinks.batch
else # the same master as above, for the LVS sizes
	kill $SNMPD; wait $SNMPD
	startsnmpd -I -ifTable,ifXTable,interfaces
fi

for SIZE in $SIZES; do
	S=${SIZE%x*} D=${SIZE#*x}
	ipvsadm -C
	ipvsbench -rules $S $D > table.rules
	t0=$(us); ipvsadm -R < table.rules || exit 1; out restore_s $(secs $(( $(us) - t0 )) 3)
	n=20; [ $((S * D)) -ge 10000 ] && n=5
	out read "$(ipvsbench -n $n)"
	t0=$(us); lvs-agentx dump --format=oids --state-file "$WORK/dump-$SIZE.json" > /dev/null; out dump_oids_s $(secs $(( $(us) - t0 )) 3)

	benchagent 1h
	out agent_rss_kib_start $(rss $AGENT)
	if [ $((S * D)) -le $BULK_MAX ]; then
		timedwalk bulkwalk snmpbulkwalk -v2c -c public -On -m '' -t 30 -Cr50 127.0.0.1:1161 $LVS
	else # one column, the one keepalived's yardstick walks: the whole view is still built and served
		timedwalk bulkwalk_realaddr_column snmpbulkwalk -v2c -c public -On -m '' -t 30 -Cr50 127.0.0.1:1161 $LVS.18.1.18
	fi
	out agent_rss_kib_after_walk $(rss $AGENT)
	out agent_rss_parts_kib_after_walk $(rssparts $AGENT)
	out agent_threads $(threads $AGENT)
	if [ $((S * D)) -le $WALK_MAX ]; then
		timedwalk walk snmpwalk -v2c -c public -On -m '' -t 30 127.0.0.1:1161 $LVS
	fi
	out get_ms_no_refresh $(getlat 20)
	stopagent
	# A TTL far below the read time keeps a refresh running nearly always.
	benchagent 1ms
	snmpbulkwalk -v2c -c public -m '' -Cr50 127.0.0.1:1161 $LVS.2 > /dev/null
	out get_ms_refreshing $(getlat 20)
	out agent_rss_kib_refreshing $(rss $AGENT)
	stopagent
	# The watch's cost on an idle agent: default interval, no requests,
	# over a window long enough to hold several of its reads even where
	# the rule spaces them by ten times a read's cost (seconds at 50,000
	# real servers).
	benchagent 1h lvs-agentx 5s
	w=30; [ $((S * D)) -ge 10000 ] && w=180
	k0=$(taskticks $AGENT); c0=$(ticks $AGENT); t0=$(us); sleep $w; c1=$(ticks $AGENT); t1=$(us); k1=$(taskticks $AGENT)
	out watch_idle_thread_ticks "$(taskdelta $AGENT "$k0" "$k1")"
	out watch_idle_cpu_pct $(awk -v c=$((c1 - c0)) -v w=$((t1 - t0)) 'BEGIN { printf "%.2f", 100 * (c / 100) / (w / 1e6) }')
	stopagent
	if [ -n "$BASELINE" ] && [ $((S * D)) -le $BULK_MAX ]; then
		benchagent 1h "$BASELINE"
		timedwalk baseline_bulkwalk snmpbulkwalk -v2c -c public -On -m '' -t 30 -Cr50 127.0.0.1:1161 $LVS
		out baseline_rss_kib_after_walk $(rss $AGENT)
		out baseline_rss_parts_kib_after_walk $(rssparts $AGENT)
		stopagent
	fi
	keepalived_yardstick || true
done
kill $SNMPD
