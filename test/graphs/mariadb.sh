# mariadb.sh: a private MariaDB for the throwaway Cacti and Zabbix of the
# tests (sourced by cacti.sh and zabbix.sh after they set $dir and die):
# its own data directory in $dir/db, a unix socket in $dir/run and no TCP,
# so the system's MariaDB, if any, is never touched.

sock=$dir/run/mysql.sock

mysql_root() { mariadb --no-defaults -S "$sock" -uroot "$@"; }

# start_db [MARIADBD-ARGS...]: create the database files once, then start
# the server unless it answers already.
start_db() {
	mkdir -p "$dir/run"
	if [ ! -d "$dir/db/mysql" ]; then
		mariadb-install-db --no-defaults --datadir="$dir/db" --user=root \
			--auth-root-authentication-method=normal --skip-test-db >"$dir/install-db.log" 2>&1 ||
			die "mariadb-install-db failed: $(tail -5 "$dir/install-db.log")"
	fi
	if [ -S "$sock" ] && mysql_root -e 'select 1' >/dev/null 2>&1; then
		return
	fi
	setsid mariadbd --no-defaults --datadir="$dir/db" --socket="$sock" \
		--pid-file="$dir/run/mysql.pid" --skip-networking --user=root \
		--log-error="$dir/mysqld.err" "$@" </dev/null >/dev/null 2>&1 &
	local i
	for i in $(seq 100); do
		mysql_root -e 'select 1' >/dev/null 2>&1 && return
		sleep 0.2
	done
	die "MariaDB did not start: $(tail -5 "$dir/mysqld.err")"
}

# stop_pid FILE: stop the process whose pid FILE holds, waiting up to 20 s.
stop_pid() {
	[ -f "$1" ] || return 0
	local pid i
	pid=$(cat "$1")
	kill "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$1"
}

stop_db() { stop_pid "$dir/run/mysql.pid"; }
