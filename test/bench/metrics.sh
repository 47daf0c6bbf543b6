# metrics.sh: the metrics endpoint's bench (metrics.go). For each size in
# SIZES it makes the table with ipvsbench, starts a fresh agent with
# --metrics-listen, and prints "SIZE KEY VALUE":
#   native_s            median time of SCRAPES scrapes of /metrics (gzip, as
#                       Prometheus asks) that each rendered a new body
#   native_age_s        the data age those bodies told (lvs_data_age_seconds):
#                       a read that outlasts --refresh-wait serves the last
#   native_read_s       how long their reads of IPVS took (lvs_read_duration_
#                       seconds): a scrape that waits for a read waits this
#   native_bytes        the gzipped body's size; native_series its series
#   native_cpu_s        the agent's CPU per scrape
#   native_rss_kib      the agent's RSS after the scrapes
#   names_*             the same with --metrics-real-servers names
#   snmpexp_s           one snmp_exporter scrape of the same table through
#                       snmpd (module lvs of contrib/prometheus/snmp.yml),
#                       up to SNMPEXP_MAX real servers
#   snmpexp_series      its series; snmpexp_agent_cpu_s, snmpexp_snmpd_cpu_s
#   speedup             snmpexp_s / native_s
# and at CONC_SIZE, PAIRS pairs of 10 s SNMP walk loops of the real server
# table, one alone and one beside scrapeloop's 8 scrapers, in alternating
# order: "@conc walk_alone VBS walk_scraped VBS scrapes_per_s N", each
# walk's varbinds over its own time (a walk loop ends after a whole walk
# past 10 s).
set -e
URL=http://127.0.0.1:9815/metrics
# scrape: one gzipped scrape; prints "SECONDS BYTES".
scrape() { curl -sf -H 'Accept-Encoding: gzip' -o body.gz -w '%{time_total} %{size_download}\n' $URL; }
# rendered N: N scrapes that each rendered a new body (one that differs
# from the one before): the agent serves a body again until its views
# change, which takes longer than the cache TTL where reads are costly
# (ten times their cost), and no sooner than ten times the last render's
# cost. Between scrapes it waits 1.2 s, doubled after every scrape that got
# the same body. Prints "SECONDS BYTES DATA_AGE READ_SECONDS" per rendered
# scrape.
rendered() {
	local got=0 wait=1.2 prev=
	while [ $got -lt $1 ]; do
		nap $wait
		read -r secs bytes < <(scrape)
		sum=$(md5sum < body.gz)
		if [ "$sum" = "$prev" ]; then wait=$(awk -v w=$wait 'BEGIN { print (w < 60) ? 2 * w : w }'); continue; fi
		prev=$sum got=$((got + 1)) wait=1.2
		echo "$secs $bytes $(gzip -dc body.gz | awk '$1 == "lvs_data_age_seconds" { a = $2 } $1 == "lvs_read_duration_seconds" { r = $2 } END { print a, r }')"
	done
}
metricsagent() { # FLAGS...
	startagent --cache-ttl 1s --watch-interval 0 --metrics-listen 127.0.0.1:9815 "$@"
	for i in $(seq 600); do curl -sf -o /dev/null $URL && return 0; sleep 0.5; done
	echo "the metrics endpoint never answered"; exit 1
}
prometheus-snmp-exporter --config.file="$WORK/snmp.yml" --web.listen-address=127.0.0.1:9116 2> exporter.log &
EXPORTER=$!
startsnmpd
for SIZE in $SIZES; do
	S=${SIZE%x*} D=${SIZE#*x}
	ipvsadm -C
	ipvsbench -rules $S $D | ipvsadm -R
	# names first: the agent of full (the default) stays for the rest.
	for mode in names full; do
		[ $mode = full ] && stopagent
		metricsagent --metrics-real-servers $mode
		scrape > /dev/null # the first read and render, not timed
		c0=$(ticks $AGENT)
		rendered $SCRAPES > scrapes.txt
		c1=$(ticks $AGENT)
		key=native; [ $mode = names ] && key=names
		result "$SIZE ${key}_s $(awk '{ print $1 }' scrapes.txt | median)"
		result "$SIZE ${key}_bytes $(awk '{ print $2 }' scrapes.txt | median)"
		result "$SIZE ${key}_series $(gzip -dc body.gz | grep -vc '^#')"
		result "$SIZE ${key}_age_s $(awk '{ print $3 }' scrapes.txt | median)"
		result "$SIZE ${key}_read_s $(awk '{ print $4 }' scrapes.txt | median)"
		result "$SIZE ${key}_cpu_s $(awk -v t=$((c1 - c0)) -v n=$SCRAPES 'BEGIN { printf "%.3f", t / 100 / n }')"
		result "$SIZE ${key}_rss_kib $(rss $AGENT)"
	done
	native=$(awk '{ print $1 }' scrapes.txt | median)
	if [ $((S * D)) -le $SNMPEXP_MAX ]; then
		waitserved 300
		c0=$(ticks $AGENT) s0=$(ticks $SNMPD)
		curl -sf -H 'X-Prometheus-Scrape-Timeout-Seconds: 7200' -o snmpexp.txt -w '%{time_total}\n' \
			"http://127.0.0.1:9116/snmp?module=lvs&target=$SNMP_TARGET" > snmpexp-time.txt
		c1=$(ticks $AGENT) s1=$(ticks $SNMPD)
		result "$SIZE snmpexp_s $(cat snmpexp-time.txt)"
		result "$SIZE snmpexp_series $(grep -c '^lvs' snmpexp.txt)"
		result "$SIZE snmpexp_agent_cpu_s $(awk -v t=$((c1 - c0)) 'BEGIN { printf "%.2f", t / 100 }')"
		result "$SIZE snmpexp_snmpd_cpu_s $(awk -v t=$((s1 - s0)) 'BEGIN { printf "%.2f", t / 100 }')"
		result "$SIZE speedup $(awk -v a=$(cat snmpexp-time.txt) -v b=$native 'BEGIN { printf "%.0f", a / b }')"
	fi
	if [ "$SIZE" = "$CONC_SIZE" ]; then
		waitserved 300
		walkloop -target $SNMP_TARGET -for 5s $LVS.18 > /dev/null # warm
		for p in $(seq $PAIRS); do
			for order in $( [ $((p % 2)) = 1 ] && echo "alone scraped" || echo "scraped alone"); do
				if [ $order = scraped ]; then
					scrapeloop -n 8 -for 12s $URL > conc.txt &
					LOOP=$!
					nap 1
				fi
				t0=$(us)
				n=$(walkloop -target $SNMP_TARGET -for 10s $LVS.18 | wc -l)
				vbs=$(awk -v n=$n -v t=$(( $(us) - t0 )) 'BEGIN { printf "%.0f", n / (t / 1e6) }')
				eval "walk_$order=$vbs"
				[ $order = scraped ] && wait $LOOP
			done
			result "$SIZE @conc walk_alone $walk_alone walk_scraped $walk_scraped $(tr '\n' ' ' < conc.txt)"
		done
	fi
	stopagent
done
kill $EXPORTER $SNMPD
