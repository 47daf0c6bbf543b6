# faults-churn.sh: TestFaultChurnWhileWalking's steps (faults_test.go),
# after faults-churn-lib.sh.
set -u
CHURN=30
mkdir walks
startsnmpd
startagent
waitfor 20 served > /dev/null || exit 1
churn & CH=$!
WALKERS=
for k in 1 2 3 4 5 6 7 8; do walker $k churn.done 60 & WALKERS="$WALKERS $!"; done
wait $CH $WALKERS
kill -0 $AGENT && echo "alive yes" >> kv.txt
stopagent; echo "agent_exit $?" >> kv.txt
