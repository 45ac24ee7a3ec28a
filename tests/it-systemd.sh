#!/usr/bin/env bash
# The package under a real systemd: build the Debian package twice (this
# version, and a rebuild with a later version to upgrade to), boot a Debian 12
# rootfs (built once with debootstrap, cached) as a systemd-nspawn container
# with a private network, and run tests/systemd/inside.sh in it: install,
# configure, reload, traffic, the unit's behaviour, upgrade, purge.
#
# RR_DEB_DIR: use the packages there (replyroute_*.deb and
# upgrade/replyroute_*.deb, as .ci/run builds them) instead of building.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
command -v dpkg-buildpackage >/dev/null || { echo "1..0 # SKIP needs dpkg-dev and debhelper"; exit 0; }
debs=${RR_DEB_DIR:-}
if [ -z "$debs" ]; then
	debs=$(mktemp -d "${TMPDIR:-/tmp}/replyroute-debs.XXXXXX")
	trap 'rm -rf "$debs"' EXIT
	"$here/build-deb.sh" "$debs" >/dev/null
	"$here/build-deb.sh" "$debs/upgrade" "$(cd "$here/.." && dpkg-parsechangelog -S Version)+rebuild1" >/dev/null
fi
"$here/systemd/run.sh" "$debs"
