# notify-lib.sh: the notification scenarios' helpers, after test/scenario's
# lib.sh. notifystart starts a v2c trap receiver (snmpd's trap2sink) and
# an SNMPv3 inform receiver (its trapsess -Ci), each logging one
# notification per line ("TRAP" and the varbinds, tab-separated), then
# snmpd and the agent, and waits until the agent answers. step NAME KIND N
# writes "NAME V2C V3 PROBE" to kv.txt: the seconds until each receiver
# holds N notifications KIND (lvs.0.KIND), at most 30, and one of snmpd's
# own round trips as this kernel runs them.
set -u
GET1_TIMEOUT=2
cat > trapd.conf <<CONF
authCommunity log public
createUser lvstrap SHA trappass1 AES trappass2
authUser log lvstrap
CONF
trapd() { SNMP_PERSISTENT_DIR=$WORK/trapd-$1 snmptrapd -f -m '' -On -C -c trapd.conf -Lf trapd-$1.log -F 'TRAP %v\n' udp:127.0.0.1:$2 & }
notifystart() {
	trapd v2c 1162
	trapd v3 1163
	startsnmpd
	startagent
	for i in $(seq 200); do [[ "$(get1 $LVS.1.0)" == *STRING* ]] && break; sleep 0.1; done
}
count() { grep -c "OID: $LVS.0.$2	" "$1" 2>/dev/null || true; }
trapped() { [ "$(count "$1" $2)" -ge $3 ]; } # LOG KIND N
probe() { # one of snmpd's own round trips, in seconds
	local t0=$(us); get1 .1.3.6.1.2.1.1.3.0 > /dev/null; secs $(( $(us) - t0 ))
}
step() { T0=$(us); echo "$1 $(waitfor 30 trapped trapd-v2c.log $2 $3) $(waitfor 30 trapped trapd-v3.log $2 $3) $(probe)" >> kv.txt; }
