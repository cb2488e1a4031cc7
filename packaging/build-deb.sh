#!/usr/bin/env bash
# build-deb.sh - build the spfgate Debian package from this source tree.
#
# Usage: packaging/build-deb.sh [OUTDIR]      (default: build-deb/)
#
# Copies the tree (the files git knows of plus untracked ones that are not
# ignored, so no build directories) into a temporary directory, puts
# packaging/debian there as debian/, and runs `dpkg-buildpackage -us -uc -b`
# in it.  The .deb, .buildinfo and .changes land in OUTDIR; the temporary
# copy is removed.  Missing tools (dpkg-dev, debhelper, fakeroot when not
# root) and Build-Depends are installed with apt-get (needs root).
# devscripts is not needed: dpkg-buildpackage comes with dpkg-dev.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build-deb}

# Installs the packages named, if any is missing (as root only).
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "build-deb.sh: missing ${missing[*]}; install them as root" >&2
		exit 1
	fi
	echo "build-deb.sh: installing ${missing[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" >/dev/null
}

# The version in debian/changelog must be the one CMake builds.
check_version() {
	local deb cmake
	deb=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
	cmake=$(sed -n 's/^project(spfgate VERSION \([0-9.]*\).*/\1/p' \
		"$top/CMakeLists.txt")
	if [ "$deb" != "$cmake" ]; then
		echo "build-deb.sh: debian/changelog says $deb," \
			"CMakeLists.txt says $cmake" >&2
		exit 1
	fi
	echo "$deb"
}

# Copies the source tree (no build output) into $1.
copy_tree() {
	local dest=$1
	mkdir -p "$dest"
	if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$top" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do
				[ -e "$f" ] && printf '%s\0' "$f"
			done | tar --null -T - -cf -) | tar -xf - -C "$dest"
	else
		tar -C "$top" --exclude='./build*' --exclude='./.git' \
			--exclude='./run' -cf - . | tar -xf - -C "$dest"
	fi
	rm -rf "$dest/debian"
	cp -a "$top/packaging/debian" "$dest/debian"
}

need_pkgs dpkg-dev debhelper
[ "$(id -u)" = 0 ] || need_pkgs fakeroot
version=$(check_version)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/spfgate-$version
copy_tree "$src"

cd "$src"
if ! dpkg-checkbuilddeps >/dev/null 2>&1; then
	# shellcheck disable=SC2046
	need_pkgs $(dpkg-checkbuilddeps 2>&1 |
		sed -n 's/.*Unmet build dependencies: //p' |
		sed 's/([^)]*)//g; s/|[^ ]*//g')
fi
dpkg-buildpackage -us -uc -b

mkdir -p "$out"
cp "$tmp"/*.deb "$tmp"/spfgate_"$version"_*.buildinfo \
	"$tmp"/spfgate_"$version"_*.changes "$out"/
ls -l "$out"/spfgate*_"$version"_*
