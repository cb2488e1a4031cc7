#!/bin/sh
# zone_oracle.sh - compares the zones built by the C suite loader with an
# independent Python model of the suite's mock DNS (zone_oracle.py).
#
# Usage: zone_oracle.sh SUITE_DUMP SUITE.YML
# Needs Debian's /usr/bin/python3 with python3-yaml; installs it if missing.
set -eu
dump=$1
yml=$2
here=$(dirname "$0")
py=/usr/bin/python3
if ! $py -c 'import yaml' 2>/dev/null; then
	apt-get install -y python3-yaml >/dev/null || {
		echo "zone_oracle: python3-yaml missing and not installable" >&2
		exit 1
	}
fi
work=$(mktemp -d /tmp/zone_oracle.XXXXXX)
trap 'rm -rf "$work"' EXIT
$py "$here/zone_oracle.py" "$yml" > "$work/expected"
cut -f1-3 "$work/expected" | "$dump" "$yml" > "$work/got"
n=$(wc -l < "$work/expected")
if [ "$n" -lt 1000 ]; then
	echo "zone_oracle: only $n questions; oracle broken?" >&2
	exit 1
fi
if ! diff "$work/expected" "$work/got" > "$work/diff"; then
	head -40 "$work/diff"
	echo "zone_oracle: $(grep -c '^<' "$work/diff") of $n answers differ"
	exit 1
fi
echo "zone_oracle: $n answers agree"
