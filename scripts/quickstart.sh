#!/usr/bin/env bash
# quickstart.sh - install, build and run spfgate with a demonstration
# backend (the README's run command).
#
# Runs in the foreground: spfgate on 127.0.0.1:2525 (conf/quickstart.conf)
# forwarding to Postfix's smtp-sink on 127.0.0.1:2526, which writes each
# message it accepts to run/mail/.  Ctrl-C stops both.
#
# TLS: unless conf/quickstart.conf has a [certificate] section of its own,
# a self-signed development certificate is made on the first run in
# run/tls/ (openssl; kept for later runs) and spfgate runs with
# run/quickstart.conf: conf/quickstart.conf plus that certificate, which
# turns on STARTTLS on port 2525, plus an implicit-TLS listener on
# 127.0.0.1:2465.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

scripts/deps.sh demo
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target spfgate

mkdir -p run/mail
chown nobody run/mail	# smtp-sink drops to user nobody
smtp-sink -u nobody -d "$top/run/mail/%Y%m%d-%H%M%S." 127.0.0.1:2526 100 &
sink=$!
trap 'kill $sink 2>/dev/null; wait $sink 2>/dev/null' EXIT

# dev_certificate: a self-signed RSA certificate for the demo host name,
# made once; the key is readable by its owner only (spfgate refuses keys
# that others can read).
dev_certificate() {
	local dir=$top/run/tls
	[ -s "$dir/dev-cert.pem" ] && [ -s "$dir/dev-key.pem" ] && return 0
	mkdir -p "$dir"
	(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -sha256 \
		-days 365 -subj "/CN=spfgate.localdomain" \
		-addext "subjectAltName=DNS:spfgate.localdomain,DNS:localhost,IP:127.0.0.1" \
		-keyout "$dir/dev-key.pem" -out "$dir/dev-cert.pem" 2>/dev/null)
	chmod 644 "$dir/dev-cert.pem"
	echo "made a self-signed development certificate in $dir/"
}

conf=conf/quickstart.conf
if ! grep -q '^\[certificate' "$conf"; then
	dev_certificate
	conf=run/quickstart.conf
	{
		cat conf/quickstart.conf
		cat <<CONF

; Added by scripts/quickstart.sh: the development certificate (STARTTLS on
; [listener smtp] by default) and an implicit-TLS listener.
[certificate dev]
cert_file = $top/run/tls/dev-cert.pem
key_file = $top/run/tls/dev-key.pem

[listener smtps]
address = 127.0.0.1:2465
tls = implicit
CONF
	} >"$conf"
fi

cat <<TXT

spfgate is starting on 127.0.0.1:2525 (STARTTLS) and 127.0.0.1:2465
(implicit TLS); the demo backend keeps what it receives in
$top/run/mail/.  From another terminal:

  swaks --server 127.0.0.1:2525 --tls --from someone@gmail.com --to you@example.com
  swaks --server 127.0.0.1:2465 --tlsc --from someone@gmail.com --to you@example.com
  grep -h -A4 -e '^Received-SPF' -e '^Authentication-Results' $top/run/mail/*

Ctrl-C stops spfgate and the demo backend.

TXT
build/relay/spfgate configtest -c "$conf"
build/relay/spfgate serve -c "$conf"
