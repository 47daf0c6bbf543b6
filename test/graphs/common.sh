# common.sh: what cacti.sh and zabbix.sh share, sourced first by both.

# die MESSAGE: the message, named by the script that failed, and exit 1.
die() { echo "${0##*/}: $*" >&2; exit 1; }
