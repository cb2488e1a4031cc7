#!/usr/bin/env bash
# test.sh - install, build and run every spfgate test (the README's test
# command; .ci/run calls it).
#
# Builds twice: a normal build and an AddressSanitizer + UBSan build, and
# runs the whole ctest suite in each.  Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test
jobs=$(nproc)

run_suite() {
	local dir=$1; shift
	cmake -S . -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$jobs"
	ctest --test-dir "$dir" --output-on-failure --timeout 600
}

echo "== normal build =="
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== AddressSanitizer + UndefinedBehaviorSanitizer build =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DSPFGATE_SANITIZE=ON \
	-DSPFGATE_BENCH=OFF
