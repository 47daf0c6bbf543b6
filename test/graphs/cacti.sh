#!/bin/bash
# cacti.sh: a private, throwaway Cacti for tests, built from Debian's cacti
# package without touching the system's Cacti, database or web server.
#
#   cacti.sh start DIR   copy /usr/share/cacti to DIR/cacti, start a private
#                        MariaDB on a unix socket in DIR/run, install Cacti
#                        into it (cli/install_cacti.php); idempotent
#   cacti.sh stop DIR    stop that MariaDB
#   cacti.sh sql DIR SQL run SQL in the cacti database (tab-separated output)
#   cacti.sh php DIR SCRIPT ARGS...  run a Cacti CLI script (cli/SCRIPT) or
#                        poller (poller.php, in site/)
#   cacti.sh export DIR TYPE ID  print Cacti's own XML export of an object
#                        and its dependencies (lib/export.php get_item_xml)
#
# Cacti's scripts find their configuration and RRD, log and cache
# directories relative to their own path, so a copy of the tree with its
# own include/config.php is an independent Cacti. Needs: apt-get install -y
# cacti mariadb-server php-snmp php-intl rrdtool snmp (see README).
set -euo pipefail

. "$(dirname "$(realpath "$0")")/common.sh" # die
[ $# -ge 2 ] || die "usage: cacti.sh start|stop|sql|php DIR ..."
cmd=$1 dir=$(realpath -m "$2")
shift 2
# The private MariaDB: start_db, stop_db, stop_pid, mysql_root.
. "$(dirname "$(realpath "$0")")/mariadb.sh"

copy_cacti() {
	[ -f "$dir/cacti/.copied" ] && return
	[ -d /usr/share/cacti/site ] || die "Cacti is not installed: apt-get install -y cacti"
	rm -rf "$dir/cacti"
	cp -a /usr/share/cacti "$dir/cacti"
	# Debian's tree has relative symlinks into /usr/share; make them absolute.
	(cd /usr/share/cacti && find . -type l) | while read -r l; do
		t=$(readlink -f "/usr/share/cacti/$l") && [ -e "$t" ] && ln -sfn "$t" "$dir/cacti/$l"
	done
	# site/resource must be this copy's, where data query files get added.
	ln -sfn "$dir/cacti/resource" "$dir/cacti/site/resource"
	mkdir -p "$dir/rra" "$dir/log" "$dir/cache"/{boost,mibcache,realtime,spikekill}
	local x
	for x in rra log cache; do
		ln -sfn "$dir/$x" "$dir/cacti/site/$x"
	done
	rm -f "$dir/cacti/site/include/config.php"
	cat >"$dir/cacti/site/include/config.php" <<EOF
<?php
/* Written by lvs-agentx test/graphs/cacti.sh: a private test instance. */
\$database_type     = 'mysql';
\$database_default  = 'cacti';
\$database_hostname = '$sock';
\$database_username = 'cacti';
\$database_password = 'cacti';
\$database_port     = '3306';
\$database_retries  = 5;
\$database_ssl      = false;
\$database_ssl_key  = '';
\$database_ssl_cert = '';
\$database_ssl_ca   = '';
\$database_persist  = false;
\$poller_id = 1;
\$url_path = '/cacti/';
\$cacti_session_name = 'Cacti';
\$cacti_db_session = false;
\$disable_log_rotation = true;
\$path_csrf_secret = '$dir/cache/csrf-secret.php';
\$proxy_headers = null;
EOF
	touch "$dir/cacti/.copied"
}

install_cacti() {
	[ -f "$dir/.installed" ] && return
	mysql_root -e "CREATE DATABASE IF NOT EXISTS cacti DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		CREATE USER IF NOT EXISTS cacti@localhost IDENTIFIED BY 'cacti';
		GRANT ALL ON cacti.* TO cacti@localhost;
		GRANT SELECT ON mysql.time_zone_name TO cacti@localhost;"
	if [ "$(mysql_root -N -e 'select count(*) from information_schema.tables where table_schema="cacti"')" = 0 ]; then
		mysql_root cacti </usr/share/dbconfig-common/data/cacti/install/mysql
	fi
	mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | mysql_root mysql
	(cd "$dir/cacti/cli" && php install_cacti.php --accept-eula --install --cron=60) >"$dir/install.log" 2>&1 ||
		die "install_cacti.php failed: $(tail -20 "$dir/install.log")"
	grep -q "Installation has now completed" "$dir/install.log" ||
		die "install_cacti.php did not complete: $(tail -20 "$dir/install.log")"
	mysql_root cacti -e "UPDATE settings SET value='$dir/log/cacti.log' WHERE name='path_cactilog';
		UPDATE settings SET value='$dir/log/cacti_stderr.log' WHERE name='path_stderrlog';"
	touch "$dir/.installed"
}

case $cmd in
start)
	mkdir -p "$dir"
	start_db
	copy_cacti
	install_cacti
	;;
stop) stop_db ;;
sql) mysql_root -N -B cacti -e "$1" ;;
php)
	script=$1
	shift
	if [ -f "$dir/cacti/cli/$script" ]; then
		cd "$dir/cacti/cli"
	else
		cd "$dir/cacti/site"
	fi
	exec php "$script" "$@"
	;;
export)
	cat >"$dir/cacti/cli/lvs_export.php" <<'PHP'
<?php
/* Export one Cacti object with its dependencies, as Cacti's UI does. */
require(__DIR__ . '/../site/include/cli_check.php');
require_once($config['base_path'] . '/lib/export.php');
print get_item_xml($argv[1], $argv[2], true);
PHP
	cd "$dir/cacti/cli"
	exec php lvs_export.php "$1" "$2"
	;;
*) die "unknown command $cmd" ;;
esac
