#!/bin/bash
# Build (once, cached) a minimal Debian bookworm rootfs that boots systemd in
# systemd-nspawn, for the tests in tests/systemd/.
#
#   tests/systemd/mkroot.sh        -> prints the rootfs path on stdout
#
# Cache: ${RR_NSPAWN_CACHE:-/var/cache/replyroute-nspawn}/bookworm-HASH/{rootfs,stamp},
# HASH from the recipe (version, suite, package list)
# The rootfs is rebuilt when the stamp (recipe version, suite, package list)
# differs from what this script would build; otherwise this returns at once.
# The Debian mirror is the one the host's apt uses (RR_DEBIAN_MIRROR overrides).
# Needs root.  Logs go to stderr.
set -euo pipefail

SUITE=bookworm
RECIPE=1   # bump when the post-processing below changes
PACKAGES=(
	systemd systemd-sysv dbus iproute2 nftables procps iputils-ping
	libnl-3-200 libnl-route-3-200 libnftables1 libsystemd0
)

log() { printf 'mkroot: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"

want_stamp() {
	printf 'recipe=%s\nsuite=%s\npackages=%s\n' "$RECIPE" "$SUITE" \
		"$(printf '%s\n' "${PACKAGES[@]}" | LC_ALL=C sort -u | paste -sd, -)"
}

# One directory per recipe: checkouts that want different package lists (one
# branch adds a package) each keep their rootfs instead of rebuilding the
# other's.
CACHE=${RR_NSPAWN_CACHE:-/var/cache/replyroute-nspawn}/$SUITE-$(want_stamp | md5sum | cut -c1-8)
ROOT=$CACHE/rootfs
STAMP=$CACHE/stamp

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock -x 9

if [ -f "$STAMP" ] && [ -x "$ROOT/lib/systemd/systemd" ] &&
	[ "$(cat "$STAMP")" = "$(want_stamp)" ]; then
	printf '%s\n' "$ROOT"
	exit 0
fi

# --- host tools --------------------------------------------------------------
missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
if [ ${#missing[@]} -gt 0 ]; then
	log "installing host tools: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"${missing[@]}" >&2
fi

# --- the mirror the host's apt uses --------------------------------------------
# First enabled "deb" source for suite $SUITE with component main, from
# sources.list, sources.list.d/*.list (one-line) and sources.list.d/*.sources
# (deb822).  Files with other extensions are ignored, as apt does.
host_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v suite="$SUITE" '
			{ sub(/#.*/, "") }
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
				uri = $i; s = $(i + 1)
				for (j = i + 2; j <= NF; j++)
					if (s == suite && $j == "main") { print uri; exit }
			}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$SUITE" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && suites ~ ("(^| )" suite "( |$)") &&
				    comps ~ /(^| )main( |$)/ && tolower(enabled) != "no" && uris != "") {
					split(uris, u, " "); print u[1]; found = 1
				}
				types = suites = comps = uris = ""; enabled = "yes"
			}
			BEGIN { enabled = "yes" }
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); if (found) exit; next }
			{
				line = $0; key = tolower(line); sub(/:.*/, "", key)
				val = line; sub(/^[^:]*:[ \t]*/, "", val)
				if (key == "types") types = val
				else if (key == "uris") uris = val
				else if (key == "suites") suites = val
				else if (key == "components") comps = val
				else if (key == "enabled") enabled = val
			}
			END { if (!found) flush() }' "$f"
	done
}

MIRROR=${RR_DEBIAN_MIRROR:-$(host_mirror | head -n1)}
[ -n "$MIRROR" ] || die "no '$SUITE main' deb source in the host's apt configuration; set RR_DEBIAN_MIRROR"
log "mirror: $MIRROR"

# --- build into a temporary directory, then swap in ----------------------------
NEW=$CACHE/rootfs.new
OLD=$CACHE/rootfs.old

cleanup_dir() {
	local d=$1 m
	[ -e "$d" ] || return 0
	# debootstrap mounts proc/sys/dev* inside the target; never rm through them
	findmnt -rn -o TARGET | awk -v p="$d/" 'index($0 "/", p) == 1' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf --one-file-system "$d"
}
DEBOOTSTRAP_PGID=
stop_debootstrap() {
	[ -n "$DEBOOTSTRAP_PGID" ] || return 0
	kill -TERM -- "-$DEBOOTSTRAP_PGID" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 -- "-$DEBOOTSTRAP_PGID" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL -- "-$DEBOOTSTRAP_PGID" 2>/dev/null
	sleep 0.2
}
trap 'rc=$?; stop_debootstrap; cleanup_dir "$NEW"; cleanup_dir "$OLD"; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

cleanup_dir "$NEW"
rm -f "$STAMP"
start=$(date +%s)
log "debootstrap $SUITE (minbase) into $NEW"
include=$(IFS=,; echo "${PACKAGES[*]}")
# own process group (so that an interrupted build can be stopped as a whole),
# waited for in the background (so that signals are handled at once)
setsid debootstrap --variant=minbase --include="$include" "$SUITE" "$NEW" "$MIRROR" \
	</dev/null >"$CACHE/debootstrap.log" 2>&1 &
DEBOOTSTRAP_PGID=$!
rc=0; wait "$DEBOOTSTRAP_PGID" || rc=$?
DEBOOTSTRAP_PGID=
if [ "$rc" -ne 0 ]; then
	tail -n 30 "$CACHE/debootstrap.log" >&2
	[ -f "$NEW/debootstrap/debootstrap.log" ] && tail -n 30 "$NEW/debootstrap/debootstrap.log" >&2
	die "debootstrap failed (log: $CACHE/debootstrap.log)"
fi

# --- post-processing (plain file operations, no chroot needed) -----------------
# Units that would wait on the (read-only) console or only add noise/timers.
for u in console-getty.service getty@.service container-getty@.service \
	systemd-firstboot.service apt-daily.timer apt-daily-upgrade.timer \
	e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
	ln -sfn /dev/null "$NEW/etc/systemd/system/$u"
done
# Shared image: every boot gets a transient machine id.
: >"$NEW/etc/machine-id"
rm -f "$NEW/var/lib/dbus/machine-id"
echo replyroute-test >"$NEW/etc/hostname"
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$NEW/etc/apt/sources.list"
rm -rf "$NEW"/var/cache/apt/archives/*.deb "$NEW"/var/lib/apt/lists/* "$NEW/debootstrap"
for p in "${PACKAGES[@]}"; do
	grep -qx "Package: $p" "$NEW/var/lib/dpkg/status" || die "package $p not installed"
done
[ -x "$NEW/lib/systemd/systemd" ] || die "no systemd in the new rootfs"

# run.sh holds a shared lock on .inuse while a container runs on the rootfs
exec 8>"$CACHE/.inuse"
flock -x 8
if [ -e "$ROOT" ]; then mv "$ROOT" "$OLD"; fi
mv "$NEW" "$ROOT"
want_stamp >"$STAMP"
flock -u 8
cleanup_dir "$OLD"
log "built $ROOT in $(( $(date +%s) - start ))s ($(du -sh --one-file-system "$ROOT" | cut -f1))"
printf '%s\n' "$ROOT"
