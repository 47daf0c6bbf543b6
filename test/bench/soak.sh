# soak.sh: the soak scenario (test/bench -soak), after scenario.Script's
# prelude (lib.sh) and MINUTES and OUTAGE_MINUTES: a 100x4 table (real
# servers of service 10.9.0.S are 10.10.S.R, mksvc), churn about twice a
# second, 8 bulkwalkers, snmpd killed (alternately KILL and TERM) and
# restarted every 2 minutes. Each walk is checked in the guest: no
# duplicate OID, every service index always carries one name, every real
# server's address belongs to its service. Then snmpd stays away for
# OUTAGE_MINUTES: the agent must live, not spin, and serve within 2 s of
# snmpd's return. It prints "KEY VALUE" lines. soakchurn and soakwalker
# are the soak's own: they run until the end, and the walker checks each
# walk as it goes.
set -u
# goroutines: SIGUSR1 makes the agent log its goroutine count.
goroutines() {
	local n=$(grep -c 'lvs-agentx status' agent.log)
	kill -USR1 $AGENT
	for i in $(seq 50); do [ $(grep -c 'lvs-agentx status' agent.log) -gt $n ] && break; sleep 0.1; done
	grep 'lvs-agentx status' agent.log | tail -n 1 | sed 's/.*goroutines=\([0-9]*\).*/\1/'
}
for s in $(seq 100); do echo "-A -t 10.9.0.$s:80 -s rr"; for d in 1 2 3 4; do echo "-a -t 10.9.0.$s:80 -r 10.10.$s.$d:8080 -m"; done; done | ipvsadm -R
startsnmpd
startagent
sleep 3
echo "agent_rss_kib_start $(rss $AGENT)"
echo "agent_threads_start $(threads $AGENT)"
echo "agent_goroutines_start $(goroutines)"
END=$((SECONDS + MINUTES * 60))
soakchurn() {
	local i=0
	while (( SECONDS < END )); do
		i=$((i + 1)); s=$(( i % 100 + 1 ))
		ipvsadm -D -t 10.9.0.$s:80; sleep 0.25; mksvc $s $(( 1 + i % 4 )); sleep 0.25
	done
	echo "churn_rounds $i"
}
# soakwalker K: walks until the end; one line per walk in walks-K.log:
# "ok NVARBINDS DUPS" or "fail RC t=SECONDS ERROR-LINES"; name pairs
# go to pairs-K.txt.
soakwalker() {
	while (( SECONDS < END )); do
		if snmpbulkwalk -v2c -c public -On -m '' -t 5 -Cr50 127.0.0.1:1161 $LVS > w$1.txt 2> w$1.err; then
			echo "ok $(wc -l < w$1.txt) $(cut -d' ' -f1 w$1.txt | sort | uniq -d | wc -l)" >> walks-$1.log
			awk -F' = STRING: ' '
				$1 ~ /^\.1\.3\.6\.1\.4\.1\.8225\.4711\.17\.1\.34\./ { sub(/^\.1\.3\.6\.1\.4\.1\.8225\.4711\.17\.1\.34\./, "", $1); print "S", $1, $2 }
				$1 ~ /^\.1\.3\.6\.1\.4\.1\.8225\.4711\.18\.1\.31\./ { sub(/^\.1\.3\.6\.1\.4\.1\.8225\.4711\.18\.1\.31\./, "", $1); print "R", $1, $2 }' w$1.txt >> pairs-$1.txt
		else
			echo "fail $? t=$SECONDS $(head -n 3 w$1.err | tr '\n' ' ')" >> walks-$1.log
		fi
	done
}
soakchurn > churn.out & CH=$!
W=; for k in 1 2 3 4 5 6 7 8; do soakwalker $k & W="$W $!"; done
r=0
while (( SECONDS + 120 < END )); do
	sleep 120; r=$((r + 1))
	sig=KILL; [ $((r % 2)) = 0 ] && sig=TERM
	kill -$sig $SNMPD; wait $SNMPD 2>/dev/null; sleep 1; startsnmpd
	echo "restart_$r t=$SECONDS $sig rss_kib=$(rss $AGENT) threads=$(threads $AGENT) goroutines=$(goroutines)"
done
wait $CH $W
cat churn.out

kill -TERM $SNMPD; wait $SNMPD 2>/dev/null
c0=$(ticks $AGENT); a0=$(grep -c 'agentx connect failed' agent.log); t0=$SECONDS
sleep $((OUTAGE_MINUTES * 60))
echo "outage_s $((SECONDS - t0))"
echo "outage_agent_cpu_s $(awk -v c=$(( $(ticks $AGENT) - c0 )) 'BEGIN { printf "%.2f", c / 100 }')"
echo "outage_connect_attempts $(( $(grep -c 'agentx connect failed' agent.log) - a0 ))"
echo "outage_agent_alive $(kill -0 $AGENT && echo yes || echo no)"
startsnmpd
until snmpget -v2c -c public -On -m '' -t 0.2 -r 0 127.0.0.1:1161 .1.3.6.1.2.1.1.3.0 2>/dev/null | grep -q Timeticks; do sleep 0.05; done
t0=$(us)
for i in $(seq 200); do snmpget -v2c -c public -On -m '' -t 0.2 -r 0 127.0.0.1:1161 $LVS.1.0 2>/dev/null | grep -q STRING && break; done
echo "outage_served_after_s $(awk -v u=$(( $(us) - t0 )) 'BEGIN { printf "%.2f", u / 1e6 }')"
echo "agent_alive $(kill -0 $AGENT && echo yes || echo no)"
echo "agent_rss_kib_end $(rss $AGENT)"
echo "agent_threads_end $(threads $AGENT)"
echo "agent_goroutines_end $(goroutines)"
grep -h '^fail' walks-*.log | sort -t= -k2 -n | sed 's/^/failed_walk /'
cat walks-*.log | awk '{ n[$1]++ } $1 == "ok" { vb += $2; dup += $3 } END { printf "walks_ok %d\nwalks_failed %d\nvarbinds %d\nduplicate_oids %d\n", n["ok"], n["fail"], vb, dup }'
# wrong values: an index with two names, or a real server under a service of
# another name (a walk is not a snapshot: a service created during a walk may
# show real servers but no name, which is not wrong).
sort -u pairs-*.txt | awk '
	$1 == "S" { name = $0; sub(/^S [^ ]+ /, "", name)  # the name has a space
		if (($2 in s) && s[$2] != name) { bad++; if (bad <= 10) print "wrong_row service " $2 " named " s[$2] " and " name }
		s[$2] = name }
	$1 == "R" { r[$2] = $3 }
	END {
		for (i in r) { split(i, p, "."); a = r[i]; gsub(/"/, "", a); split(a, q, "."); n = s[p[1]]; gsub(/"/, "", n)
			if (n != "" && n != "TCP 10.9.0." q[3] ":80") { bad++; if (bad <= 10) print "wrong_row real " i " " a " under " n } }
		printf "wrong_rows %d\n", bad + 0 }'
kill -TERM $AGENT; wait $AGENT; echo "agent_exit $?"
grep -c . agent.log | sed 's/^/agent_log_lines /'
kill $SNMPD
