#!/bin/bash
# zabbix.sh: a private, throwaway Zabbix 6.0 for tests, built from Debian's
# zabbix-server-mysql and zabbix-frontend-php without touching the
# system's Zabbix, database, web server or services.
#
#   zabbix.sh start DIR   start a private MariaDB on a unix socket in DIR/run,
#                         load Zabbix's schema into it, copy the frontend to
#                         DIR/ui and write the server's and the frontend's
#                         configuration into DIR; idempotent
#   zabbix.sh web DIR PORT  serve DIR/ui with php's built-in server on
#                         127.0.0.1:PORT (in the background)
#   zabbix.sh server DIR  start zabbix_server (it daemonizes); run it in the
#                         network namespace that reaches the monitored hosts
#   zabbix.sh stop DIR    stop all three
#   zabbix.sh sql DIR SQL run SQL in the zabbix database (tab-separated)
#
# Needs: apt-get install -y zabbix-server-mysql zabbix-frontend-php
# mariadb-server php-cli php-mysql php-gd php-bcmath php-mbstring php-xml
set -euo pipefail

. "$(dirname "$(realpath "$0")")/common.sh" # die
[ $# -ge 2 ] || die "usage: zabbix.sh start|web|server|stop|sql DIR ..."
cmd=$1 dir=$(realpath -m "$2")
shift 2
# The private MariaDB: start_db, stop_db, stop_pid, mysql_root.
. "$(dirname "$(realpath "$0")")/mariadb.sh"

install_schema() {
	[ -f "$dir/.schema" ] && return
	local s=/usr/share/zabbix-server-mysql
	[ -f $s/schema.sql.gz ] || die "zabbix-server-mysql is not installed: apt-get install -y zabbix-server-mysql"
	mysql_root -e "DROP DATABASE IF EXISTS zabbix;
		CREATE DATABASE zabbix CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
		CREATE USER IF NOT EXISTS zabbix@localhost IDENTIFIED BY 'zabbix';
		GRANT ALL ON zabbix.* TO zabbix@localhost;"
	# The order of Zabbix's own installation instructions.
	local f
	for f in schema images data; do
		zcat "$s/$f.sql.gz" | mysql_root zabbix || die "loading $f.sql.gz failed"
	done
	touch "$dir/.schema"
}

write_config() {
	[ -f "$dir/.config" ] && return
	[ -f /usr/share/zabbix/api_jsonrpc.php ] || die "zabbix-frontend-php is not installed: apt-get install -y zabbix-frontend-php"
	mkdir -p "$dir/log" "$dir/tmp"
	# Debian's frontend reads /etc/zabbix/zabbix.conf.php (a constant in
	# CConfigFile.php, and it loads its classes from its own tree): a copy
	# of the tree with that constant pointing at DIR is an independent
	# frontend.
	rm -rf "$dir/ui"
	cp -a /usr/share/zabbix "$dir/ui"
	sed -i "s|'/etc/zabbix/zabbix.conf.php'|'$dir/zabbix.conf.php'|" "$dir/ui/include/classes/core/CConfigFile.php"
	grep -q "'$dir/zabbix.conf.php'" "$dir/ui/include/classes/core/CConfigFile.php" ||
		die "could not point the frontend copy at its own configuration"
	cat >"$dir/zabbix.conf.php" <<EOF
<?php
// Written by lvs-agentx test/graphs/zabbix.sh: a private test instance.
\$DB['TYPE']           = 'MYSQL';
\$DB['SERVER']         = 'localhost';
\$DB['PORT']           = '0';
\$DB['SOCKET']         = '$sock';
\$DB['DATABASE']       = 'zabbix';
\$DB['USER']           = 'zabbix';
\$DB['PASSWORD']       = 'zabbix';
\$DB['SCHEMA']         = '';
\$DB['ENCRYPTION']     = false;
\$DB['KEY_FILE']       = '';
\$DB['CERT_FILE']      = '';
\$DB['CA_FILE']        = '';
\$DB['VERIFY_HOST']    = false;
\$DB['CIPHER_LIST']    = '';
\$DB['VAULT_URL']      = '';
\$DB['VAULT_DB_PATH']  = '';
\$DB['VAULT_TOKEN']    = '';
\$DB['DOUBLE_IEEE754'] = true;
\$ZBX_SERVER_NAME      = 'lvs-agentx test';
\$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
EOF
	# Few processes (two cores, shared), and a configuration cache that
	# picks up new hosts and items within seconds instead of a minute.
	cat >"$dir/zabbix_server.conf" <<EOF
LogFile=$dir/log/zabbix_server.log
LogFileSize=0
PidFile=$dir/run/zabbix_server.pid
SocketDir=$dir/run
DBHost=localhost
DBSocket=$sock
DBName=zabbix
DBUser=zabbix
DBPassword=zabbix
AllowRoot=1
# Debian 12 pairs Zabbix 6.0.14 with MariaDB 10.11, newer than it knows.
AllowUnsupportedDBVersions=1
User=root
StartPollers=2
StartPreprocessors=1
StartLLDProcessors=1
StartHistoryPollers=1
StartTrappers=1
StartPingers=0
StartDiscoverers=0
StartHTTPPollers=0
StartAlerters=1
StartDBSyncers=1
StartODBCPollers=0
StartReportWriters=0
CacheUpdateFrequency=2
HousekeepingFrequency=0
Timeout=5
UnreachablePeriod=10
UnreachableDelay=2
UnavailableDelay=5
TmpDir=$dir/tmp
FpingLocation=/usr/bin/fping
EOF
	touch "$dir/.config"
}

case $cmd in
start)
	mkdir -p "$dir"
	# Zabbix writes history in many small transactions: no fsync per
	# commit keeps them cheap on a shared test machine.
	start_db --innodb-flush-log-at-trx-commit=0
	install_schema
	write_config
	;;
web)
	port=$1
	# The frontend's API needs no more than php's built-in server: no
	# system web server, no php-fpm.
	setsid php -d "mysqli.default_socket=$sock" -d memory_limit=512M -d post_max_size=16M \
		-d max_execution_time=300 -d max_input_time=300 -d date.timezone=UTC \
		-S "127.0.0.1:$port" -t "$dir/ui" </dev/null >"$dir/log/php-web.log" 2>&1 &
	echo $! >"$dir/run/php-web.pid"
	for _ in $(seq 100); do
		if php -r "exit(@fsockopen('127.0.0.1', $port) ? 0 : 1);"; then exit 0; fi
		sleep 0.1
	done
	die "php -S did not listen on 127.0.0.1:$port: $(tail -5 "$dir/log/php-web.log")"
	;;
server)
	zabbix_server -c "$dir/zabbix_server.conf" || die "zabbix_server failed: $(tail -20 "$dir/log/zabbix_server.log")"
	for _ in $(seq 100); do
		[ -s "$dir/run/zabbix_server.pid" ] && exit 0
		sleep 0.1
	done
	die "zabbix_server wrote no pid file: $(tail -20 "$dir/log/zabbix_server.log")"
	;;
stop)
	stop_pid "$dir/run/zabbix_server.pid"
	stop_pid "$dir/run/php-web.pid"
	stop_db
	;;
sql) mysql_root -N -B zabbix -e "$1" ;;
*) die "unknown command $cmd" ;;
esac
