# faults-restarts.sh: TestFaultSnmpdRestarts's steps (faults_test.go).
set -u
for s in $(seq 10); do
	ipvsadm -A -t 10.9.0.$s:80 -s rr
	for d in 1 2 3; do ipvsadm -a -t 10.9.0.$s:80 -r 10.10.$s.$d:8080 -m; done
done
echo '{"version": 1, "services": [{"proto' > state.json   # truncated JSON
startagent --log-level debug
sleep 3
kill -0 $AGENT && echo "alive_nosnmpd yes" >> kv.txt
startsnmpd
echo "snmpd_ready_late $(waitfor 20 snmpdup)" >> kv.txt
echo "served_late $(waitfor 10 served)" >> kv.txt
echo "probe_late $(waitfor 10 snmpdup)" >> kv.txt

WALKERS=
for k in 1 2 3 4 5 6 7 8; do walker $k walk.stop 100 & WALKERS="$WALKERS $!"; done
round=0
for sig in KILL TERM KILL; do
	round=$((round+1))
	nap 4
	kill -$sig $SNMPD; wait $SNMPD 2>/dev/null
	if [ $round = 2 ]; then # away for 8 s: the agent must not spin
		c0=$(ticks $AGENT); sleep 8; echo "down_ticks $(( $(ticks $AGENT) - c0 ))" >> kv.txt
	fi
	sleep 0.5
	startsnmpd
	waitfor 20 snmpdup > /dev/null || exit 1
	echo "served_$round $(waitfor 10 served)" >> kv.txt
	echo "probe_$round $(waitfor 10 snmpdup)" >> kv.txt
done
sleep 4
: > walk.stop; wait $WALKERS
kill -0 $AGENT && echo "alive_end yes" >> kv.txt
bulkwalk > final.txt
echo "walks_ok $(cat walks/*.rc | grep -cx 0)" >> kv.txt
stopagent; echo "agent_exit $?" >> kv.txt
ls state.json.corrupt >/dev/null && echo "corrupt_aside yes" >> kv.txt
kill $SNMPD
