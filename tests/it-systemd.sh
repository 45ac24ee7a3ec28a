#!/usr/bin/env bash
# The unit under a real systemd: install the build into a DESTDIR, boot a
# Debian 12 rootfs (built once with debootstrap, cached) as a systemd-nspawn
# container with a private network, and run tests/systemd/inside.sh in it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$here/../build}
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
dest=$(mktemp -d "${TMPDIR:-/tmp}/replyroute-destdir.XXXXXX")
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --quiet >/dev/null
"$here/systemd/run.sh" "$dest"
