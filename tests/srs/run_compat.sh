#!/bin/bash
# run_compat.sh - runs mailsrs_compat.pl; installs Mail::SRS
# (libmail-srs-perl) with apt-get if it is missing, or fails.
#
# Usage: run_compat.sh PATH/TO/srs_batch
set -euo pipefail
BIN=${1:?usage: run_compat.sh PATH/TO/srs_batch}
HERE=$(cd "$(dirname "$0")" && pwd)

if ! /usr/bin/perl -MMail::SRS -e 1 2>/dev/null; then
	echo "run_compat.sh: installing libmail-srs-perl" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y libmail-srs-perl \
	    >/dev/null
	/usr/bin/perl -MMail::SRS -e 1 ||
	    { echo "run_compat.sh: Mail::SRS is missing" >&2; exit 1; }
fi
exec /usr/bin/perl "$HERE/mailsrs_compat.pl" "$BIN"
