# faults-churn-lib.sh: 12 services of 3 real servers (mksvc), and churn,
# which changes them for CHURN seconds (faults_test.go's churnScript).
for s in $(seq 12); do mksvc $s 3; done
churn() {
	local i=0 end=$((SECONDS + CHURN))
	while (( SECONDS < end )); do
		i=$((i + 1))
		s=$(( i % 12 + 1 ))
		ipvsadm -D -t 10.9.0.$s:80
		ipvsadm -a -t 10.9.0.$(( (s % 12) + 1 )):80 -r 10.10.$(( (s % 12) + 1 )).$(( 4 + i % 5 )):8080 -m 2>/dev/null
		sleep 0.25
		mksvc $s $(( 1 + i % 4 ))
		ipvsadm -d -t 10.9.0.$(( (s % 12) + 1 )):80 -r 10.10.$(( (s % 12) + 1 )).$(( 4 + (i + 2) % 5 )):8080 2>/dev/null
		[ $(( i % 3 )) = 0 ] && mksvc $(( 100 + i )) 2
		sleep 0.25
	done
	echo "rounds $i" >> kv.txt
	: > churn.done
}
