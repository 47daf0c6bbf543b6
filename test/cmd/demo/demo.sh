# The demo scenario, run as root in a network namespace of its own with
# $WORK/bin on PATH.
set -eu
say() { printf '\n==== %s\n' "$*"; }

say "Virtual services: TCP and UDP over IPv4, TCP over IPv6, a fwmark service"
ip addr add 10.99.0.1/32 dev lo
ip addr add 10.99.0.2/32 dev lo
ip -6 addr add fd00::1/128 dev lo nodad
mkdir -p /tmp/www
head -c 2000 /dev/urandom > /tmp/www/index.html
busybox httpd -p 127.0.0.1:8080 -h /tmp/www
busybox httpd -p 127.0.0.1:8081 -h /tmp/www
busybox httpd -p '[::1]:8080' -h /tmp/www

ipvsadm -A -t 10.99.0.1:80 -s rr
ipvsadm -a -t 10.99.0.1:80 -r 127.0.0.1:8080 -m -w 1
ipvsadm -a -t 10.99.0.1:80 -r 127.0.0.1:8081 -m -w 2
ipvsadm -A -u 10.99.0.2:53 -s wlc
ipvsadm -a -u 10.99.0.2:53 -r 127.0.0.1:5353 -m
ipvsadm -A -t '[fd00::1]:80' -s sh -p 300
ipvsadm -a -t '[fd00::1]:80' -r '[::1]:8080' -m
ipvsadm -A -f 5 -s wrr
ipvsadm -a -f 5 -r 127.0.0.1 -g -w 0
ipvsadm --start-daemon master --mcast-interface lo

say "Sending traffic: 20 HTTP requests to 10.99.0.1:80 and 10 to [fd00::1]:80"
for i in $(seq 20); do curl -sf -o /dev/null http://10.99.0.1/; done
for i in $(seq 10); do curl -sf -o /dev/null 'http://[fd00::1]/'; done
sleep 3 # the kernel folds per-CPU counters into the totals every 2 s

say "ipvsadm -Ln --stats --exact (the kernel, through ipvsadm)"
ipvsadm -Ln --stats --exact

say "lvs-agentx dump (the same kernel state, read by our generic-netlink reader)"
lvs-agentx dump

say "snmpd as AgentX master, lvs-agentx as its subagent"
cat > snmpd.conf <<CONF
master agentx
agentXSocket $WORK/agentx.sock
agentXPerms 0777 0777
rocommunity public 127.0.0.1
[snmp] persistentDir $WORK/snmp-state
CONF
snmpd -f -C -c snmpd.conf -Lf snmpd.log -p snmpd.pid udp:127.0.0.1:1161 &
lvs-agentx run --agentx "$WORK/agentx.sock" --state-file "$WORK/indexes.json" --metrics-listen 127.0.0.1:9815 2> agent.log &
for i in $(seq 100); do
	snmpget -v2c -c public -m '' 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711.1.0 2>/dev/null | grep -q STRING && break
	sleep 0.2
done
cat agent.log

mkdir -p mibs
for f in /usr/lib/erlang/lib/snmp-*/mibs/{SNMPv2-SMI,SNMPv2-TC,SNMPv2-CONF,SNMPv2-MIB,INET-ADDRESS-MIB}.mib; do
	[ -e "$f" ] && ln -sf "$f" mibs/
done
lvs-agentx mib --dir mibs
say "snmpwalk -v2c -c public -m LVS-MIB 127.0.0.1:1161 LVS-MIB::lvs (through snmpd)"
snmpwalk -v2c -c public -M "+$WORK/mibs" -m LVS-MIB 127.0.0.1:1161 LVS-MIB::lvs

say "lvs-agentx check: the walk through snmpd agrees with IPVS"
lvs-agentx check --snmp udp:127.0.0.1:1161 --community public

say "curl http://127.0.0.1:9815/metrics: the same state for Prometheus, no snmpd in the way (a few families)"
curl -sf http://127.0.0.1:9815/metrics | grep -E '^lvs_(up|service_connections_total|service_in_bytes_total|real_server_weight|real_server_active_connections)[ {]'
say "lvs-agentx check --metrics: the endpoint agrees with IPVS"
lvs-agentx check --metrics http://127.0.0.1:9815/metrics

say "RRDtool graphs: contrib/rrdtool/lvs-rrd.sh polls every 5 s while traffic flows"
( end=$(( EPOCHSECONDS + 40 )); while (( EPOCHSECONDS < end )); do curl -sf -o /dev/null http://10.99.0.1/; sleep 0.2; done ) &
t1=$!
( end=$(( EPOCHSECONDS + 40 )); while (( EPOCHSECONDS < end )); do curl -sf -o /dev/null 'http://[fd00::1]/'; sleep 0.5; done ) &
t2=$!
rrd="$REPO/contrib/rrdtool/lvs-rrd.sh"
"$rrd" -H udp:127.0.0.1:1161 -s 5 -d "$WORK/graphs" -n 9 run
wait $t1 $t2
"$rrd" -H udp:127.0.0.1:1161 -d "$WORK/graphs" -S -60s graph
ls "$WORK"/graphs/*.png | sed 's/^/  /'
