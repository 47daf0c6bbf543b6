# maintenance.sh: TestMaintenanceBySET's steps (maintenance_test.go), after
# lib.sh. OP_USER, OP_AUTH and OP_PRIV are the SNMPv3 user snmpd.conf lets
# write (authPriv only). Each step leaves files the test reads: NAME.out
# (the manager's output and exit status) and NAME-ln.txt (ipvsadm after
# it).
set -u
# Rows (the agent numbers them in key order at its first read): service 1
# is 10.98.0.1:80 with real servers 1 (127.0.0.1:8081, weight 3) and 2
# (127.0.0.1:8082, weight 5); service 2 is 10.98.0.2:80 with 1
# (10.96.1.1:80, weight 2) and 2 (10.96.1.2:80, weight 4).
W11=$LVS.18.1.6.1.1 W12=$LVS.18.1.6.1.2 W21=$LVS.18.1.6.2.1 W22=$LVS.18.1.6.2.2
A11=$LVS.18.1.33.1.1 A19=$LVS.18.1.33.1.9 S2=$LVS.17.1.35.2
# One try each, with time for 20 managers' SETs queued in snmpd ahead.
V3=(-v3 -u "$OP_USER" -a SHA -A "$OP_AUTH" -x AES -X "$OP_PRIV" -On -m '' -t 30 -r 0)
opset() { snmpset "${V3[@]}" -l authPriv "$SNMP_TARGET" "$@"; }
opget() { snmpget "${V3[@]}" -l authPriv "$SNMP_TARGET" "$@"; }
# tryset NAME SNMPSET-ARGS...: one manager's SET, its output and exit
# status in NAME.out and the kernel's table after it in NAME-ln.txt.
tryset() {
	local name=$1; shift
	{ snmpset -m '' -On -t 30 -r 0 "$@"; echo "rc=$?"; } > "$name.out" 2>&1
	ipvsadm -Ln > "$name-ln.txt"
}

ip addr add 10.98.0.1/32 dev lo
ip addr add 10.98.0.2/32 dev lo
for p in 8081 8082; do
	mkdir -p /tmp/www$p && echo "r$p" > /tmp/www$p/index.html
	busybox httpd -p 127.0.0.1:$p -h /tmp/www$p
done
ipvsadm -A -t 10.98.0.1:80 -s rr
ipvsadm -a -t 10.98.0.1:80 -r 127.0.0.1:8081 -m -w 3
ipvsadm -a -t 10.98.0.1:80 -r 127.0.0.1:8082 -m -w 5
ipvsadm -A -t 10.98.0.2:80 -s wrr
ipvsadm -a -t 10.98.0.2:80 -r 10.96.1.1:80 -m -w 2
ipvsadm -a -t 10.98.0.2:80 -r 10.96.1.2:80 -m -w 4
ipvsadm -Ln > start-ln.txt
# The weights ipvsadm accepts, the range a SET may write: 65535, not 65536.
ipvsadm -A -t 10.98.0.9:80 -s rr
for w in 65535 65536; do
	ipvsadm -a -t 10.98.0.9:80 -r 10.96.9.1:80 -m -w $w > ipvsadm-$w.out 2>&1; echo "rc=$?" >> ipvsadm-$w.out
done
ipvsadm -D -t 10.98.0.9:80

# Without --writable: refused, nothing changes.
startsnmpd
startagent
waitserved
tryset nowrite "${V3[@]}" -l authPriv "$SNMP_TARGET" $A11 i 2
stopagent

# With it.
startagent --writable
waitserved
snmpwalk -v2c -c public -On -m '' "$SNMP_TARGET" $LVS.18.1.31 > names.txt
snmpwalk -v2c -c public -On -m '' "$SNMP_TARGET" $LVS.17.1.34 >> names.txt
changes0=$(get1 $LVS.11.0)
tryset v2c -v2c -c public "$SNMP_TARGET" $A11 i 2
tryset authnopriv "${V3[@]}" -l authNoPriv "$SNMP_TARGET" $A11 i 2
tryset wrongtype "${V3[@]}" -l authPriv "$SNMP_TARGET" $W11 s 0
tryset range "${V3[@]}" -l authPriv "$SNMP_TARGET" $W11 i 65536
tryset negative "${V3[@]}" -l authPriv "$SNMP_TARGET" $W11 i -1
tryset norow "${V3[@]}" -l authPriv "$SNMP_TARGET" $A19 i 2
tryset oneinvalid "${V3[@]}" -l authPriv "$SNMP_TARGET" $A11 i 2 $W21 i 7 $W22 i 70000
tryset readonly "${V3[@]}" -l authPriv "$SNMP_TARGET" $LVS.18.1.4.1.1 i 81

# A connection held open (the server waits for its request) through the
# drain of the real server it went to, 1.R: the connection finishes there,
# new connections go to the other one.
exec 5<>/dev/tcp/10.98.0.1/80
ipvsadm -Lnc > held-conns.txt
held=$(awk '$3 == "ESTABLISHED" && $5 == "10.98.0.1:80" { print $6 }' held-conns.txt)
R=$((${held##*:} - 8080))
echo "held $held" >> kv.txt
tryset drain "${V3[@]}" -l authPriv "$SNMP_TARGET" $LVS.18.1.33.1.$R i 2
opget $LVS.18.1.33.1.$R $LVS.18.1.6.1.$R > drain-get.txt 2>&1
printf 'GET / HTTP/1.0\r\n\r\n' >&5
timeout 20 cat <&5 > held.txt
exec 5>&-
for i in $(seq 10); do curl -s --max-time 5 http://10.98.0.1/; done > new.txt
# The whole service 2.
tryset svcdrain "${V3[@]}" -l authPriv "$SNMP_TARGET" $S2 i 2
opget $S2 $W21 $W22 > svcdrain-get.txt 2>&1
lvs-agentx check --snmp udp:127.0.0.1:1161 --community public > check-drained.txt 2>&1
echo "rc=$?" >> check-drained.txt
changes1=$(get1 $LVS.11.0)
echo "changes0 $changes0" >> kv.txt
echo "changes1 $changes1" >> kv.txt

# An agent restart in between: enabled brings the weights drained before
# it back.
stopagent
cp "$WORK/state.json" state-drained.json
startagent --writable
waitserved
tryset enable "${V3[@]}" -l authPriv "$SNMP_TARGET" $LVS.18.1.33.1.$R i 1 $S2 i 1
lvs-agentx check --snmp udp:127.0.0.1:1161 --community public > check-enabled.txt 2>&1
echo "rc=$?" >> check-enabled.txt

# 20 managers at once, each a whole SET of three weights (10+i, 100+i,
# 200+i), while a manager GETs the three: the kernel ends with one SET's
# values, and every GET is answered with one SET's values (or those
# before).
( for i in $(seq 200); do opget $W11 $W12 $W21 2>&1 | tr '\n' ' '; echo; done > gets.txt ) &
GETTER=$!
setters=()
for i in $(seq 20); do
	{ opset $W11 i $((10 + i)) $W12 i $((100 + i)) $W21 i $((200 + i)); echo "rc=$?"; } > many-$i.out 2>&1 &
	setters+=($!)
done
wait "${setters[@]}"
for i in $(seq 20); do cat many-$i.out; done > many.out
wait $GETTER
ipvsadm -Ln > many-ln.txt
stopagent
grep 'SET ' agent.log > set-log.txt || true

# A real server deleted between TestSet and CommitSet, which no manager can
# time: setdeleted drains service 10.98.0.3:80 as the agent would, deleting
# its last real server in between; the commit fails and the undo puts the
# weights it wrote back.
ipvsadm -A -t 10.98.0.3:80 -s rr
for i in 1 2 3; do ipvsadm -a -t 10.98.0.3:80 -r 10.96.3.$i:80 -m -w $((i + 1)); done
setdeleted -service 10.98.0.3:80 > deleted.out 2> deleted.log
echo "rc=$?" >> deleted.out
ipvsadm -Ln > deleted-ln.txt
