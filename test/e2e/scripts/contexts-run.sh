# contexts-run.sh: snmpd and the agent serving /run/netns, through every
# context (contexts_test.go's contextsRun); CTX_USER and CTX_PASS are the
# SNMPv3 user's.
mkdir -p persist
startsnmpd
v2c() { # CONTEXT TOOL ARGS...: a net-snmp tool reaching CONTEXT by its community
	c=public; [ "$1" = default ] || c=pub$1
	shift; tool=$1; shift
	$tool -v2c -c "$c" -On -m '' -t 5 -r 1 127.0.0.1:1161 "$@"
}
v3() { # CONTEXT TOOL ARGS...
	ctx=$1; shift; tool=$1; shift
	$tool -v3 -l authPriv -u "$CTX_USER" -a SHA -A "$CTX_PASS" -x AES -X "$CTX_PASS" -n "$ctx" -On -m '' -t 5 -r 1 127.0.0.1:1161 "$@"
}
# ctxserved CONTEXT: the agent answers in it (lvsIpvsAvailable.0 = true(1)).
# One quick try: snmpd drops a v2c request for a context nobody serves, and
# the default timeout would make each miss cost seconds.
ctxserved() {
	c=public; [ "$1" = default ] || c=pub$1
	snmpget -v2c -c "$c" -On -m '' -t 0.5 -r 0 127.0.0.1:1161 .1.3.6.1.4.1.8225.4711.9.0 2>/dev/null | grep -q 'INTEGER: 1'
}
# waitfor polls every 0.2 s here, at most 60 s; it prints the seconds since
# $T0 (when set) or since it began.
POLL=0.2
startagent
waitfor 60 ctxserved default > /dev/null
for ns in default red green blue; do
	waitfor 60 ctxserved $ns > /dev/null
	v2c $ns snmpwalk .1.3.6.1.4.1.8225.4711 > $ns-v2c.txt
done
for ns in red green blue; do v3 $ns snmpwalk .1.3.6.1.4.1.8225.4711 > $ns-v3.txt; done
# What an operator runs: check one context against its namespace (by v3
# context name, and by v2c community), and dump what the agent serves there.
lvs-agentx check --snmp udp:127.0.0.1:1161 --user "$CTX_USER" --auth-pass "$CTX_PASS" --priv-pass "$CTX_PASS" \
	--context blue --netns /run/netns/blue > check-blue-v3.txt 2>&1 || true
lvs-agentx check --snmp udp:127.0.0.1:1161 --community pubred --netns /run/netns/red > check-red-v2c.txt 2>&1 || true
lvs-agentx check --snmp udp:127.0.0.1:1161 --community pubred --netns /run/netns/blue > check-mismatch.txt 2>&1 || true
lvs-agentx dump --format oids --netns /run/netns/red --state-file "$WORK/state.json" > red-dump.txt
v3 default snmpwalk .1.3.6.1.4.1.8225.4711 > default-v3-nocontext.txt || true

# A fourth namespace while the agent runs: the time from its creation until
# it is served through snmpd.
T0=${EPOCHREALTIME/./}; ip netns add yellow
waitfor 60 ctxserved yellow > yellow-served.txt
ip -n yellow link set lo up
ip netns exec yellow ipvsadm -A -t 10.4.0.1:80 -s rr
ip netns exec yellow ipvsadm -a -t 10.4.0.1:80 -r 10.4.1.1:80 -g
sleep 1.5 # past the cache TTL
v3 yellow snmpwalk .1.3.6.1.4.1.8225.4711 > /dev/null # starts the re-read
v3 yellow snmpwalk .1.3.6.1.4.1.8225.4711 > yellow-v3.txt

# One deleted while the agent runs: its context goes.
gone() { ! snmpget -v3 -l authPriv -u "$CTX_USER" -a SHA -A "$CTX_PASS" -x AES -X "$CTX_PASS" -n green -On -m '' -t 0.5 -r 0 \
	127.0.0.1:1161 .1.3.6.1.4.1.8225.4711.9.0 2>/dev/null | grep -q 'INTEGER'; }
T0=${EPOCHREALTIME/./}; ip netns del green
waitfor 60 gone > green-gone.txt
unset T0

# An agent restart, then green re-created with its services in another
# order: each context keeps its numbers.
stopagent; echo "agent exit $?" > agent-exit.txt
startagent
for ns in red blue yellow; do waitfor 60 ctxserved $ns > /dev/null; v3 $ns snmpwalk .1.3.6.1.4.1.8225.4711 > $ns-restarted.txt; done
ip netns add green; ip -n green link set lo up
ip netns exec green ipvsadm -A -t 10.2.0.9:25 -s lc
ip netns exec green ipvsadm -a -t 10.2.0.9:25 -r 10.2.1.2:25 -g
ip netns exec green ipvsadm -A -f 7 -s rr
ip netns exec green ipvsadm -a -f 7 -r 10.2.1.1 -g -w 0
ip netns exec green ipvsadm -A -t 10.2.0.1:80 -s rr
ip netns exec green ipvsadm -a -t 10.2.0.1:80 -r 127.0.0.1:8081 -m
waitfor 60 ctxserved green > /dev/null
# The agent may have read green while its services were being added.
sleep 1.5 # past the cache TTL
v3 green snmpwalk .1.3.6.1.4.1.8225.4711 > /dev/null # starts the re-read
v3 green snmpwalk .1.3.6.1.4.1.8225.4711 > green-recreated.txt
stopagent
