#!/bin/bash
# build-templates.sh: rebuild contrib/cacti/templates/ (maintainer tool;
# `make cacti`). Generates the template source (go run ./contrib/cacti/gen
# -source), imports it into a private Cacti (test/graphs/cacti.sh, the graph
# tests' instance) with Cacti's own import_template.php, and writes what
# Cacti exports for each data query, with its dependencies: the committed
# files are Cacti's output, so they import cleanly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
csh=$repo/test/graphs/cacti.sh
work=$(mktemp -d /var/tmp/lvs-cacti-build.XXXXXX)
trap '"$csh" stop "$work"; rm -rf "$work"' EXIT

"$csh" start "$work"
cp "$repo"/contrib/cacti/resource/snmp_queries/*.xml "$work/cacti/resource/snmp_queries/"
(cd "$repo" && "${GO:-go}" run ./contrib/cacti/gen -source) >"$work/source.xml"
"$csh" php "$work" import_template.php --filename="$work/source.xml" | tee "$work/import.log"
if grep -q '\[fail\]' "$work/import.log"; then
	echo "import failed" >&2
	exit 1
fi
mkdir -p "$repo/contrib/cacti/templates"
for q in "LVS - Virtual Services:cacti_data_query_lvs_virtual_services.xml" \
	"LVS - Real Servers:cacti_data_query_lvs_real_servers.xml" \
	"LVS - Director Totals:cacti_data_query_lvs_director_totals.xml" \
	"LVS - Connection States:cacti_data_query_lvs_connection_states.xml"; do
	id=$("$csh" sql "$work" "SELECT id FROM snmp_query WHERE name='${q%%:*}'")
	[ -n "$id" ] || { echo "data query ${q%%:*} not imported" >&2; exit 1; }
	"$csh" export "$work" data_query "$id" >"$repo/contrib/cacti/templates/${q#*:}"
	echo "wrote contrib/cacti/templates/${q#*:}"
done
