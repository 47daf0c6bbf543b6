# production.sh: TestProduction's steps (production_test.go), after table.sh.
# It runs snmpd the way the operator documentation says (the AgentX socket
# in a root-owned directory, group-accessible socket, a view for the
# LVS-MIB given to a v2c community and an SNMPv3 user; the socket is under
# /run, the scenario's own tmpfs, not the host's /var) with these helpers:
# snmpd_start CONF, snmpd_stop, agent_as CAPS LOG [flags] (starts
# lvs-agentx as nobody:nogroup holding exactly CAPS, e.g. "+net_admin" or
# "" for none), agent_stop; waitserved (test/scenario's lib.sh) waits until
# snmpd serves the agent.
set +e
for i in 1 2 3 4 5 6; do curl -sf -o /dev/null http://10.99.0.1/; done
sleep 3
export SNMP_PERSISTENT_DIR=$WORK/persist
mkdir -p $WORK/persist /run/lvs-agentx mibs
chown 65534:65534 /run/lvs-agentx
for f in /usr/lib/erlang/lib/snmp-*/mibs/{SNMPv2-SMI,SNMPv2-TC,SNMPv2-CONF,SNMPv2-MIB,INET-ADDRESS-MIB}.mib; do ln -sf "$f" mibs/; done
lvs-agentx mib --dir mibs
cat > snmpd-good.conf <<CONF
master agentx
agentXSocket /run/agentx/master
agentXPerms 0660 0755 root nogroup
view lvsview included .1.3.6.1.4.1.8225.4711
rocommunity public 127.0.0.1 -V lvsview
createUser u SHA authpass12 AES privpass12
rouser u priv -V lvsview
CONF
grep -v '^master agentx' snmpd-good.conf > snmpd-nomaster.conf
sed 's/^agentXPerms .*/agentXPerms 0600 0755 root root/' snmpd-good.conf > snmpd-perms.conf
snmpd_start() { # CONF [snmpd flags]; the log is on the guest's tmpfs (fast)
	conf=$1; shift
	snmpd -f -C -c "$conf" -Lf /run/snmpd.log "$@" -p /run/snmpd.pid udp:127.0.0.1:1161 &
	SNMPD=$!
	for i in $(seq 50); do
		snmpget -v2c -c public -t 0.2 -r 0 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711.9.0 2>&1 | grep -q 'Timeout' || break
		sleep 0.1
	done
}
snmpd_stop() { kill -TERM $SNMPD; wait $SNMPD; }
agent_as() {
	caps=$1 log=$2; shift 2
	LVS_AGENTX_AGENTX=/run/agentx/master setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all$caps --ambient-caps=-all$caps --bounding-set=-all$caps \
		lvs-agentx run --state-file /run/lvs-agentx/indexes.json --cache-ttl 1s "$@" 2>>"$log" &
	AGENT=$!
}
agent_stop() { kill -TERM $AGENT; wait $AGENT; echo "agent exit $?"; }
# a. least privilege: nobody with CAP_NET_ADMIN only.
snmpd_start snmpd-good.conf
agent_as ,+net_admin agent.log
waitserved
grep Cap /proc/$AGENT/status > agent-caps.txt
ps -o user= -p $AGENT > agent-user.txt
snmpbulkwalk -v2c -c public -On -t 5 -Cr50 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711 > walk.txt
snmpbulkwalk -v2c -c public -t 5 -M +$WORK/mibs -m +LVS-MIB 127.0.0.1:1161 LVS-MIB::lvsServiceTable > named.txt 2> named.err

# b. check, v2c and v3, with traffic flowing meanwhile.
(for i in $(seq 20); do curl -sf -o /dev/null http://10.99.0.1/; sleep 0.2; done) &
TRAFFIC=$!
lvs-agentx check --snmp udp:127.0.0.1:1161 --community public > check-v2c.txt 2>&1; echo "exit $?" >> check-v2c.txt
lvs-agentx check --snmp udp:127.0.0.1:1161 --user u --auth-pass authpass12 --priv-pass privpass12 > check-v3.txt 2>&1; echo "exit $?" >> check-v3.txt
wait $TRAFFIC
snmpbulkwalk -v3 -l authPriv -u u -a SHA -A authpass12 -x AES -X privpass12 -On -t 5 -Cr50 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711 > walk-v3.txt 2> walk-v3.err
# c. a wrong community, and wrong SNMPv3 credentials.
lvs-agentx check --snmp udp:127.0.0.1:1161 --community private --timeout 1s > check-community.txt 2>&1; echo "exit $?" >> check-community.txt
lvs-agentx check --snmp udp:127.0.0.1:1161 --user u --auth-pass wrongpass12 --priv-pass privpass12 --timeout 1s > check-v3-wrong.txt 2>&1; echo "exit $?" >> check-v3-wrong.txt

agent_stop > /dev/null
rm -f /run/lvs-agentx/indexes.json

# c. no capability: the agent keeps running and says what is missing.
agent_as "" agent-nocap.log
waitserved
sleep 0.5
snmpget -v2c -c public -On 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711.9.0 > nocap-available.txt
lvs-agentx check --snmp udp:127.0.0.1:1161 > check-nocap.txt 2>&1; echo "exit $?" >> check-nocap.txt
kill -0 $AGENT && echo running > nocap-running.txt
agent_stop > /dev/null
snmpd_stop

# d. SIGTERM: exit 0, Close seen by snmpd (its AgentX debug log), state written.
snmpd_start snmpd-good.conf -Dagentx/master
agent_as ,+net_admin agent-term.log
waitserved
agent_stop > agent-exit.txt
sleep 0.5
grep -i 'close' /run/snmpd.log > snmpd-close.txt
cp /run/lvs-agentx/indexes.json state.json
snmpd_stop

# c. the socket is the master's alone (0600 root): the agent may not connect.
snmpd_start snmpd-perms.conf
ls -l /run/agentx/master > perms-socket.txt
agent_as ,+net_admin agent-perms.log
sleep 3
lvs-agentx check --snmp udp:127.0.0.1:1161 > check-perms.txt 2>&1; echo "exit $?" >> check-perms.txt
agent_stop > /dev/null
snmpd_stop

# c. snmpd without "master agentx".
snmpd_start snmpd-nomaster.conf
agent_as ,+net_admin agent-nomaster.log
sleep 2
lvs-agentx check --snmp udp:127.0.0.1:1161 > check-nomaster.txt 2>&1; echo "exit $?" >> check-nomaster.txt
agent_stop > /dev/null
snmpd_stop
exit 0
