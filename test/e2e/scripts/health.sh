# health.sh: TestDirectorHealth's scenario (health_test.go). Traffic leaves
# connections in several states; a backup director in the namespace
# "backup" receives them from real sync daemons over a veth pair; the
# agent serves both namespaces. The walks are saved between two readings
# of IPVS's own files, then every service is deleted.
set -e
mkdir -p /tmp/www && head -c 3000 /dev/zero > /tmp/www/index.html
busybox httpd -p 127.0.0.1:8080 -h /tmp/www
for a in 1 2 3; do ip addr add 10.98.0.$a/32 dev lo; done

ip netns add backup
ip -n backup link set lo up
ip link add veth0 type veth peer name veth1 netns backup
ip addr add 10.200.0.1/24 dev veth0 && ip link set veth0 up
ip -n backup addr add 10.200.0.2/24 dev veth1 && ip -n backup link set veth1 up

# The same services on both directors, as keepalived would configure them:
# a persistent web service (templates), one whose real server never
# answers (10.200.0.9 has no host: SYNs that stay SYN_RECV), and DNS.
rules() {
	echo "-A -t 10.98.0.1:80 -s rr -p 60"
	echo "-a -t 10.98.0.1:80 -r 127.0.0.1:8080 -m"
	echo "-A -t 10.98.0.2:80 -s rr"
	echo "-a -t 10.98.0.2:80 -r 10.200.0.9:80 -g"
	echo "-A -u 10.98.0.3:53 -s rr"
	echo "-a -u 10.98.0.3:53 -r 127.0.0.1:5353 -m"
}
rules | ipvsadm -R
rules | ip netns exec backup ipvsadm -R
ipvsadm --start-daemon master --mcast-interface veth0 --syncid 9
ip netns exec backup ipvsadm --start-daemon backup --mcast-interface veth1 --syncid 9

startsnmpd
startagent --metrics-listen 127.0.0.1:9815
waitserved

# Traffic: finished requests (TIME_WAIT), two connections held open with
# a request under way (ESTABLISHED, and past the sync threshold of three
# packets), SYNs nobody answers, UDP datagrams.
for i in $(seq 6); do curl -sf -o /dev/null http://10.98.0.1/; done
exec 5<>/dev/tcp/10.98.0.1/80 6<>/dev/tcp/10.98.0.1/80
printf 'GET / HTTP/1.0\r\n' >&5; printf 'GET / HTTP/1.0\r\n' >&6
for i in 1 2 3; do timeout 0.5 bash -c 'exec 7<>/dev/tcp/10.98.0.2/80' 2>/dev/null || true; done
for i in 1 2 3 4; do echo hi > /dev/udp/10.98.0.3/53; done
# Entries in CLOSE last 10 s; past them, the table holds still.
nap 12

# IPVS's files, the walks, IPVS's files again.
snapshot() { # SUFFIX
	cat /proc/net/ip_vs_stats > stats$1.txt
	ipvsadm -Lnc > conns$1.txt
	ip netns exec backup cat /proc/net/ip_vs_conn_sync > backup-conns$1.txt
	for f in /proc/sys/net/ipv4/vs/*; do echo "${f##*/} $(cat $f)"; done > settings$1.txt
}
snapshot 1
walk > walk.txt
snmpwalk -v2c -c pubbackup -On -m '' -t 5 127.0.0.1:1161 $LVS > backup-walk.txt
snapshot 2
lvs-agentx check --snmp udp:127.0.0.1:1161 > check.txt 2>&1 || true
lvs-agentx check --metrics http://127.0.0.1:9815/metrics > check-metrics.txt 2>&1 || true
lvs-agentx check --metrics http://127.0.0.1:9815/metrics --context backup --netns /run/netns/backup > check-metrics-backup.txt 2>&1 || true
lvs-agentx dump > dump.txt 2>&1 || true

# Deleting every service leaves the totals where they were.
ipvsadm -C
nap 1.5
cat /proc/net/ip_vs_stats > stats3.txt
walk > walk-cleared.txt
cat /proc/net/ip_vs_stats > stats4.txt
exec 5>&- 6>&-
stopagent
