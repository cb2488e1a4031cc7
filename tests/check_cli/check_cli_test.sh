#!/usr/bin/env bash
# check_cli_test.sh - `spfgate check` from the outside: output, exit
# statuses, argument errors, zone files, and one run through libunbound
# against a real NSD (unsigned zone, --no-dnssec, and a forged-free run
# with validation on that must refuse to work without a trust anchor).
#
# Usage: check_cli_test.sh SPFGATE ZONE_FILE
set -u
BIN=${1:?usage: check_cli_test.sh SPFGATE ZONE_FILE}
ZONE=${2:?usage: check_cli_test.sh SPFGATE ZONE_FILE}
passed=0 failed=0
out= rc=

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1: $2"; printf '%s\n' "$out" | sed 's/^/    | /'; }

# run ARGS...: captures stdout+stderr in $out and the status in $rc.
run() { out=$("$BIN" check "$@" 2>&1); rc=$?; }

# expect NAME STATUS REGEX: the last run exited STATUS and printed REGEX.
expect() {
	if [ "$rc" != "$2" ]; then bad "$1" "exit $rc, want $2"; return; fi
	if ! printf '%s\n' "$out" | grep -Eq -- "$3"; then
		bad "$1" "output lacks /$3/"; return
	fi
	ok "$1"
}

# Results and their exit statuses.
run --zone "$ZONE" --ip 192.0.2.10 --sender a@example.com --helo h.example
expect pass 0 '^result: pass$'
printf '%s\n' "$out" | grep -q '^mechanism: ip4:192.0.2.0/24$' &&
	ok pass-mechanism || bad pass-mechanism "no mechanism line"
printf '%s\n' "$out" | grep -q '^Received-SPF: pass ' &&
	ok pass-header || bad pass-header "no Received-SPF header"
printf '%s\n' "$out" | grep -q '^dnssec: insecure$' &&
	ok pass-dnssec-status || bad pass-dnssec-status "no dnssec line"
run --zone "$ZONE" --ip 2001:db8::5 --sender a@example.com
expect pass-ipv6 0 '^result: pass$'
run --zone "$ZONE" --ip 198.51.100.1 --sender a@fail.example
expect fail 1 '^explanation: 198.51.100.1 may not send for fail.example$'
run --zone "$ZONE" --ip 198.51.100.1 --sender a@soft.example
expect softfail 2 '^result: softfail$'
run --zone "$ZONE" --ip 198.51.100.1 --sender a@neutral.example
expect neutral 3 '^result: neutral$'
run --zone "$ZONE" --ip 198.51.100.1 --sender a@nothing.example
expect none 4 '^result: none$'
run --zone "$ZONE" --ip 198.51.100.1 --sender a@perm.example
expect permerror 5 '^reason: .+'
run --zone "$ZONE" --ip 198.51.100.1 --sender a@temp.example
expect temperror 6 '^result: temperror$'
run --zone "$ZONE" --ip 198.51.100.7 --sender '' --helo helo.example
expect null-sender-uses-helo 0 '^identity: mailfrom postmaster@helo.example$'
run --zone "$ZONE" --ip 198.51.100.8 --identity helo --helo helo.example
expect helo-identity 1 '^identity: helo helo.example$'
run --zone "$ZONE" --ip ::ffff:192.0.2.10 --sender a@example.com
expect ipv4-mapped 0 '^result: pass$'

# Bad arguments: one line naming the problem, then the usage; status 64.
run --sender a@example.com
expect missing-ip 64 '^spfgate check: --ip is required$'
run --ip 300.1.1.1 --sender a@example.com
expect bad-ip 64 "^spfgate check: --ip is not an IPv4 or IPv6 address: '300.1.1.1'$"
run --ip 192.0.2.1
expect missing-sender 64 '^spfgate check: --sender is required'
run --ip 192.0.2.1 --sender a@b --bogus
expect unknown-option 64 "^spfgate check: unknown option: '--bogus'$"
run --ip 192.0.2.1 --sender a@b --timeout 0
expect bad-timeout 64 'timeout must be 1 to 3600'
run --ip 192.0.2.1 --sender a@b --identity x
expect bad-identity 64 'identity must be mailfrom or helo'
run --ip 192.0.2.1 --sender a@b --no-dnssec --trust-anchor /x
expect dnssec-conflict 64 'cannot be combined'
run --ip 192.0.2.1 --sender a@b --zone /nonexistent/zone
expect zone-missing 78 '^spfgate check: /nonexistent/zone'
printf 'example.com BADTYPE x\n' > "${TMPDIR:-/tmp}/spfgate-badzone.$$"
run --ip 192.0.2.1 --sender a@b --zone "${TMPDIR:-/tmp}/spfgate-badzone.$$"
expect zone-error-line 78 'spfgate-badzone\.[0-9]+:1: '
rm -f "${TMPDIR:-/tmp}/spfgate-badzone.$$"
run --ip 192.0.2.1 --sender a@b --trust-anchor /nonexistent/ta
expect trust-anchor-missing 78 '^spfgate check: .*nonexistent/ta'
out=$("$BIN" check --help 2>&1); rc=$?
expect help 0 '^usage: spfgate check'

# Through libunbound, forwarding to a real NSD on loopback that serves an
# unsigned zone.  With --no-dnssec the record is used; with validation on
# (the default, Debian's root key) nothing can prove this zone insecure,
# so no data is trusted and the result is temperror, never pass.
command -v nsd >/dev/null || apt-get install -y -q nsd >/dev/null 2>&1
work=$(mktemp -d)
nsd_pid=
trap '[ -n "$nsd_pid" ] && kill $nsd_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/cli.test.zone" <<ZONE
\$ORIGIN cli.test.
\$TTL 300
@ IN SOA ns h 1 3600 600 86400 300
@ IN NS ns
ns IN A 127.0.0.1
@ IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
ZONE
cat > "$work/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1@$port
	port: $port
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$work"
	database: ""
	zonelistfile: "$work/zone.list"
	xfrdfile: "$work/xfrd.state"
	pidfile: "$work/nsd.pid"
	rrl-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: "cli.test."
	zonefile: "cli.test.zone"
CONF
nsd -d -c "$work/nsd.conf" >"$work/nsd.log" 2>&1 &
nsd_pid=$!
for _ in $(seq 50); do
	dig +time=1 +tries=1 -p "$port" @127.0.0.1 cli.test TXT 2>/dev/null |
	    grep -q 'v=spf1' && break
	command -v dig >/dev/null || { sleep 1; break; }
	sleep 0.1
done
run --ip 192.0.2.20 --sender a@cli.test --no-dnssec --forward "127.0.0.1@$port" --timeout 10
expect unbound-no-dnssec-pass 0 '^result: pass$'
run --ip 198.51.100.99 --sender a@cli.test --no-dnssec --forward "127.0.0.1@$port" --timeout 10
expect unbound-no-dnssec-fail 1 '^result: fail$'
run --ip 192.0.2.20 --sender a@cli.test --forward "127.0.0.1@$port" --timeout 10
expect unbound-validating-untrusted 6 '^result: temperror$'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
