#!/bin/bash
# cacti-build-templates.sh: rebuild contrib/cacti/templates/ (maintainer
# tool). Generates the template source (cacti-gen-templates.py), imports it
# into a private Cacti (cacti.sh) with Cacti's own import_template.php, and
# writes what Cacti exports for each data query, with its dependencies: the
# committed files are Cacti's output, so they import cleanly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d /var/tmp/lvs-cacti-build.XXXXXX)
trap '"$here/cacti.sh" stop "$work"; rm -rf "$work"' EXIT

"$here/cacti.sh" start "$work"
cp "$repo"/contrib/cacti/resource/snmp_queries/*.xml "$work/cacti/resource/snmp_queries/"
python3 "$here/cacti-gen-templates.py" >"$work/source.xml"
"$here/cacti.sh" php "$work" import_template.php --filename="$work/source.xml" | tee "$work/import.log"
if grep -q '\[fail\]' "$work/import.log"; then
	echo "import failed" >&2
	exit 1
fi
mkdir -p "$repo/contrib/cacti/templates"
for q in "LVS - Virtual Services:cacti_data_query_lvs_virtual_services.xml" \
	"LVS - Real Servers:cacti_data_query_lvs_real_servers.xml"; do
	id=$("$here/cacti.sh" sql "$work" "SELECT id FROM snmp_query WHERE name='${q%%:*}'")
	[ -n "$id" ] || { echo "data query ${q%%:*} not imported" >&2; exit 1; }
	"$here/cacti.sh" export "$work" data_query "$id" >"$repo/contrib/cacti/templates/${q#*:}"
	echo "wrote contrib/cacti/templates/${q#*:}"
done
