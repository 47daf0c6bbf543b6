# conns.sh: the connection-table bench (conns.go). A backup sync daemon on
# lo takes syncgen's messages: the table grows to each size in
# CONN_SIZES without traffic. At each size it prints "N KEY VALUE":
#   entries      what the kernel holds (lines of ip_vs_conn_sync)
#   reads        the agent's reads of the whole table since it grew (debug log)
#   read_s       their median time, s
#   per_entry_ns that read per entry
#   next_after   when the agent reads the table again after its last read
#                (its log): read_s over it is the share of a CPU the reads take
#   cpu          the agent's CPU share over 60 s of polling once a second
#   rss_kib      the agent's RSS
#   walk_vbs     varbinds/s of a 10 s walk loop of the real-server table
set -e
ip link set lo multicast on
# A receive buffer for bursts of messages (the default holds a few dozen).
echo 8388608 > /proc/sys/net/ipv4/vs/sync_sock_size
ipvsadm --start-daemon backup --mcast-interface lo --syncid 1
mksvc 1 4
startsnmpd
startagent
waitserved
# reads SINCE: the agent's connection-table reads logged after line SINCE,
# as "SECONDS ENTRIES" lines.
reads() { tail -n +$(($1 + 1)) agent.log | sed -n 's/.*msg="connection table read" entries=\([0-9]*\) seconds=\([0-9.e+-]*\).*/\2 \1/p'; }
for n in $CONN_SIZES; do
	mark=$(wc -l < agent.log)
	# Sync messages are UDP: resend the whole range (an entry already there
	# is only refreshed) until the kernel holds every one, at most 3 times.
	for try in 1 2 3; do
		[ $n -gt 0 ] && syncgen -n $n -syncid 1 -iface lo -pace 1ms
		kernel=$(($(wc -l < /proc/net/ip_vs_conn_sync) - 1))
		[ $kernel -ge $n ] && break
	done
	# Until the agent has read the table at that size.
	for i in $(seq 900); do
		got=$(get1 $LVS.21.1.0 | sed -n 's/.*Gauge32: //p')
		[ -n "$got" ] && [ "$got" -ge $kernel ] && break
		sleep 1
	done
	result "$n entries $kernel"
	result "$n agent_entries $got"
	t0=$(ticks $AGENT); s0=$(us)
	for i in $(seq 60); do get1 $LVS.21.1.0 $LVS.21.4.0 > /dev/null; nap 1; done
	t1=$(ticks $AGENT); s1=$(us)
	result "$n cpu $(awk -v t=$((t1 - t0)) -v u=$((s1 - s0)) 'BEGIN { printf "%.4f", t / 100 / (u / 1e6) }')"
	result "$n rss_kib $(rss $AGENT)"
	# The reads of the whole table: their time, per entry, and when the
	# agent reads it again.
	reads $mark | awk -v k=$kernel '$2 >= k' > reads-$n.txt
	result "$n reads $(wc -l < reads-$n.txt)"
	result "$n read_s $(median < reads-$n.txt)"
	result "$n per_entry_ns $(sort -g reads-$n.txt | awk '{ a[NR] = $1; e[NR] = $2 } END { m = int((NR + 1) / 2); if (NR && e[m]) printf "%.0f\n", a[m] * 1e9 / e[m]; else print "none" }')"
	result "$n next_after $(tail -n +$((mark + 1)) agent.log | sed -n 's/.*msg="connection table read".* next_after=\([^ ]*\).*/\1/p' | tail -1)"
	result "$n walk_vbs $(walkloop -target 127.0.0.1:1161 -for 10s $LVS.18 | awk 'END { printf "%.0f\n", NR / 10 }')"
done
stopagent
