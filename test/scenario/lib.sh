# lib.sh: the shell helpers of every scenario (test/e2e, test/graphs'
# directors, the bench and the soak), each defined once. scenario.Script
# puts it after the variables it renders from Go (SNMP_TARGET,
# SNMPD_LISTEN, agentflags, snmpd.conf) and before the scenario's own steps.
# The scenario runs in $WORK, its current directory.

# served's pattern needs extglob when the function is parsed.
shopt -s extglob

LVS=.1.3.6.1.4.1.8225.4711

# Times come from bash's clock, in microseconds: an emulated kernel makes
# every process the polling spawns expensive, so the loops spawn as few as
# they can.
us() { echo ${EPOCHREALTIME/./}; }
# result LINE: a bench's result, on stdout and in $CTL/progress.txt, which
# the host sees while the guest runs.
result() { echo "$*"; echo "$*" >> "$CTL/progress.txt"; }
# median: the median of the numbers on stdin, one per line ("none" for none).
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "none" }'; }
# secs US [PLACES]: microseconds as seconds, with all six places (integer
# arithmetic), or rounded to PLACES.
secs() {
	if [ $# = 1 ]; then printf '%d.%06d\n' $(($1 / 1000000)) $(($1 % 1000000))
	else awk -v u="$1" -v p="$2" 'BEGIN { printf "%." p "f\n", u / 1e6 }'; fi
}
# nap SECONDS: sleep without starting a process (a read that times out on
# a FIFO nobody writes).
mkfifo nap.fifo && exec 9<> nap.fifo
nap() { read -t "$1" -u 9 || true; }
# waitfor LIMIT CMD...: run CMD every POLL seconds (default 0.05) until it
# succeeds; prints the seconds it took since $T0 (microseconds, if set) or
# since it began, or fails after LIMIT seconds.
waitfor() {
	local limit=$(($1 * 1000000)) t0=${T0:-${EPOCHREALTIME/./}}; shift
	until "$@"; do
		if (( ${EPOCHREALTIME/./} - t0 > limit )); then echo "timeout: $*" >&2; return 1; fi
		nap "${POLL:-0.05}"
	done
	secs $(( ${EPOCHREALTIME/./} - t0 ))
}
# waithost NAME: until the host creates $CTL/NAME (at most 600 s).
waithost() { for i in $(seq 600); do [ -e "$CTL/$1" ] && return; sleep 1; done; echo "no $1 from the host"; exit 1; }

# A PID's CPU ticks (utime+stime, USER_HZ = 100/s), VmRSS in KiB (rssparts:
# its anonymous, file-backed and shared-memory parts) and thread count.
# taskticks and taskdelta split the ticks by thread: "N:T" per thread whose
# ticks grew, N its TID minus the PID (Go starts the runtime's sysmon
# first, so it is usually 1), T the ticks it used.
ticks() { awk '{ print $14 + $15 }' /proc/$1/stat; }
taskticks() { for t in /proc/$1/task/*/stat; do awk '{ print $1, $14 + $15 }' $t; done 2>/dev/null; }
taskdelta() { awk -v pid=$1 'NR == FNR { a[$1] = $2; next } { d = $2 - a[$1]; if (d > 0) { printf "%s%d:%d", sep, $1 - pid, d; sep = "," } }' <(echo "$2") <(echo "$3"); }
rss() { awk '/^VmRSS/ { print $2 }' /proc/$1/status; }
rssparts() { awk '/^Rss(Anon|File|Shmem):/ { printf "%s%s=%s", sep, substr($1, 4, length($1) - 4), $2; sep = "," }' /proc/$1/status; }
threads() { awk '/^Threads/ { print $2 }' /proc/$1/status; }

# startsnmpd [SNMPD-ARGS...]: snmpd in the foreground of a background job
# with snmpd.conf, listening on $SNMPD_LISTEN, logging to snmpd.log; SNMPD
# is its pid.
startsnmpd() { snmpd -f -C -c snmpd.conf -Lf snmpd.log -p snmpd.pid "$@" "$SNMPD_LISTEN" & SNMPD=$!; }
# startagent [FLAGS...]: lvs-agentx run (or AGENT_BIN run) with the
# scenario's flags (agentflags, rendered from scenario.Agent) and FLAGS,
# logging to agent.log; AGENT is its pid.
startagent() {
	agentflags
	"${AGENT_BIN:-lvs-agentx}" run "${AGENT_FLAGS[@]}" "$@" 2>>agent.log &
	AGENT=$!
}
stopagent() { kill -TERM $AGENT; wait $AGENT; }
# waitserved [TRIES [OID WANT]]: until snmpd answers OID (default
# lvsIpvsAvailable.0, there with IPVS or without) with a line holding WANT
# (default INTEGER), polling every 0.2 s, TRIES times (default 100).
waitserved() {
	for i in $(seq ${1:-100}); do
		snmpget -v2c -c public -On -m '' "$SNMP_TARGET" "${2:-$LVS.9.0}" 2>/dev/null | grep -q "${3:-INTEGER}" && return 0
		sleep 0.2
	done
	echo "the agent never answered through snmpd" >&2; return 1
}
# get1 OID...: one quick snmpget, no retry, GET1_TIMEOUT seconds (default
# 0.5); errors are silent.
get1() { snmpget -v2c -c public -On -m '' -t "${GET1_TIMEOUT:-0.5}" -r 0 "$SNMP_TARGET" "$@" 2>/dev/null; }
# served: the agent answers through snmpd (lvsVersion is an empty string
# while IPVS is missing; snmpget prints "").
served() { [[ "$(get1 $LVS.1.0)" == *"4711.1.0 = "@(STRING: *|\"\") ]]; }
# snmpdup: snmpd answers its own sysUpTime.
snmpdup() { [[ "$(get1 .1.3.6.1.2.1.1.3.0)" == *Timeticks* ]]; }
walk() { snmpwalk -v2c -c public -On -m '' -t 5 "$SNMP_TARGET" $LVS; }
bulkwalk() { snmpbulkwalk -v2c -c public -On -m '' -t 5 -Cr50 "$SNMP_TARGET" $LVS; }
# walker K STOP MAX: bulk walks until the file STOP exists, at most MAX,
# each into walks/wK-J.txt with its stderr in .err and exit status in .rc.
walker() {
	local j=0
	mkdir -p walks
	while [ ! -e "$2" ] && [ $j -lt $3 ]; do
		j=$((j + 1))
		bulkwalk > walks/w$1-$j.txt 2> walks/w$1-$j.err
		echo $? > walks/w$1-$j.rc
	done
}

# mksvc S N: service 10.9.0.S:80 with real servers 10.10.S.1-N:8080 (every
# real server's address names its service), logged to churn.log.
mksvc() { ipvsadm -A -t 10.9.0.$1:80 -s rr; echo "10.9.0.$1:80" >> churn.log
	for d in $(seq $2); do ipvsadm -a -t 10.9.0.$1:80 -r 10.10.$1.$d:8080 -m; done; }

# Network namespaces made with ip netns, each served as an SNMP context.
# inns NS CMD...: CMD in the namespace NS; "default" is the scenario's own.
inns() { if [ "$1" = default ]; then shift; "$@"; else ip netns exec "$@"; fi; }
# nsweb NS VIP PORT... : a web service at VIP:80 in NS (rr), masqueraded to
# busybox httpd real servers on 127.0.0.1:PORT serving the directory WWW
# (default /tmp/www): a page size per namespace tells their bytes apart.
nsweb() {
	local ns=$1 vip=$2 p; shift 2
	inns "$ns" ip addr add "$vip/32" dev lo
	inns "$ns" ipvsadm -A -t "$vip:80" -s rr
	for p in "$@"; do
		inns "$ns" busybox httpd -p "127.0.0.1:$p" -h "${WWW:-/tmp/www}"
		inns "$ns" ipvsadm -a -t "$vip:80" -r "127.0.0.1:$p" -m
	done
}
# listings NS: ipvsadm's views of NS as NS-ln.txt, NS-stats.txt and
# NS-rate.txt, the oracle the tests compare the agent with.
listings() {
	inns "$1" ipvsadm -Ln > "$1-ln.txt"
	inns "$1" ipvsadm -Ln --stats --exact > "$1-stats.txt"
	inns "$1" ipvsadm -Ln --rate --exact > "$1-rate.txt"
}
