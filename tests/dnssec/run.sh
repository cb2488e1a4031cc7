#!/bin/bash
# run.sh - the DNSSEC integration rig of spfgate's libunbound resolver.
#
# Usage: run.sh PATH/TO/dnssec_test
#
# Builds, in a fresh temporary directory:
#   - ECDSA P-256 (algorithm 13) keys with ldns-keygen and zones signed with
#     ldns-signzone: a parent "test." delegating with DS to good.test
#     (signed), bogus.test (signed, then a TXT record changed after
#     signing), expired.test (signed with a validity window in the past),
#     short.test (signed, every TTL and the negative TTL 2 s: answer cache
#     expiry) and, without DS, to insecure.test (unsigned); good.test
#     also holds a TXT record over 4 KB (big.good.test); plus unsigned reverse
#     zones (2.0.192.in-addr.arpa, 10.in-addr.arpa,
#     8.b.d.0.1.0.0.2.ip6.arpa) and "invalid." that libunbound would
#     otherwise answer locally;
#   - NSD serving all of them in the foreground on 127.0.0.1:<free port>
#     (own config, pid file and zone list in the temp dir, no chroot, no
#     database, rrl-ratelimit 0);
#   - a trust anchor file holding the DS of test.'s key;
#   - a black hole (blackhole.py) that reads DNS queries and never answers.
# then runs the C test program against them:
#   dnssec_test NSD_PORT BLACKHOLE_PORT TRUST_ANCHOR_FILE WORKDIR
# Both servers are killed by PID on exit (trap), and the temp dir removed.
# Missing tools (nsd, ldnsutils) are installed with apt-get, or the test
# fails.
set -euo pipefail

BIN=${1:?usage: run.sh PATH/TO/dnssec_test}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

need() {
	local missing=0 t
	for t in nsd ldns-keygen ldns-signzone; do
		command -v "$t" >/dev/null 2>&1 || missing=1
	done
	if [ "$missing" = 1 ]; then
		echo "run.sh: installing nsd ldnsutils" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y nsd ldnsutils \
		    >/dev/null
	fi
	for t in nsd ldns-keygen ldns-signzone; do
		command -v "$t" >/dev/null 2>&1 ||
		    { echo "run.sh: $t is missing" >&2; exit 1; }
	done
}

NSD_PID=
HOLE_PID=
WORK=
cleanup() {
	local pid
	for pid in $NSD_PID $HOLE_PID; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $NSD_PID $HOLE_PID; do
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "$WORK" ]; then
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

# Prints a port of 127.0.0.1 free for both UDP and TCP right now.
free_port() {
	"$PY" - <<'PY'
import socket
for _ in range(50):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close(); u.close(); continue
    print(port); break
PY
}

# keygen ZONE: makes a KSK-flagged key (used alone, as a CSK) and prints
# its base name.
keygen() {
	(cd "$WORK" && ldns-keygen -a ECDSAP256SHA256 -k "$1")
}

# soa ZONE [TTL]: zone head; TTL (default 300) is also the SOA minimum,
# hence the negative TTL.
soa() {
	local ttl=${2:-300}
	printf '$ORIGIN %s\n$TTL %s\n' "$1" "$ttl"
	printf '@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 %s\n' "$ttl"
	printf '@ IN NS ns.test.\n'
}

# One TXT record of 18 strings of 250 octets: 4518 octets of rdata.
big_txt() {
	local i s
	s=$(printf '%250s' '' | tr ' ' 'b')
	printf 'big IN TXT'
	for i in $(seq 18); do
		printf ' "%s"' "$s"
	done
	printf '\n'
}

make_zones() {
	local k_test k_good k_bogus k_expired k_short

	k_good=$(keygen good.test.)
	k_short=$(keygen short.test.)
	k_bogus=$(keygen bogus.test.)
	k_expired=$(keygen expired.test.)
	k_test=$(keygen test.)

	{
		soa good.test.
		echo '@ IN TXT "v=spf1 ip4:192.0.2.10 -all"'
		echo 'mail IN A 192.0.2.10'
		echo 'a IN TXT "v=spf1 a:mail.good.test -all"'
		echo 'ptr IN TXT "v=spf1 ptr:good.test -all"'
		echo 'mixed IN TXT "v=spf1 include:insecure.test -all"'
		echo 'sp\032ace IN TXT "label with a space"'
		big_txt
	} >"$WORK/good.test.zone"
	{
		soa short.test. 2
		echo '@ IN TXT "v=spf1 ip4:192.0.2.20 -all"'
	} >"$WORK/short.test.zone"
	{
		soa bogus.test.
		echo '@ IN TXT "v=spf1 ip4:192.0.2.10 -all"'
	} >"$WORK/bogus.test.zone"
	{
		soa expired.test.
		echo '@ IN TXT "v=spf1 ip4:192.0.2.10 -all"'
	} >"$WORK/expired.test.zone"
	{
		soa insecure.test.
		echo '@ IN TXT "v=spf1 ip4:192.0.2.10 -all"'
		echo 'host IN A 10.0.0.1'
	} >"$WORK/insecure.test.zone"
	{
		soa test.
		echo 'ns IN A 127.0.0.1'
		echo 'direct IN TXT "v=spf1 -all"'
		local child
		for child in good bogus expired short insecure; do
			echo "$child IN NS ns.test."
		done
		cat "$WORK/$k_good.ds" "$WORK/$k_bogus.ds" \
		    "$WORK/$k_expired.ds" "$WORK/$k_short.ds"
	} >"$WORK/test.zone"
	{
		soa 2.0.192.in-addr.arpa.
		echo '10 IN PTR mail.good.test.'
	} >"$WORK/2.0.192.in-addr.arpa.zone"
	{
		soa 10.in-addr.arpa.
		echo '1.0.0 IN PTR host.insecure.test.'
	} >"$WORK/10.in-addr.arpa.zone"
	{
		soa 8.b.d.0.1.0.0.2.ip6.arpa.
		echo '0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR mail.good.test.'
	} >"$WORK/8.b.d.0.1.0.0.2.ip6.arpa.zone"
	{
		soa invalid.
		echo 'probe IN TXT "reached the forwarder"'
	} >"$WORK/invalid.zone"

	(
		cd "$WORK"
		ldns-signzone -f good.test.signed good.test.zone "$k_good"
		ldns-signzone -f bogus.test.signed bogus.test.zone "$k_bogus"
		ldns-signzone -f short.test.signed short.test.zone "$k_short"
		ldns-signzone -f expired.test.signed -i 20190101000000 \
		    -e 20200101000000 expired.test.zone "$k_expired"
		ldns-signzone -f test.signed test.zone "$k_test"
	)
	# Tamper with bogus.test after signing: its RRSIG no longer matches.
	sed -i 's/"v=spf1 ip4:192.0.2.10 -all"/"v=spf1 ip4:192.0.2.99 -all"/' \
	    "$WORK/bogus.test.signed"
	grep -q 'ip4:192.0.2.99' "$WORK/bogus.test.signed" ||
	    { echo "run.sh: tampering bogus.test failed" >&2; exit 1; }
	cp "$WORK/$k_test.ds" "$WORK/trust-anchor.ds"
}

nsd_conf() {
	cat <<CONF
server:
	ip-address: 127.0.0.1@$1
	port: $1
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$WORK"
	database: ""
	zonelistfile: "$WORK/zone.list"
	xfrdfile: "$WORK/xfrd.state"
	xfrdir: "$WORK"
	pidfile: "$WORK/nsd.pid"
	logfile: "$WORK/nsd.log"
	verbosity: 1
	rrl-ratelimit: 0
	hide-version: yes
remote-control:
	control-enable: no
CONF
	local z
	for z in test. good.test. bogus.test. expired.test. short.test. \
	    insecure.test. \
	    2.0.192.in-addr.arpa. 10.in-addr.arpa. 8.b.d.0.1.0.0.2.ip6.arpa. \
	    invalid.; do
		local file="$z"signed
		[ -f "$WORK/$file" ] || file="$z"zone
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' "$z" "$file"
	done
}

# Starts NSD; returns non-zero if it does not answer within ~5 s.
start_nsd() {
	local port=$1 i
	nsd_conf "$port" >"$WORK/nsd.conf"
	nsd -d -c "$WORK/nsd.conf" >>"$WORK/nsd.out" 2>&1 &
	NSD_PID=$!
	for i in $(seq 50); do
		if ! kill -0 "$NSD_PID" 2>/dev/null; then
			wait "$NSD_PID" 2>/dev/null || true
			NSD_PID=
			return 1
		fi
		if drill -p "$port" @127.0.0.1 direct.test TXT 2>/dev/null |
		    grep -q 'v=spf1'; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

start_blackhole() {
	local i
	"$PY" "$HERE/blackhole.py" "$WORK/hole.port" 120 &
	HOLE_PID=$!
	for i in $(seq 50); do
		[ -s "$WORK/hole.port" ] && return 0
		sleep 0.1
	done
	echo "run.sh: black hole did not start" >&2
	exit 1
}

need
WORK=$(mktemp -d /tmp/spfgate-dnssec.XXXXXX)
make_zones >"$WORK/make.log" 2>&1 ||
    { cat "$WORK/make.log" >&2; exit 1; }
NSD_PORT=
for attempt in 1 2 3; do
	NSD_PORT=$(free_port)
	if start_nsd "$NSD_PORT"; then
		break
	fi
	NSD_PORT=
done
if [ -z "$NSD_PORT" ]; then
	echo "run.sh: nsd did not start" >&2
	cat "$WORK/nsd.out" "$WORK/nsd.log" >&2 2>/dev/null || true
	exit 1
fi
start_blackhole
HOLE_PORT=$(cat "$WORK/hole.port")

echo "run.sh: nsd on 127.0.0.1@$NSD_PORT, black hole on 127.0.0.1@$HOLE_PORT"
status=0
"$BIN" "$NSD_PORT" "$HOLE_PORT" "$WORK/trust-anchor.ds" "$WORK" || status=$?
if [ "$status" != 0 ]; then
	echo "run.sh: nsd log:" >&2
	cat "$WORK/nsd.log" >&2 2>/dev/null || true
fi
exit "$status"
