#!/usr/bin/env bash
# interop_smtp_sink.sh - the backend client against a real SMTP server:
# Postfix's smtp-sink on a high loopback port.
#
# usage: interop_smtp_sink.sh PATH/TO/interop_client
#
# 1. XCLIENT mode: smtp-sink must see our XCLIENT, then EHLO with the
#    client's HELO name; its dump shows the HELO, the MAIL/RCPT parameters
#    it was given and the message (dot-stuffing undone by the server, the
#    last line completed by our end of data).
# 2. XFORWARD mode: XFORWARD with the IPV6: address before MAIL.
# 3. A second smtp-sink answers RCPT with 421 and hangs up: the client
#    must end with error() carrying the 421.
# smtp-sink runs in the foreground of this script and is killed by PID.
set -u
client=${1:?usage: interop_smtp_sink.sh PATH/TO/interop_client}

if ! command -v smtp-sink >/dev/null; then
	# smtp-sink comes with Postfix; policy-rc.d keeps the daemon stopped
	DEBIAN_FRONTEND=noninteractive apt-get install -y postfix >/dev/null ||
		{ echo "FAIL: cannot install postfix (smtp-sink)"; exit 1; }
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
chmod 777 "$tmp"
user_opt=()
[ "$(id -u)" = 0 ] && user_opt=(-u nobody)	# smtp-sink refuses root

fails=0
passes=0
check() {	# check DESCRIPTION COMMAND...
	if "${@:2}"; then passes=$((passes + 1)); else
		echo "FAIL: $1"; fails=$((fails + 1)); fi
}

# start_sink DUMPDIR EXTRA_OPTS...: starts smtp-sink on a free port, sets
# $port; tries a few ports, waits (bounded) until it accepts connections.
start_sink() {
	local dump=$1 try i pid
	shift
	mkdir -p "$dump" && chmod 777 "$dump"
	for try in 1 2 3 4 5; do
		port=$((20000 + (RANDOM % 30000)))
		smtp-sink "${user_opt[@]}" "$@" -d "$dump/%M." \
			"127.0.0.1:$port" 16 2>>"$tmp/sink.log" &
		pid=$!
		for i in $(seq 1 50); do
			if ! kill -0 "$pid" 2>/dev/null; then break; fi
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				pids+=("$pid")
				return 0
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	echo "FAIL: smtp-sink did not start"; cat "$tmp/sink.log"
	return 1
}

# Wait (bounded) for one dump file in DIR; prints its name.
dump_file() {
	local i f
	for i in $(seq 1 50); do
		for f in "$1"/*; do
			[ -f "$f" ] && { echo "$f"; return 0; }
		done
		sleep 0.1
	done
	return 1
}

start_sink "$tmp/d1" || exit 1

# 1. XCLIENT
"$client" "$port" xclient >"$tmp/out1" 2>&1
check "xclient run succeeded" test $? = 0
check "XCLIENT sent with listed attributes only" \
	grep -qF 'C: XCLIENT NAME=mta.origin.example HELO=helo.origin.example\r\n' "$tmp/out1"
check "EHLO again with the client's HELO name" \
	grep -qF 'C: EHLO helo.origin.example\r\n' "$tmp/out1"
f=$(dump_file "$tmp/d1") || { echo "FAIL: no dump for run 1"; cat "$tmp/out1"; exit 1; }
check "sink saw the client's HELO" grep -qx 'X-Helo-Args: helo.origin.example' "$f"
check "MAIL parameters (no SIZE: not announced)" grep -qx \
	'X-Mail-Args: <sender@origin.example> BODY=8BITMIME RET=HDRS ENVID=QQ+2B1' "$f"
check "RCPT parameters" grep -qx \
	'X-Rcpt-Args: <rcpt1@dest.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;rcpt1+40dest.example' "$f"
check "second RCPT" grep -qx 'X-Rcpt-Args: <rcpt2@dest.example>' "$f"
check "dot-stuffed line arrives unstuffed" grep -qx '.leading dot' "$f"
check "unterminated last line completed" grep -qx 'last line without CRLF' "$f"

# 2. XFORWARD
start_sink "$tmp/d2" || exit 1
"$client" "$port" xforward >"$tmp/out2" 2>&1
check "xforward run succeeded" test $? = 0
check "XFORWARD with IPV6: address" grep -qF \
	'C: XFORWARD NAME=mta.origin.example ADDR=IPV6:2001:db8::25 PROTO=ESMTP HELO=helo.origin.example\r\n' \
	"$tmp/out2"
f=$(dump_file "$tmp/d2") || { echo "FAIL: no dump for run 2"; cat "$tmp/out2"; exit 1; }
check "own EHLO name without XCLIENT" grep -qx 'X-Helo-Args: relay.example' "$f"

# 3. 421 after RCPT
start_sink "$tmp/d3" -Q RCPT || exit 1
"$client" "$port" xforward >"$tmp/out3" 2>&1
check "421 run fails" test $? = 1
check "421 reported through error()" grep -q \
	'^-- error: backend closing the session (421) (421 ' "$tmp/out3"

if [ $fails != 0 ]; then
	for o in "$tmp"/out*; do echo "== $o"; cat "$o"; done
fi
echo "$passes passed, $fails failed"
[ $fails = 0 ]
