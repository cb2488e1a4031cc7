#!/usr/bin/env bash
# quickstart.sh - install, build and run spfgate with a demonstration
# backend (the README's run command).
#
# Runs in the foreground: spfgate on 127.0.0.1:2525 (conf/quickstart.conf)
# forwarding to Postfix's smtp-sink on 127.0.0.1:2526, which writes each
# message it accepts to run/mail/.  Ctrl-C stops both.
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

cat <<TXT

spfgate is starting on 127.0.0.1:2525; the demo backend keeps what it
receives in $top/run/mail/.  From another terminal:

  swaks --server 127.0.0.1:2525 --from someone@gmail.com --to you@example.com
  grep -h -A4 -e '^Received-SPF' -e '^Authentication-Results' $top/run/mail/*

Ctrl-C stops spfgate and the demo backend.

TXT
build/relay/spfgate configtest -c conf/quickstart.conf
build/relay/spfgate serve -c conf/quickstart.conf
