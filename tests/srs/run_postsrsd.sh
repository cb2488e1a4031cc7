#!/bin/bash
# run_postsrsd.sh - runs postsrsd_compat.py; installs PostSRSd (Debian's
# postsrsd, 1.x) with apt-get if it is missing, or fails.  A policy-rc.d
# forbidding service starts is put in place for the install if there is
# none, so the package does not start a system daemon.
#
# Usage: run_postsrsd.sh PATH/TO/srs_batch
set -euo pipefail
BIN=${1:?usage: run_postsrsd.sh PATH/TO/srs_batch}
HERE=$(cd "$(dirname "$0")" && pwd)

if ! command -v postsrsd >/dev/null 2>&1; then
	echo "run_postsrsd.sh: installing postsrsd" >&2
	created=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		created=1
	fi
	rc=0
	DEBIAN_FRONTEND=noninteractive apt-get install -y postsrsd \
	    >/dev/null || rc=$?
	[ "$created" = 1 ] && rm -f /usr/sbin/policy-rc.d
	[ "$rc" = 0 ] || { echo "run_postsrsd.sh: install failed" >&2; exit 1; }
fi
POSTSRSD=$(command -v postsrsd) ||
    { echo "run_postsrsd.sh: postsrsd is missing" >&2; exit 1; }
exec /usr/bin/python3 "$HERE/postsrsd_compat.py" "$BIN" "$POSTSRSD"
