# faults-absent.sh: TestFaultIPVSAbsentAndUnloaded's steps (faults_test.go).
set -u
addsvcs() {
	for s in "$@"; do
		ipvsadm -A -t 10.7.0.$s:80 -s rr
		for d in 1 2; do ipvsadm -a -t 10.7.0.$s:80 -r 10.8.$s.$d:8080 -m; done
	done
}
startsnmpd
startagent
waitfor 20 served > /dev/null || exit 1
echo "avail0 $(avail)" >> kv.txt
for i in 1 2 3; do walk > walk0.txt; nap 0.6; done
cp agent.log agent0.log

rm /run/modprobe.d/lvs-agentx-noipvs.conf
modprobe ip_vs && modprobe ip_vs_rr || exit 1
addsvcs 1 2 3
t=$(waitfor 20 is 1 3) || exit 1
echo "loaded_served $t" >> kv.txt
walk > walk1.txt

ipvsadm -C
rmmod ip_vs_rr ip_vs || exit 1
t=$(waitfor 20 is 2 0) || exit 1
echo "unloaded_seen $t" >> kv.txt
walk > walk2.txt
kill -0 $AGENT && echo "alive_unloaded yes" >> kv.txt

modprobe ip_vs && modprobe ip_vs_rr || exit 1
addsvcs 3 2 1 4   # other order, and one new service
t=$(waitfor 20 is 1 4) || exit 1
echo "reloaded_served $t" >> kv.txt
walk > walk3.txt
stopagent; echo "agent_exit $?" >> kv.txt
