#!/bin/sh
# Prints the version of this source tree, the one make build, deb and rpm
# stamp: the VERSION file's release version on the commit that last changed
# VERSION (the release commit, in a clean tree), otherwise
#
#   VERSION+gitYYYYMMDD.N.HASH[.dirty]
#
# YYYYMMDD the committer date of HEAD (UTC), N the number of commits since
# the release commit, HASH HEAD's abbreviated commit, .dirty when tracked
# files differ from HEAD. The string is valid as it is in both formats (a
# Debian version of a native package, an RPM Version: no '-') and orders
# the same in both: after the release, before the next one, and a later
# commit of the same branch after an earlier one. Without git (a tarball)
# or outside a work tree it prints the release version.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
base=$(tr -d ' \t\r\n' < "$top/VERSION")
case $base in
'' | *[!0-9.]* | .* | *. | *..*)
	echo "dist/version.sh: VERSION holds '$base', want MAJOR.MINOR.PATCH" >&2
	exit 1
	;;
esac
if ! command -v git >/dev/null 2>&1 ||
	[ "$(git -C "$top" rev-parse --show-toplevel 2>/dev/null)" != "$top" ]; then
	echo "$base"
	exit 0
fi
rel=$(git -C "$top" log -1 --format=%H -- VERSION)
head=$(git -C "$top" rev-parse HEAD)
dirty=
if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
	dirty=.dirty
fi
if [ -n "$rel" ] && [ "$rel" = "$head" ] && [ -z "$dirty" ]; then
	echo "$base"
	exit 0
fi
if [ -n "$rel" ]; then
	n=$(git -C "$top" rev-list --count "$rel..HEAD")
else
	# VERSION not committed yet: count from the first commit.
	n=$(git -C "$top" rev-list --count HEAD)
fi
date=$(TZ=UTC git -C "$top" log -1 --date=format-local:%Y%m%d --format=%cd HEAD)
hash=$(git -C "$top" rev-parse --short=7 HEAD)
echo "$base+git$date.$n.$hash$dirty"
