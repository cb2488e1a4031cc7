#!/bin/bash
# cli_test.sh - `spfgate srs forward|reverse` end to end.
#
# Usage: cli_test.sh PATH/TO/spfgate
#
# Expected rewrites come from Mail::SRS (libmail-srs-perl, installed with
# apt-get if missing) with its clock fixed at the same --now; the rest
# checks round trips, exit statuses and messages: tampered, expired, not
# SRS, unchanged sender, world-readable secrets, usage errors, and the
# [srs] settings of a configuration file (-c) with an option overriding
# one of them.  Works in a temporary directory removed on exit.
set -uo pipefail

BIN=${1:?usage: cli_test.sh PATH/TO/spfgate}
NOW=1700000000
DAY=86400
PASS=0
FAIL=0

if ! /usr/bin/perl -MMail::SRS -e 1 2>/dev/null; then
	echo "cli_test.sh: installing libmail-srs-perl" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y libmail-srs-perl \
	    >/dev/null
	/usr/bin/perl -MMail::SRS -e 1 ||
	    { echo "cli_test.sh: Mail::SRS is missing" >&2; exit 1; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/srs_cli.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
umask 077
printf 'cli secret\nold secret\n' > "$WORK/secrets"

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }

# Mail::SRS->forward(SENDER, DOMAIN) at $NOW: perl_forward HASH SEP SENDER DOMAIN [SECRET...]
perl_forward() {
	/usr/bin/perl -e '
		BEGIN { *CORE::GLOBAL::time = sub () { '"$NOW"' } }
		use Mail::SRS;
		my ($h, $sep, $s, $d, @sec) = @ARGV;
		print Mail::SRS->new(Secret => [@sec], HashLength => $h,
		    Separator => $sep)->forward($s, $d), "\n";' "$@"
}

# run NAME WANT_STATUS WANT_STDOUT STDERR_PATTERN -- ARGS...
run() {
	local name=$1 want_rc=$2 want_out=$3 pattern=$4 out err rc
	shift 5
	out=$("$BIN" srs "$@" 2>"$WORK/err")
	rc=$?
	err=$(cat "$WORK/err")
	if [ "$rc" != "$want_rc" ]; then
		bad "$name: exit $rc, want $want_rc (stderr: $err)"
	elif [ -n "$want_out" ] && [ "$out" != "$want_out" ]; then
		bad "$name: printed '$out', want '$want_out'"
	elif [ -n "$pattern" ] && ! grep -q -- "$pattern" "$WORK/err"; then
		bad "$name: stderr '$err' lacks '$pattern'"
	else
		ok
	fi
}

S=(--secrets "$WORK/secrets")
SENDER='Alice.Smith+x@Example.ORG'
want=$(perl_forward 4 = "$SENDER" srs.example.net 'cli secret' 'old secret')
run "forward as Mail::SRS" 0 "$want" "" -- forward "$SENDER" \
    --domain srs.example.net "${S[@]}" --now $NOW
run "reverse" 0 "$SENDER" "" -- reverse "$want" "${S[@]}" --now $NOW
run "reverse, last valid day" 0 "$SENDER" "" -- reverse "$want" "${S[@]}" \
    --now $((NOW + 21 * DAY))
run "reverse, expired" 1 "" "expired: 22 days old" -- reverse "$want" \
    "${S[@]}" --now $((NOW + 22 * DAY))
run "reverse, --max-age" 0 "$SENDER" "" -- reverse "$want" "${S[@]}" \
    --now $((NOW + 22 * DAY)) --max-age 30
c=Q
[ "${want:5:1}" = Q ] && c=R
tampered="${want:0:5}$c${want:6}"
run "reverse, tampered" 1 "" "does not verify" -- reverse "$tampered" \
    "${S[@]}" --now $NOW
run "reverse, not SRS" 1 "" "is not an SRS address" -- reverse \
    "joe@example.org" "${S[@]}"
run "forward, already ours" 0 "joe@SRS.example.net" "not rewritten" -- \
    forward "joe@SRS.example.net" --domain srs.example.net "${S[@]}"
run "forward, no @" 1 "" "cannot rewrite 'joe'" -- forward joe \
    --domain srs.example.net "${S[@]}"
old=$(perl_forward 4 = "$SENDER" srs.example.net 'old secret')
run "rotation: old secret verifies" 0 "$SENDER" "" -- reverse "$old" \
    "${S[@]}" --now $NOW
want1=$(perl_forward 6 + "$want" fw2.example cli-secret)
printf 'cli-secret\n' > "$WORK/secrets2"
run "SRS0 -> SRS1 as Mail::SRS" 0 "$want1" "" -- forward "$want" \
    --domain fw2.example --secrets "$WORK/secrets2" --hash-length 6 \
    --separator + --now $NOW
run "SRS1 -> first hop" 0 "$want" "" -- reverse "$want1" \
    --secrets "$WORK/secrets2" --hash-length 6

# The secrets file and usage errors.
cp "$WORK/secrets" "$WORK/open"
chmod 0644 "$WORK/open"
run "world-readable secrets" 78 "" "readable or writable by other" -- \
    reverse "$want" --secrets "$WORK/open"
: > "$WORK/empty"
run "empty secrets" 78 "" "holds no secret" -- reverse "$want" \
    --secrets "$WORK/empty"
run "missing secrets" 78 "" "cannot open" -- reverse "$want" \
    --secrets "$WORK/nonexistent"
run "no domain" 64 "" "no SRS domain" -- forward "$SENDER" "${S[@]}"
run "no secrets" 64 "" "no secrets" -- reverse "$want"
run "bad hash length" 64 "" "hash-length" -- reverse "$want" "${S[@]}" \
    --hash-length 3
run "bad max age" 64 "" "max-age" -- reverse "$want" "${S[@]}" \
    --max-age 512
run "bad separator" 64 "" "separator" -- reverse "$want" "${S[@]}" \
    --separator x
run "bad action" 64 "" "unknown action" -- rewrite "$want" "${S[@]}"
run "no address" 64 "" "expected forward" -- reverse
run "help" 0 "" "" -- --help

# [srs] from a configuration file; a command-line option wins.
cat > "$WORK/spfgate.conf" <<EOF
[backend]
servers = 127.0.0.1:10025

[srs]
enabled = yes
domain = bounce.example.com
secrets_file = $WORK/secrets
hash_length = 8
max_age = 10d
separator = +
EOF
want8=$(perl_forward 8 + "$SENDER" bounce.example.com 'cli secret')
run "-c forward" 0 "$want8" "" -- forward "$SENDER" -c "$WORK/spfgate.conf" \
    --now $NOW
run "-c reverse, day 10" 0 "$SENDER" "" -- reverse "$want8" \
    -c "$WORK/spfgate.conf" --now $((NOW + 10 * DAY))
run "-c reverse, day 11" 1 "" "expired" -- reverse "$want8" \
    -c "$WORK/spfgate.conf" --now $((NOW + 11 * DAY))
want5=$(perl_forward 5 + "$SENDER" other.example 'cli secret')
run "-c with overrides" 0 "$want5" "" -- forward "$SENDER" \
    -c "$WORK/spfgate.conf" --hash-length 5 --domain other.example --now $NOW
printf '[srs]\nhash_length = 99\n' > "$WORK/broken.conf"
run "-c broken config" 78 "" "hash_length" -- reverse "$want8" \
    -c "$WORK/broken.conf"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
