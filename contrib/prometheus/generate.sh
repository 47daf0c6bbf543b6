#!/bin/sh
# Generates snmp.yml (or the file named by $1) from generator.yml with
# Debian's prometheus-snmp-generator, reading only this repository's MIB
# modules and the SMIv2 base modules they import (from erlang-snmp, the
# Debian package that ships them), so the result does not depend on what
# else is installed in /usr/share/snmp/mibs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/snmp.yml}
case $out in /*) ;; *) out=$PWD/$out ;; esac
command -v prometheus-snmp-generator >/dev/null || {
	echo "prometheus-snmp-generator missing: apt-get install prometheus-snmp-exporter" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/mibs"
cp "$here/../../mib/LVS-MIB.txt" "$here/../../mib/OC-MIB.txt" "$tmp/mibs/"
for m in SNMPv2-SMI SNMPv2-TC SNMPv2-CONF INET-ADDRESS-MIB; do
	f=$(ls /usr/lib/erlang/lib/snmp-*/mibs/$m.mib 2>/dev/null | tail -n 1)
	[ -n "$f" ] || { echo "$m missing: apt-get install erlang-snmp" >&2; exit 1; }
	cp "$f" "$tmp/mibs/"
done
cp "$here/generator.yml" "$tmp/"
cd "$tmp"
MIBDIRS="$tmp/mibs" MIBS= prometheus-snmp-generator --fail-on-parse-errors --log.level=warn generate -o "$out"
