#!/bin/bash
# Build the Debian package from this source tree, out of tree:
#
#   tests/build-deb.sh OUTDIR [VERSION]
#
# Copies the tree (git's tracked and untracked-but-not-ignored files, so
# uncommitted work is built too) to a temporary directory, runs
# "dpkg-buildpackage -us -uc -b" there with DEB_BUILD_OPTIONS=nocheck (the
# tests run separately) and puts the .debs (with -dbgsym), .buildinfo and .changes into
# OUTDIR. With VERSION, the copy's changelog gets a first entry of that
# version: an upgrade to test without touching debian/changelog. Prints the
# path of the .deb.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [VERSION]" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
version=${2:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/replyroute-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/replyroute"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		(cd "$src" && tar --null -T - -cf -) | tar -C "$tmp/replyroute" -xf -
else
	tar -C "$src" --exclude='./build*' --exclude='./obj-*' --exclude='./.git' -cf - . |
		tar -C "$tmp/replyroute" -xf -
fi
# symlinks to /dev/null (masked drop-ins in tests/conf) are copied as links: fine.

cd "$tmp/replyroute"
if [ -n "$version" ]; then
	{
		printf 'replyroute (%s) unstable; urgency=medium\n\n' "$version"
		printf '  * Rebuilt as %s (tests/build-deb.sh).\n\n' "$version"
		printf ' -- %s  %s\n\n' "$(sed -n 's/^ -- \(.*>\)  .*/\1/p' debian/changelog | head -n1)" \
			"$(date -R)"
		cat debian/changelog
	} >debian/changelog.new
	mv debian/changelog.new debian/changelog
fi
DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b >"$tmp/build.log" 2>&1 ||
	{ tail -n 40 "$tmp/build.log" >&2; echo "dpkg-buildpackage failed" >&2; exit 1; }
v=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
# the package, its -dbgsym, and the .changes that lists them (for lintian)
cp "$tmp"/*_"${v}"_*.deb "$tmp/replyroute_${v}_${arch}.buildinfo" \
	"$tmp/replyroute_${v}_${arch}.changes" "$out/"
echo "$out/replyroute_${v}_${arch}.deb"
