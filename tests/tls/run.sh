#!/usr/bin/env bash
# run.sh - TLS integration test of the spfgate daemon on loopback.
#
# usage: run.sh PATH/TO/spfgate
#
# A test PKI (mkcerts.sh), Postfix's smtp-sink as a plain backend, a real
# Postfix (private instance, master -d) as a STARTTLS backend, and spfgate
# itself, all on high loopback ports; SPF is skipped for 127.0.0.0/8 so no
# DNS is needed.  Checks:
#   front end   swaks --tls (TLS 1.3 and 1.2) and openssl s_client
#               -starttls smtp complete a transaction; TLS version and
#               cipher in the Received header and the transaction log line;
#               CVE-2011-0411 injection; plaintext instead of a ClientHello;
#               no STARTTLS inside TLS; require_tls (530 5.7.0); implicit
#               TLS, also behind a PROXY header; handshake timeout; no TLS
#               below 1.2
#   certificates SNI picks the certificate; RSA-only and ECDSA-only
#               clients get the matching one; SIGHUP reload keeps a live
#               session and serves the new certificate; a broken reload
#               keeps the old one and logs why; configtest and serve
#               refuse a mismatched, unreadable, missing, encrypted or
#               world-readable key/certificate with a clear message
#   backend     STARTTLS required (no STARTTLS -> 451 4.4.x) and
#               opportunistic (with and without); verification on: expired
#               and wrong-name certificates refused (451), good one and
#               IP-address check accepted; verification off: accepted
# Every server runs in the foreground of this script and is killed by PID.
set -u
spfgate=${1:?usage: run.sh PATH/TO/spfgate}
spfgate=$(cd "$(dirname "$spfgate")" && pwd)/$(basename "$spfgate")
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
helper=$here/smtp_tls.py

install_missing() {	# install_missing COMMAND PACKAGE
	command -v "$1" >/dev/null && return 0
	DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >/dev/null 2>&1 ||
		{ echo "FAIL: cannot install $2 (for $1)"; exit 1; }
}
install_missing swaks swaks
install_missing smtp-sink postfix	# policy-rc.d keeps the system MTA off
install_missing openssl openssl
postfix_master=/usr/lib/postfix/sbin/master
[ -x "$postfix_master" ] || { echo "FAIL: $postfix_master missing"; exit 1; }

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

passes=0
fails=0
check() {	# check DESCRIPTION COMMAND...
	if "${@:2}"; then passes=$((passes + 1)); else
		echo "FAIL: $1"; fails=$((fails + 1)); fi
}
# Counts the PASS/FAIL lines of smtp_tls.py.
scenario() {	# scenario NAME PORT [ARGS...]
	local out
	out=$("$py" "$helper" "$@" 2>&1)
	passes=$((passes + $(grep -c '^PASS: ' <<<"$out")))
	fails=$((fails + $(grep -c '^FAIL: ' <<<"$out")))
	grep '^FAIL: ' <<<"$out"
	grep -q '^PASS: ' <<<"$out" || { echo "FAIL: $1 ran no check"; echo "$out";
		fails=$((fails + 1)); }
}

free_port() {
	"$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {	# wait_port PORT: up to 10 s
	local i
	for i in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
wait_grep() {	# wait_grep COUNT PATTERN FILE: up to 10 s for COUNT matches
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c -- "$2" "$3" 2>/dev/null)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
not() { ! "$@"; }
not_listening() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
count_files() { find "$1" -type f | wc -l; }
wait_files() {	# wait_files DIR COUNT: up to 10 s
	local i
	for i in $(seq 1 100); do
		[ "$(count_files "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

pki=$tmp/pki
"$here/mkcerts.sh" "$pki" || { echo "FAIL: cannot make the test PKI"; exit 1; }
chmod 755 "$pki"

# --- the plain backend: smtp-sink ---------------------------------------
mail=$tmp/mail
mkdir -p "$mail"
chmod 777 "$mail"
sink_port=$(free_port)
user_opt=()
[ "$(id -u)" = 0 ] && user_opt=(-u nobody)	# smtp-sink refuses root
smtp-sink "${user_opt[@]}" -d "$mail/%M." "127.0.0.1:$sink_port" 64 \
	2>"$tmp/sink.log" &
pids+=($!)
wait_port "$sink_port" || { echo "FAIL: smtp-sink did not start"; exit 1; }

# --- spfgate with STARTTLS, implicit TLS and require_tls listeners -------
p_starttls=$(free_port)
p_implicit=$(free_port)
p_require=$(free_port)
p_proxy=$(free_port)
live=$tmp/live
mkdir -p "$live"
cp "$pki/mail-rsa.pem" "$live/rsa.pem"
cp -p "$pki/mail-rsa.key" "$live/rsa.key"

# base_conf: [server], [spf], [tls]; the caller adds the rest.
base_conf() {
	cat <<EOF
[server]
hostname = relay.test
workers = 1
log_level = info
[spf]
skip_networks = 127.0.0.0/8
[tls]
handshake_timeout = 3s
EOF
}

front_conf=$tmp/front.conf
{
	base_conf
	cat <<EOF
[listener smtp]
address = 127.0.0.1:$p_starttls
tls = starttls
[listener smtps]
address = 127.0.0.1:$p_implicit
tls = implicit
[listener submission]
address = 127.0.0.1:$p_require
tls = starttls
require_tls = yes
[listener proxied]
address = 127.0.0.1:$p_proxy
tls = implicit
proxy_protocol = yes
trusted_proxies = 127.0.0.0/8
[backend]
servers = 127.0.0.1:$sink_port
[certificate rsa]
cert_file = $live/rsa.pem
key_file = $live/rsa.key
[certificate ecdsa]
cert_file = $pki/mail-ec.pem
key_file = $pki/mail-ec.key
[certificate other]
cert_file = $pki/other-rsa.pem
key_file = $pki/other-rsa.key
chain_file = $pki/ca.pem
EOF
} >"$front_conf"

out=$("$spfgate" configtest -c "$front_conf" 2>&1)
check "configtest accepts the TLS configuration ($out)" \
	grep -q ': ok$' <<<"$out"

relay_log=$tmp/front.log
"$spfgate" serve -c "$front_conf" >"$relay_log" 2>&1 &
relay_pid=$!
pids+=($relay_pid)
wait_port "$p_starttls" && wait_port "$p_implicit" && wait_port "$p_require" ||
	{ echo "FAIL: spfgate did not start"; cat "$relay_log"; exit 1; }
wait_grep 1 'event=tls_certificates worker=0' "$relay_log"

# --- transactions: swaks and s_client ------------------------------------
n0=$(count_files "$mail")
out=$(swaks --server "127.0.0.1:$p_starttls" --tls --from a@swaks.test \
	--to b@swaks.test --header "Subject: swaks tls13" 2>&1)
check "swaks --tls: transaction completes" test $? = 0
check "swaks --tls: TLS 1.3 negotiated" grep -q 'TLS started with cipher TLSv1.3' <<<"$out"
out=$(swaks --server "127.0.0.1:$p_starttls" --tls --tls-protocol tlsv1_2 \
	--from a@swaks.test --to b@swaks.test --header "Subject: swaks tls12" 2>&1)
check "swaks --tls with TLS 1.2: transaction completes" test $? = 0
check "swaks --tls with TLS 1.2: TLS 1.2 negotiated" \
	grep -q 'TLS started with cipher TLSv1.2' <<<"$out"
out=$(swaks --server "127.0.0.1:$p_implicit" --tlsc --from a@swaks.test \
	--to b@swaks.test --header "Subject: swaks implicit" 2>&1)
check "swaks --tlsc (implicit TLS): transaction completes" test $? = 0

# s_client reads commands from a pipe (-crlf: LF becomes CR LF; -quiet:
# no interactive R/Q commands); pauses keep the dialogue in step.
sclient_script() {
	sleep 1; printf 'EHLO sclient.test\n'; sleep 0.5
	printf 'MAIL FROM:<a@sclient.test>\n'; sleep 0.3
	printf 'RCPT TO:<b@sclient.test>\n'; sleep 0.3
	printf 'DATA\n'; sleep 0.3
	printf 'Subject: s_client test\n\nhello over TLS\n.\n'; sleep 0.5
	printf 'QUIT\n'; sleep 0.5
}
out=$(sclient_script | timeout 20 openssl s_client -connect "127.0.0.1:$p_starttls" \
	-starttls smtp -crlf -quiet -servername mail.test 2>&1)
check "s_client -starttls smtp: message accepted" grep -q '^250 2.0.0' <<<"$out"
check "s_client -starttls smtp: QUIT answered 221" grep -q '^221 ' <<<"$out"

check "four messages reached the backend" wait_files "$mail" $((n0 + 4))
hdrs=$(cat "$mail"/* 2>/dev/null)
check "Received header names TLS 1.3 and its cipher" grep -qE \
	'using TLSv1\.3 with cipher TLS_[A-Z0-9_]+ \([0-9]+ bits\)' <<<"$hdrs"
check "Received header names TLS 1.2 and its cipher" grep -qE \
	'using TLSv1\.2 with cipher ECDHE-[A-Z0-9-]+ \([0-9]+ bits\)' <<<"$hdrs"
check "Received header says ESMTPS" grep -q 'by relay.test (spfgate) with ESMTPS' <<<"$hdrs"
check "s_client message delivered" grep -q '^Subject: s_client test' <<<"$hdrs"
check "transaction log line has TLS version and cipher" grep -qE \
	'event=transaction outcome=delivered .* tls=TLSv1\.3 tls_cipher=TLS_' "$relay_log"

# --- STARTTLS discipline ---------------------------------------------------
scenario inject "$p_starttls"
check "injected plaintext was discarded and logged" \
	grep -q 'event=starttls_discard .* bytes=' "$relay_log"
scenario late-plaintext "$p_starttls"
check "plaintext instead of a ClientHello is a TLS failure" \
	wait_grep 1 'event=tls_failed .*mode=starttls reason=' "$relay_log"
scenario requiretls "$p_require"
out=$(swaks --server "127.0.0.1:$p_require" --from a@plain.test --to b@plain.test 2>&1)
check "require_tls: plaintext swaks refused with 530 5.7.0" grep -q '530 5.7.0' <<<"$out"
scenario implicit "$p_implicit"
scenario proxy-implicit "$p_proxy"
check "implicit TLS behind PROXY: the client named by the header is logged" \
	grep -q 'event=proxy client=192.0.2.7' "$relay_log"
scenario hstimeout "$p_starttls" 3
check "handshake timeout logged" grep -q 'reason="handshake timeout"' "$relay_log"
out=$(timeout 10 openssl s_client -connect "127.0.0.1:$p_starttls" -starttls smtp \
	-tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null 2>&1)
check "TLS 1.1 refused by the server" grep -q 'alert protocol version' <<<"$out"

# --- certificates: SNI and key types ---------------------------------------
subject() {	# subject PORT [s_client options...]: the server certificate's subject
	timeout 10 openssl s_client -connect "127.0.0.1:$1" -starttls smtp "${@:2}" \
		</dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null
}
pubkey() {	# pubkey PORT [options...]: "Server public key is N bit"
	timeout 10 openssl s_client -connect "127.0.0.1:$1" -starttls smtp "${@:2}" \
		</dev/null 2>/dev/null | grep -o 'Server public key is [0-9]* bit'
}
check "SNI other.test gets CN other.test" grep -q 'CN = other.test' \
	<<<"$(subject "$p_starttls" -servername other.test)"
check "SNI mail.test gets CN mail.test" grep -q 'CN = mail.test' \
	<<<"$(subject "$p_starttls" -servername mail.test)"
check "SNI smtp.test (second name) gets CN mail.test" grep -q 'CN = mail.test' \
	<<<"$(subject "$p_starttls" -servername smtp.test)"
check "no SNI gets the first certificate" grep -q 'CN = mail.test' \
	<<<"$(subject "$p_starttls" -noservername)"
check "unknown SNI gets the first certificate" grep -q 'CN = mail.test' \
	<<<"$(subject "$p_starttls" -servername nowhere.test)"
check "SNI over implicit TLS" grep -q 'CN = other.test' \
	<<<"$(timeout 10 openssl s_client -connect "127.0.0.1:$p_implicit" \
	-servername other.test </dev/null 2>/dev/null | openssl x509 -noout -subject)"
check "chain_file is sent after the certificate" grep -q 'spfgate test CA' \
	<<<"$(timeout 10 openssl s_client -connect "127.0.0.1:$p_starttls" -starttls smtp \
	-servername other.test -showcerts </dev/null 2>/dev/null | grep 's:CN')"
check "RSA-only TLS 1.2 client gets the RSA certificate" grep -q '2048 bit' \
	<<<"$(pubkey "$p_starttls" -servername mail.test -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256)"
check "ECDSA-only TLS 1.2 client gets the ECDSA certificate" grep -q '256 bit' \
	<<<"$(pubkey "$p_starttls" -servername mail.test -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)"
check "TLS 1.3 client asking for RSA-PSS gets the RSA certificate" grep -q '2048 bit' \
	<<<"$(pubkey "$p_starttls" -servername mail.test -sigalgs rsa_pss_rsae_sha256)"
check "TLS 1.3 client asking for ECDSA gets the ECDSA certificate" grep -q '256 bit' \
	<<<"$(pubkey "$p_starttls" -servername mail.test -sigalgs ecdsa_secp256r1_sha256)"

# --- reload under a live session ---------------------------------------------
fingerprint() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
rsa_subject() { subject "$p_starttls" -servername mail.test -sigalgs rsa_pss_rsae_sha256; }
"$py" "$helper" live "$p_starttls" "$tmp" >"$tmp/live.out" 2>&1 &
live_pid=$!
pids+=($live_pid)
for i in $(seq 1 100); do [ -f "$tmp/ready" ] && break; sleep 0.1; done
check "live session is up before the reload" test -f "$tmp/ready"
check "live session got the original RSA certificate" \
	test "$(cat "$tmp/cert-before" 2>/dev/null)" = "$(fingerprint "$pki/mail-rsa.pem")"
reloads=$(grep -c 'event=tls_certificates worker=0' "$relay_log")
cp "$pki/mail-rsa-2.pem" "$live/rsa.pem.new" && mv "$live/rsa.pem.new" "$live/rsa.pem"
cp -p "$pki/mail-rsa-2.key" "$live/rsa.key.new" && mv "$live/rsa.key.new" "$live/rsa.key"
kill -HUP "$relay_pid"
check "SIGHUP reloaded the certificates" \
	wait_grep $((reloads + 1)) 'event=tls_certificates worker=0' "$relay_log"
check "a new connection gets the new certificate" grep -q 'O = Reloaded' <<<"$(rsa_subject)"
touch "$tmp/go"
wait "$live_pid"
check "the live session completed a transaction after the reload" test $? = 0
grep '^FAIL' "$tmp/live.out"
check "the live session's checks ran" grep -q '^PASS: live: message accepted' "$tmp/live.out"
# A broken reload: a key that does not match.
cp -p "$pki/stray.key" "$live/rsa.key.new" && mv "$live/rsa.key.new" "$live/rsa.key"
kill -HUP "$relay_pid"
check "a broken reload is logged with its reason" wait_grep 1 \
	'event=tls_reload_failed worker=0 reason=".*does not match certificate.*action=keeping_current_certificates' \
	"$relay_log"
check "after a broken reload the previous certificate is still served" \
	grep -q 'O = Reloaded' <<<"$(rsa_subject)"
out=$(swaks --server "127.0.0.1:$p_starttls" --tls --from a@after.test --to b@after.test 2>&1)
check "transactions still work after a broken reload" test $? = 0

kill "$relay_pid"
wait "$relay_pid" 2>/dev/null

# --- configtest and serve refuse bad certificates ------------------------------
bad_conf() {	# bad_conf CERT KEY > file
	base_conf
	cat <<EOF
[listener smtp]
address = 127.0.0.1:$p_starttls
[backend]
servers = 127.0.0.1:$sink_port
[certificate bad]
cert_file = $1
key_file = $2
EOF
}
refuses() {	# refuses DESCRIPTION EXPECTED CERT KEY [RUN-AS-NOBODY]
	local conf=$tmp/bad.conf out rc
	bad_conf "$3" "$4" >"$conf"
	chmod 644 "$conf"
	if [ "${5:-}" = nobody ]; then
		out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$spfgate" configtest -c "$conf" 2>&1)
	else
		out=$("$spfgate" configtest -c "$conf" 2>&1)
	fi
	rc=$?
	check "configtest refuses $1 (exit $rc)" test $rc = 78
	check "configtest says why: $1 ($out)" grep -qF -- "$2" <<<"$out"
}
refuses "a key that does not match" \
	"spfgate configtest: TLS: [certificate bad]: private key $pki/stray.key does not match certificate $pki/mail-rsa.pem" \
	"$pki/mail-rsa.pem" "$pki/stray.key"
refuses "a missing certificate" \
	"[certificate bad]: cannot read $pki/missing.pem: No such file or directory" \
	"$pki/missing.pem" "$pki/mail-rsa.key"
cp -p "$pki/mail-rsa.key" "$tmp/world.key"
chmod 644 "$tmp/world.key"
refuses "a world-readable key" \
	"[certificate bad]: private key $tmp/world.key is accessible by other users (mode 0644)" \
	"$pki/mail-rsa.pem" "$tmp/world.key"
refuses "an encrypted key" "[certificate bad]: private key $pki/enc.key is encrypted" \
	"$pki/mail-rsa.pem" "$pki/enc.key"
cp -p "$pki/mail-rsa.key" "$tmp/unreadable.key"
chmod 600 "$tmp/unreadable.key"	# root's: unreadable for nobody
refuses "an unreadable key" \
	"[certificate bad]: cannot read $tmp/unreadable.key: Permission denied" \
	"$pki/mail-rsa.pem" "$tmp/unreadable.key" nobody
bad_conf "$pki/mail-rsa.pem" "$pki/stray.key" >"$tmp/bad.conf"
out=$(timeout 20 "$spfgate" serve -c "$tmp/bad.conf" 2>&1)
rc=$?
check "serve refuses a key that does not match (exit $rc)" test $rc = 78
check "serve says why ($out)" grep -qF "spfgate serve: TLS: [certificate bad]: private key" <<<"$out"
check "serve did not start listening" not_listening "$p_starttls"

# --- backend STARTTLS against a real Postfix -----------------------------------
pf=$tmp/postfix
mkdir -p "$pf/conf" "$pf/queue" "$pf/data"
chown postfix "$pf/data" 2>/dev/null
pf_good=$(free_port)
pf_expired=$(free_port)
pf_wrong=$(free_port)
pf_xclient=$(free_port)
cat >"$pf/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = backend.test
mydomain = test
myorigin = backend.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
default_transport = discard:
local_transport = discard:
relay_transport = discard:
smtpd_relay_restrictions = permit_mynetworks, reject
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
smtpd_tls_security_level = may
smtpd_tls_cert_file = $pki/backend.pem
smtpd_tls_key_file = $pki/backend.key
smtpd_tls_loglevel = 1
EOF
cat >"$pf/conf/master.cf" <<EOF
127.0.0.1:$pf_good inet n - n - - smtpd
127.0.0.1:$pf_expired inet n - n - - smtpd -o smtpd_tls_cert_file=$pki/backend-expired.pem -o smtpd_tls_key_file=$pki/backend-expired.key
127.0.0.1:$pf_wrong inet n - n - - smtpd -o smtpd_tls_cert_file=$pki/backend-wrongname.pem -o smtpd_tls_key_file=$pki/backend-wrongname.key
127.0.0.1:$pf_xclient inet n - n - - smtpd -o smtpd_authorized_xclient_hosts=127.0.0.0/8
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
EOF
postfix -c "$pf/conf" check >"$pf/check.log" 2>&1 ||
	{ echo "FAIL: postfix check"; cat "$pf/check.log"; }
"$postfix_master" -c "$pf/conf" -d >"$pf/master.log" 2>&1 &
pf_pid=$!
pids+=($pf_pid)
wait_port "$pf_good" && wait_port "$pf_expired" && wait_port "$pf_wrong" &&
	wait_port "$pf_xclient" ||
	{ echo "FAIL: postfix did not start"; cat "$pf/master.log" "$pf/maillog"; exit 1; }

p_back=$(free_port)
# backend_relay NAME < BACKEND_LINES: spfgate on $p_back with these
# [backend] lines, logging to $tmp/NAME.log, its pid in $pid; fails when it
# does not listen.
backend_relay() {
	{
		base_conf
		printf '[listener smtp]\naddress = 127.0.0.1:%s\n[backend]\n' \
			"$p_back"
		cat
	} >"$tmp/$1.conf"
	"$spfgate" serve -c "$tmp/$1.conf" >"$tmp/$1.log" 2>&1 &
	pid=$!
	wait_port "$p_back"
}
# Connections Postfix's smtpd accepted so far.
pf_connects() { grep -c 'smtpd\[[0-9]*\]: connect from' "$pf/maillog"; }

# backend_case NAME EXPECT(250|451) SERVERS TLS VERIFY NAME [LOGPATTERN]
backend_case() {
	local name=$1 expect=$2 server=$3 tls=$4 verify=$5 tlsname=$6 pattern=${7:-}
	local log=$tmp/backend-$name.log out
	# Caution: not a pipe; backend_relay must set $pid in this shell.
	if ! backend_relay "backend-$name" < <(
		printf 'servers = 127.0.0.1:%s\ntls = %s\ntls_verify = %s\n' \
			"$server" "$tls" "$verify"
		printf 'tls_name = %s\n' "$tlsname"
		[ "$verify" = yes ] && echo "tls_ca_file = $pki/ca.pem"
	); then
		check "backend $name: relay started" false
		cat "$log"
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return
	fi
	out=$(swaks --server "127.0.0.1:$p_back" --from "a@$name.test" \
		--to "b@$name.test" --header "Subject: backend $name" 2>&1)
	if [ "$expect" = 250 ]; then
		check "backend $name: message accepted" grep -q '^<-  250 2.0.0' <<<"$out"
	else
		check "backend $name: MAIL refused with 451 4.4.x" \
			grep -qE '^<\*\* +451 4\.4\.[0-9]' <<<"$out"
	fi
	[ -n "$pattern" ] && check "backend $name: log shows '$pattern'" \
		wait_grep 1 "$pattern" "$log"
	kill "$pid"
	wait "$pid" 2>/dev/null
	[ "$fails" = 0 ] || [ -z "${TLS_TEST_VERBOSE:-}" ] || cat "$log"
}

sent_before=$(grep -c 'status=sent' "$pf/maillog" 2>/dev/null)
backend_case required-no-starttls 451 "$sink_port" required no "" \
	'event=backend_skip server=127.0.0.1:[0-9]* reason="STARTTLS required but not offered"'
backend_case opportunistic-plain 250 "$sink_port" opportunistic no ""
backend_case opportunistic-tls 250 "$pf_good" opportunistic no "" \
	'event=backend_tls server=127.0.0.1:[0-9]* version=TLSv1.3 .* verified=no'
backend_case required-verified 250 "$pf_good" required yes backend.test \
	'event=backend_tls .* verified=yes'
backend_case required-verified-ip 250 "$pf_good" required yes "" \
	'event=backend_tls .* verified=yes'
backend_case verify-expired 451 "$pf_expired" required yes backend.test \
	'certificate verification failed: certificate has expired'
backend_case verify-wrong-name 451 "$pf_wrong" required yes backend.test \
	'certificate verification failed: hostname mismatch'
backend_case opportunistic-verify-expired 451 "$pf_expired" opportunistic yes \
	backend.test 'certificate has expired'
backend_case noverify-expired 250 "$pf_expired" required no backend.test \
	'event=backend_tls .* verified=no'
backend_case noverify-wrong-name 250 "$pf_wrong" required no backend.test
check "Postfix delivered the five accepted messages over TLS" \
	wait_grep $((sent_before + 5)) 'status=sent' "$pf/maillog"

# XCLIENT to a Postfix that authorizes us: spfgate pipelines the XCLIENT
# with the EHLO that must follow it; Postfix must take both and record the
# real client (swaks binds 127.0.0.2; spfgate connects from 127.0.0.1).
if backend_relay xclient <<<"servers = 127.0.0.1:$pf_xclient"; then
	connects_before=$(pf_connects)
	for src in 2 3; do
		out=$(swaks --server "127.0.0.1:$p_back" \
			--local-interface "127.0.0.$src" \
			--ehlo xclient.client.test --from a@xclient.test \
			--to b@xclient.test --header "Subject: xclient $src" 2>&1)
		check "xclient to Postfix: message from 127.0.0.$src accepted" \
			grep -q '^<-  250 2.0.0' <<<"$out"
		check "xclient to Postfix: Postfix recorded 127.0.0.$src" \
			wait_grep 1 ": client=unknown\[127\.0\.0\.$src\]" \
			"$pf/maillog"
	done
	# Both sessions over one kept connection: Postfix takes a second
	# XCLIENT on the same connection.
	connects=$(( $(pf_connects) - connects_before ))
	check "xclient to Postfix: one connection for two sessions ($connects)" \
		test "$connects" = 1
	check "xclient to Postfix: spfgate used no other server" \
		not grep -q 'backend_skip\|backend_reuse_failed' "$tmp/xclient.log"
else
	check "xclient to Postfix: relay started" false
fi
kill "$pid"
wait "$pid" 2>/dev/null

# A kept TLS connection to the backend serves the next session: one
# connection, one handshake, two messages.
if backend_relay kept-tls <<EOF; then
servers = 127.0.0.1:$pf_good
tls = required
tls_verify = yes
tls_name = backend.test
tls_ca_file = $pki/ca.pem
EOF
	connects_before=$(pf_connects)
	sent_before=$(grep -c 'status=sent' "$pf/maillog")
	for n in 1 2; do
		out=$(swaks --server "127.0.0.1:$p_back" --from a@kept.test \
			--to b@kept.test --header "Subject: kept $n" 2>&1)
		check "kept TLS connection: message $n accepted" \
			grep -q '^<-  250 2.0.0' <<<"$out"
	done
	check "kept TLS connection: Postfix delivered both" \
		wait_grep $((sent_before + 2)) 'status=sent' "$pf/maillog"
	connects=$(( $(pf_connects) - connects_before ))
	check "kept TLS connection: one connection for two sessions ($connects)" \
		test "$connects" = 1
	check "kept TLS connection: one verified handshake" \
		test "$(grep -c 'event=backend_tls .* verified=yes' \
			"$tmp/kept-tls.log")" = 1
else
	check "kept TLS connection: relay started" false
fi
kill "$pid"
wait "$pid" 2>/dev/null

# A 4 MB message through TLS on both sides (flow control across filters).
big_conf=$tmp/big.conf
{
	base_conf
	cat <<EOF
[listener smtp]
address = 127.0.0.1:$p_back
tls = starttls
[backend]
servers = 127.0.0.1:$pf_good
tls = required
tls_verify = yes
tls_ca_file = $pki/ca.pem
tls_name = backend.test
[certificate rsa]
cert_file = $pki/mail-rsa.pem
key_file = $pki/mail-rsa.key
EOF
} >"$big_conf"
"$py" -c 'import sys
line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n"
sys.stdout.write("Subject: big\r\n\r\n" + line * 55000)' >"$tmp/big.eml"
"$spfgate" serve -c "$big_conf" >"$tmp/big.log" 2>&1 &
big_pid=$!
if wait_port "$p_back"; then
	out=$(swaks --server "127.0.0.1:$p_back" --tls --from a@big.test \
		--to b@big.test --data "$tmp/big.eml" 2>&1)
	check "4 MB message over TLS on both sides accepted" \
		grep -q '^<~  250 2.0.0' <<<"$out"
	check "Postfix received all of it" wait_grep 1 \
		'from=<a@big.test>, size=40[0-9][0-9][0-9][0-9][0-9]' "$pf/maillog"
else
	check "relay for the big message started" false
fi
kill "$big_pid"
wait "$big_pid" 2>/dev/null
check "Postfix saw TLS connections from the relay" \
	grep -q 'TLS connection established from localhost\[127.0.0.1\]' "$pf/maillog"

# Sanitizer builds: any report in a daemon's log is a failure.
sanitizer_clean() {
	! grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$tmp"/*.log >/dev/null 2>&1
}
check "no sanitizer report in any spfgate log" sanitizer_clean

if [ $fails != 0 ]; then
	grep -l -E 'Sanitizer|runtime error:' "$tmp"/*.log 2>/dev/null |
		while read -r f; do echo "== $f"; cat "$f"; done
	echo "== front-end relay log"; tail -40 "$relay_log"
	echo "== live session"; cat "$tmp/live.out"
fi
echo "$passes passed, $fails failed"
[ $fails = 0 ]
