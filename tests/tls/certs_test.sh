#!/usr/bin/env bash
# certs_test.sh - makes a fresh test PKI and runs certs_test on it.
# usage: certs_test.sh PATH/TO/certs_test
set -u
bin=${1:?usage: certs_test.sh PATH/TO/certs_test}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/mkcerts.sh" "$tmp/pki" || { echo "FAIL: cannot make the test PKI"; exit 1; }
"$bin" "$tmp/pki"
