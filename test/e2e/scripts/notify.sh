# notify.sh: TestNotifications' steps (notify_test.go), after notify-lib.sh.
ip link set lo multicast on
ipvsadm -A -t 10.97.0.1:80 -s rr
ipvsadm -a -t 10.97.0.1:80 -r 10.96.0.1:80 -m -w 1
ipvsadm -a -t 10.97.0.1:80 -r 10.96.0.2:80 -m -w 1
notifystart
nap 2.5 # the first read is the baseline: no notifications
cp trapd-v2c.log start-v2c.log

# Sorry-server moment: every weight to 0, then one back.
ipvsadm -e -t 10.97.0.1:80 -r 10.96.0.1:80 -m -w 0
ipvsadm -e -t 10.97.0.1:80 -r 10.96.0.2:80 -m -w 0
step down 13 1
ipvsadm -e -t 10.97.0.1:80 -r 10.96.0.1:80 -m -w 1
step up 14 1
# A real server added, then removed.
ipvsadm -a -t 10.97.0.1:80 -r 10.96.0.3:80 -m -w 2
step added 7 1
ipvsadm -d -t 10.97.0.1:80 -r 10.96.0.3:80
step removed 8 1
# A service added and removed; a sync daemon started and stopped.
ipvsadm -A -t 10.97.0.2:80 -s rr
step svc_added 5 1
ipvsadm -D -t 10.97.0.2:80
step svc_removed 6 1
ipvsadm --start-daemon master --mcast-interface lo --syncid 7
step sync_started 3 1
ipvsadm --stop-daemon master
step sync_stopped 4 1
# Upper threshold 2: two connections held open overload the real server;
# raising the threshold clears it.
ip addr add 10.97.0.3/32 dev lo
mkdir -p /tmp/www && echo hi > /tmp/www/index.html
busybox httpd -p 127.0.0.1:8080 -h /tmp/www
# One restore, so no read falls between the service and its real server.
printf '%s\n' '-A -t 10.97.0.3:80 -s rr' '-a -t 10.97.0.3:80 -r 127.0.0.1:8080 -m -x 2 -y 1' | ipvsadm -R
nap 2.5
exec 5<>/dev/tcp/10.97.0.3/80 6<>/dev/tcp/10.97.0.3/80
step overloaded 11 1
ipvsadm -e -t 10.97.0.3:80 -r 127.0.0.1:8080 -m -x 100 -y 1
step overload_cleared 12 1
exec 5>&- 6>&-

# A storm: 2,000 real servers added at once to a service that has one.
changes0=$(get1 $LVS.11.0 | sed 's/.*: //')
for i in $(seq 2000); do echo "-a -t 10.97.0.1:80 -r 10.95.$((i / 250)).$((i % 250 + 1)):80 -m -w 1"; done > storm.rules
ipvsadm -R < storm.rules
step storm 15 1
# Where the kernel is slow (an emulator), the restore spans several watch
# intervals, and the watch, spaced by what reading 2,000 servers costs
# there, may see it as several storms, each summarised. Wait until the
# agent has counted every change, no storm is under way and both
# receivers have every summary, twice in a row (a storm's start is logged
# just after the read that counts its changes).
settled=0
for i in $(seq 300); do
	changes1=$(get1 $LVS.11.0 | sed 's/.*: //')
	begun=$(grep -c 'msg="notification storm:' agent.log); over=$(grep -c 'msg="notification storm over"' agent.log)
	if [ "$((changes1 - changes0))" -ge 2000 ] && [ "$begun" = "$over" ] &&
		[ "$(count trapd-v2c.log 15)" -ge "$over" ] && [ "$(count trapd-v3.log 15)" -ge "$over" ]; then
		settled=$((settled + 1))
		[ $settled = 2 ] && break
		nap 1.5
	else
		settled=0
		nap 0.2
	fi
done
echo "storm_changes $((changes1 - changes0))" >> kv.txt
echo "storm_added $(count trapd-v2c.log 7)" >> kv.txt
kill $AGENT; wait $AGENT
exit 0
