# health-notify.sh: TestHealthNotifications' steps (health_test.go), after
# notify-lib.sh. Each defense set by hand and undone, one turned on and
# off by the kernel in automatic mode, rate estimation stopped and
# resumed, and a setting changed.
V=/proc/sys/net/ipv4/vs
ipvsadm -A -t 10.97.0.1:80 -s rr
ipvsadm -a -t 10.97.0.1:80 -r 10.96.0.1:80 -m -w 1
notifystart
nap 2.5 # the first read is the baseline
n=0
for d in drop_entry drop_packet secure_tcp; do
	n=$((n + 1))
	echo 3 > $V/$d
	step on_$d 16 $n
	echo 0 > $V/$d
	step off_$d 17 $n
done
echo 0 > $V/run_estimation
step rates_stopped 18 1
echo 1 > $V/run_estimation
step rates_resumed 19 1
echo 1 > $V/expire_nodest_conn
step setting 20 1
# Automatic mode: drop_entry idle (a setting change), then a threshold
# above the guest's memory: the kernel's defense timer (once a second)
# turns it on; the threshold back, it turns it off.
echo 1 > $V/drop_entry
step auto_idle 20 2
amem=$(cat $V/amemthresh)
echo 1000000000 > $V/amemthresh
step auto_on 16 4
cat $V/drop_entry > auto-on-value.txt
echo "$amem" > $V/amemthresh
step auto_off 17 4
cat $V/drop_entry > auto-off-value.txt
echo 0 > $V/drop_entry
step auto_disabled 20 5
nap 2.5 # nothing more comes
stopagent
