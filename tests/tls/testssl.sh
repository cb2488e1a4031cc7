#!/usr/bin/env bash
# testssl.sh - testssl.sh (Debian package testssl.sh) against spfgate's
# STARTTLS port, with the default [tls] settings and an RSA + ECDSA pair.
#
# usage: testssl.sh PATH/TO/spfgate
#
# Runs the protocol (-p), vulnerability (-U) and server-preference (-P)
# checks (about a minute on loopback) and reads its JSON output:
#   - SSLv2, SSLv3, TLS 1.0 and TLS 1.1 not offered; TLS 1.2 and 1.3 offered;
#   - every vulnerability check ran and none found anything: no finding of
#     severity LOW, MEDIUM, HIGH, CRITICAL or WARN anywhere;
#   - the server chooses the cipher (prefer_server_ciphers = yes).
set -u
spfgate=${1:?usage: testssl.sh PATH/TO/spfgate}
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3

for need in testssl:testssl.sh smtp-sink:postfix openssl:openssl; do
	command -v "${need%%:*}" >/dev/null && continue
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need#*:}" >/dev/null 2>&1 ||
		{ echo "FAIL: cannot install ${need#*:}"; exit 1; }
done

tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
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

"$here/mkcerts.sh" "$tmp/pki" || { echo "FAIL: cannot make the test PKI"; exit 1; }
mkdir -p "$tmp/mail"
chmod 777 "$tmp/mail"
sink_port=$(free_port)
port=$(free_port)
user_opt=()
[ "$(id -u)" = 0 ] && user_opt=(-u nobody)
smtp-sink "${user_opt[@]}" -d "$tmp/mail/%M." "127.0.0.1:$sink_port" 64 \
	2>"$tmp/sink.log" &
pids+=($!)
cat >"$tmp/spfgate.conf" <<EOF
[server]
hostname = relay.test
workers = 1
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
EOF
"$spfgate" serve -c "$tmp/spfgate.conf" >"$tmp/spfgate.log" 2>&1 &
pids+=($!)
wait_port "$sink_port" && wait_port "$port" ||
	{ echo "FAIL: servers did not start"; cat "$tmp/spfgate.log"; exit 1; }

timeout 240 testssl --starttls smtp -p -U -P --jsonfile "$tmp/testssl.json" \
	--quiet --color 0 --warnings off --nodns min "127.0.0.1:$port" \
	>"$tmp/testssl.out" 2>&1
if [ ! -s "$tmp/testssl.json" ]; then
	echo "FAIL: testssl.sh wrote no results"
	cat "$tmp/testssl.out"
	echo "0 passed, 1 failed"
	exit 1
fi

"$py" - "$tmp/testssl.json" <<'PY'
import json
import sys

findings = json.load(open(sys.argv[1]))
by_id = {f["id"]: f for f in findings}
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)


for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    f = by_id.get(proto, {})
    check("not offered" in f.get("finding", ""),
          "%s not offered (%s)" % (proto, f.get("finding")))
for proto in ("TLS1_2", "TLS1_3"):
    f = by_id.get(proto, {})
    check(f.get("finding", "").startswith("offered"),
          "%s offered (%s)" % (proto, f.get("finding")))
for vuln in ("heartbleed", "CCS", "ROBOT", "secure_renego",
             "secure_client_renego", "CRIME_TLS", "POODLE_SSL",
             "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM",
             "BEAST", "LUCKY13", "RC4"):
    f = by_id.get(vuln)
    check(f is not None, "vulnerability check %s ran" % vuln)
    if f is not None:
        check(f["severity"] in ("OK", "INFO"),
              "%s: %s %s" % (vuln, f["severity"], f["finding"]))
bad = [f for f in findings
       if f["severity"] not in ("OK", "INFO") and f["id"] != "scanProblem"]
check(not bad, "no finding above INFO: %s" %
      ["%s %s %s" % (f["id"], f["severity"], f["finding"]) for f in bad])
problems = [f for f in findings if f["id"] == "scanProblem"]
check(not problems, "testssl.sh reported no scan problem: %s" % problems)
f = by_id.get("cipher_order", {})
check(f.get("finding") == "server",
      "the server chooses the cipher (%s)" % f.get("finding"))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
rc=$?
[ $rc = 0 ] || { echo "== testssl.sh output"; cat "$tmp/testssl.out"; }
exit $rc
