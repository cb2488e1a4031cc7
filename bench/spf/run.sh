#!/bin/sh
# bench/spf/run.sh - SPF evaluation speed: spfgate against libspf2 and pyspf.
#
# Installs the comparison libraries if missing (Debian packages
# python3-spf, python3-yaml, libspf2-dev), builds the harnesses in their
# own optimised, sanitizer-free build directory, then runs compare.py,
# which checks every RFC 7208 suite case with each implementation and
# times the cases both sides pass.  See bench/README.md.
#
# usage: bench/spf/run.sh [--seconds S] [--runs N] [--cpu C] [--keep DIR]
# environment: BUILD_DIR (default <repo>/build-bench), SUITE (the YAML).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
suite=${SUITE:-$root/tests/rfc7208/rfc7208-tests.yml}

missing=""
for pkg in python3-spf python3-yaml libspf2-dev; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $pkg"
done
if [ -n "$missing" ]; then
	echo "run.sh: installing$missing"
	apt-get install -y $missing
fi

if [ ! -f "$suite" ]; then
	echo "run.sh: suite not found: $suite" >&2
	exit 1
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSPFGATE_SANITIZE=OFF -DSPFGATE_FUZZ=OFF -DSPFGATE_BENCH=ON >/dev/null
cmake --build "$build" --target bench_spf bench_libspf2 -j2

exec /usr/bin/python3 "$here/compare.py" --build "$build/bench/spf" \
	--suite "$suite" "$@"
