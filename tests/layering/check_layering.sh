#!/usr/bin/env bash
# check_layering.sh - dependencies flow one way: relay -> smtp, spf, certs,
# conf.  spf/ and smtp/ use libc only (spf/spf_unbound.* may use libunbound
# and libevent), conf/ adds inih, certs/ adds OpenSSL; nothing includes
# relay/.  Prints each offending #include and fails if there is one.
set -u
top=${1:?usage: check_layering.sh SOURCE_DIR}
cd "$top" || exit 2
bad=0

# forbid DIR REGEX [EXCLUDE_FILE_REGEX]: no file in DIR may include REGEX.
forbid() {
	local dir=$1 pattern=$2 exclude=${3:-'^$'} hits
	[ -d "$dir" ] || return 0
	hits=$(grep -RnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($pattern)" \
		--include='*.c' --include='*.h' "$dir" | grep -vE "$exclude" || true)
	if [ -n "$hits" ]; then
		echo "layering violation in $dir/ (may not include $pattern):"
		echo "$hits"
		bad=1
	fi
}

libs='event2/|openssl/|unbound|ini\.h|yaml'
forbid spf "relay/|smtp/|conf/|certs/|$libs" '^spf/spf_unbound\.[ch]:[0-9]+:.*(unbound|event2/)'
forbid smtp "relay/|spf/|conf/|certs/|$libs"
forbid conf "relay/|spf/|smtp/|certs/|event2/|openssl/|unbound|yaml"
forbid certs "relay/|spf/|smtp/|conf/|event2/|unbound|ini\.h|yaml"
[ $bad = 0 ] && echo "layering ok"
exit $bad
