#!/usr/bin/env bash
# deps.sh - install what spfgate needs to build, run and test on Debian 12.
#
# Usage (as root): scripts/deps.sh [build|demo|test]
#   build  compiler, CMake and the four libraries (default)
#   demo   build + the quick start's demonstration backend and client
#          (Postfix's smtp-sink, swaks)
#   test   also the real peers the tests use: NSD, ldnsutils, swaks,
#          Postfix (smtp-sink), pyspf, libspf2, Mail::SRS, haproxy, ...
#
# Installing nsd or postfix normally starts a system daemon on port 53/25;
# a policy-rc.d that forbids service starts is put in place for the install
# (and removed again if this script created it).
set -euo pipefail

mode=${1:-build}
build_pkgs=(build-essential cmake pkg-config libssl-dev libevent-dev
	libunbound-dev libinih-dev libyaml-dev dns-root-data openssl)
test_pkgs=(nsd ldnsutils swaks postfix python3 python3-yaml python3-spf
	libspf2-dev libmail-srs-perl haproxy clang libclang-rt-14-dev
	procps iproute2 testssl.sh postsrsd dnsutils
	python3-prometheus-client man-db groff-base)

case "$mode" in
build) pkgs=("${build_pkgs[@]}") ;;
demo) pkgs=("${build_pkgs[@]}" postfix swaks) ;;
test) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: $0 [build|demo|test]" >&2; exit 64 ;;
esac

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: run as root (apt-get install)" >&2
	exit 77
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0

created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	created_policy=1
fi
cleanup() { [ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
echo "deps.sh: installing ${missing[*]}"
apt-get update -q >/dev/null
# postfix asks how it is used; a test peer needs no mail configuration.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
