#!/usr/bin/env bash
# run.sh - memory of idle sessions: N plain and N STARTTLS sessions open at
# once against one worker, each measured on a fresh spfgate instance.
#
# usage: bench/tls/run.sh [PATH/TO/spfgate] [N]   (default build/relay/spfgate, 500)
#        EXTRA_CONF=$'[tls]\nsession_tickets = no' bench/tls/run.sh ...
#        (EXTRA_CONF is appended to the configuration of both runs)
#
# Uses the test PKI of tests/tls/mkcerts.sh (RSA + ECDSA for mail.test) and
# Postfix's smtp-sink as the backend (idle sessions never reach it).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
spfgate=${1:-$top/build/relay/spfgate}
n=${2:-500}
py=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
free_port() {
	"$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {
	local i
	for i in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
ulimit -n 4096 2>/dev/null || true

"$top/tests/tls/mkcerts.sh" "$tmp/pki"
sink_port=$(free_port)
user_opt=()
[ "$(id -u)" = 0 ] && user_opt=(-u nobody)
smtp-sink "${user_opt[@]}" "127.0.0.1:$sink_port" 64 2>/dev/null &
pids+=($!)

for mode in plain starttls; do
	port=$(free_port)
	cat >"$tmp/$mode.conf" <<CONF
[server]
hostname = relay.test
workers = 1
log_level = warning
max_connections_per_ip = 0
[listener smtp]
address = 127.0.0.1:$port
tls = starttls
[spf]
skip_networks = 127.0.0.0/8
[backend]
servers = 127.0.0.1:$sink_port
[certificate rsa]
cert_file = $tmp/pki/mail-rsa.pem
key_file = $tmp/pki/mail-rsa.key
[certificate ecdsa]
cert_file = $tmp/pki/mail-ec.pem
key_file = $tmp/pki/mail-ec.key
${EXTRA_CONF:-}
CONF
	"$spfgate" serve -c "$tmp/$mode.conf" >"$tmp/$mode.log" 2>&1 &
	master=$!
	wait_port "$port"
	worker=$(pgrep -P "$master" | head -1)
	"$py" "$top/bench/tls/idle_sessions.py" "$port" "$worker" "$n" "$mode"
	kill "$master"
	wait "$master" || true
done
