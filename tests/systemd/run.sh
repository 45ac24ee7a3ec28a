#!/bin/bash
# shellcheck disable=SC2317  # cleanup functions run from traps
# Boot the cached Debian rootfs (mkroot.sh) under a real systemd in
# systemd-nspawn, with DEBDIR (replyroute_*.deb, and upgrade/replyroute_*.deb
# of a later version) at /mnt/replyroute-debs, and run tests/systemd/inside.sh
# there: it installs, upgrades and purges the package.  Exit status: that of
# inside.sh (or 1 when the harness itself fails).
#
#   tests/systemd/run.sh DEBDIR            # run inside.sh
#   tests/systemd/run.sh DEBDIR CMD [ARG...] # run CMD instead (e.g. bash, to debug)
#
# Environment:
#   RR_NSPAWN_CACHE   rootfs cache (see mkroot.sh)
#   RR_KEEP_LOGS=1    keep the work directory (console log) even on success
#   RR_BOOT_TIMEOUT   seconds to wait for the container to boot (default 120)
#   RR_TEST_TIMEOUT   seconds for inside.sh (default 600)
#
# The container has a private network namespace (only lo, plus the veth pair
# the test creates inside it), a volatile overlay root (the cached rootfs is
# never written), and is always powered off and cleaned up on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
T0=$(now_ms)
log() {
	local t=$(( $(now_ms) - T0 ))
	printf 'run.sh[%d.%ds]: %s\n' $(( t / 1000 )) $(( t % 1000 / 100 )) "$*" >&2
}
die() { log "error: $*"; exit 1; }

[ $# -ge 1 ] || { echo "usage: $0 DEBDIR [CMD [ARG...]]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root"
DEBDIR=$(realpath -e "$1") || die "no such directory: $1"
shift
[ -d "$DEBDIR" ] || die "not a directory: $DEBDIR"
ls "$DEBDIR"/replyroute_*.deb >/dev/null 2>&1 || die "no replyroute_*.deb in $DEBDIR"
ls "$DEBDIR"/upgrade/replyroute_*.deb >/dev/null 2>&1 || die "no upgrade/replyroute_*.deb in $DEBDIR"
log "packages: $(cd "$DEBDIR" && echo replyroute_*.deb upgrade/replyroute_*.deb)"

ROOT=$("$HERE/mkroot.sh")
# while this runs, mkroot.sh (another run, another package list) must not swap the rootfs
exec 8>"$(dirname "$ROOT")/.inuse"
flock -s 8
[ -x "$ROOT/lib/systemd/systemd" ] || die "mkroot.sh gave no usable rootfs"
command -v nsenter >/dev/null || die "nsenter (util-linux) missing"

NAME=rr-test-$$-$RANDOM
WORK=$(mktemp -d "${TMPDIR:-/tmp}/replyroute-nspawn.XXXXXX")
CONSOLE=$WORK/console.log
NSPAWN_PID=
LEADER=
TEST_PID=
CGROUPS=()
RC=1

# --- cleanup: always power off and remove what we created --------------------------
alive() { # PID exists and is not a zombie
	local st
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ]
}
wait_gone() { # PID TIMEOUT_MS
	local deadline=$(( $(now_ms) + $2 ))
	while alive "$1"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}
kill_test() { # the test's process group (setsid: its PGID is TEST_PID, nsenter)
	local p
	[ -n "$TEST_PID" ] || return 0
	# everything but nsenter itself first: nsenter must outlive its child and
	# reap it (an orphan would go to the host's init, and the container's
	# shutdown would wait for that zombie)
	for p in $(pgrep -g "$TEST_PID"); do
		[ "$p" = "$TEST_PID" ] || kill -TERM "$p" 2>/dev/null
	done
	wait_gone "$TEST_PID" 5000 && return 0
	kill -KILL -- "-$TEST_PID" 2>/dev/null
	wait_gone "$TEST_PID" 5000
}
cleanup() {
	set +e
	trap '' INT TERM HUP   # a second signal must not cut the cleanup short
	if alive "$TEST_PID"; then
		log "stopping the test"
		kill_test
	fi
	if alive "$NSPAWN_PID"; then
		log "powering the container off"
		# nspawn turns SIGTERM into an orderly poweroff of the container
		kill -TERM "$NSPAWN_PID" 2>/dev/null
		if ! wait_gone "$NSPAWN_PID" 30000; then
			log "container did not power off in 30s; killing it"
			alive "$LEADER" && kill -KILL "$LEADER" 2>/dev/null   # ends the whole PID namespace
			wait_gone "$NSPAWN_PID" 5000 || kill -KILL "$NSPAWN_PID" 2>/dev/null
		fi
	fi
	[ -n "$NSPAWN_PID" ] && wait "$NSPAWN_PID" 2>/dev/null
	[ -n "$TEST_PID" ] && wait "$TEST_PID" 2>/dev/null
	# nspawn leaves this behind when it is killed
	rmdir "/run/systemd/nspawn/propagate/$NAME" 2>/dev/null
	# our private cgroups: kill stragglers (only possible after a SIGKILL), remove
	local cg d p
	for cg in "${CGROUPS[@]}"; do
		[ -d "$cg" ] || continue
		find "$cg" -depth -type d | while read -r d; do
			while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$d/cgroup.procs"
		done
		find "$cg" -depth -type d | while read -r d; do
			for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
		done
		[ -d "$cg" ] && log "warning: could not remove cgroup $cg"
	done
	if [ "$RC" -ne 0 ] && [ -s "$CONSOLE" ]; then
		log "last lines of the container console ($CONSOLE):"
		tail -n 40 "$CONSOLE" | sed 's/\x1b\[[0-9;]*m//g' >&2
	fi
	if [ "$RC" -eq 0 ] && [ "${RR_KEEP_LOGS:-0}" != 1 ]; then
		rm -rf "$WORK"
	else
		log "logs kept in $WORK"
	fi
	log "total $(( ($(now_ms) - T0) / 1000 )).$(( ($(now_ms) - T0) % 1000 / 100 ))s, exit $RC"
}
trap 'RC=$?; cleanup; exit $RC' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# --- a private cgroup for the container when the host is not systemd --------------
# Without a systemd host nspawn (--keep-unit --register=no) uses the cgroup it
# was started in; give it its own so that concurrent runs never share one and
# nothing is left in the host's root cgroup.
if [ ! -d /run/systemd/system ]; then
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		hier=(/sys/fs/cgroup)
	else
		hier=()
		for h in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
			mountpoint -q "$h" && hier+=("$h")
		done
	fi
	for h in "${hier[@]}"; do
		mkdir "$h/replyroute-$NAME"
		CGROUPS+=("$h/replyroute-$NAME")
	done
fi

# --- boot ----------------------------------------------------------------------------
log "booting $ROOT as $NAME"
TB=$(now_ms)
SCOPE=()
if [ -d /run/systemd/system ]; then
	# systemd host (not this project's CI machines, untested there): a delegated
	# scope of our own for --keep-unit; systemd-run --scope execs nspawn in place
	SCOPE=(systemd-run --quiet --scope --collect -p Delegate=yes --unit="replyroute-$NAME" --)
fi
(
	for cg in "${CGROUPS[@]}"; do echo "$BASHPID" >"$cg/cgroup.procs"; done
	exec "${SCOPE[@]}" systemd-nspawn --quiet --boot --private-network --register=no --keep-unit \
		--volatile=overlay --console=read-only \
		-D "$ROOT" -M "$NAME" \
		--bind-ro="$DEBDIR:/mnt/replyroute-debs" \
		--bind-ro="$HERE:/mnt/replyroute-tests"
) </dev/null >"$CONSOLE" 2>&1 &
NSPAWN_PID=$!

# The container's PID 1 is the child of nspawn that is PID 1 in its own namespace.
deadline=$(( TB + 30000 ))
while [ -z "$LEADER" ]; do
	alive "$NSPAWN_PID" || die "systemd-nspawn exited early"
	for c in $(pgrep -P "$NSPAWN_PID" 2>/dev/null); do
		if [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$c/status" 2>/dev/null)" = 1 ]; then
			LEADER=$c
		fi
	done
	[ -n "$LEADER" ] && break
	[ "$(now_ms)" -lt "$deadline" ] || die "no container PID 1 after 30s"
	sleep 0.1
done

# run a command inside the container (all its namespaces, clean environment)
INCONT=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0
	nsenter --target "$LEADER" --all --root --wd --)
incont() { "${INCONT[@]}" "$@"; }

boot_timeout=${RR_BOOT_TIMEOUT:-120}
deadline=$(( TB + boot_timeout * 1000 ))
state=
while :; do
	alive "$NSPAWN_PID" || die "systemd-nspawn exited during boot"
	state=$(incont timeout 10 systemctl is-system-running --wait 2>/dev/null) || true
	case $state in running|degraded) break ;; esac
	[ "$(now_ms)" -lt "$deadline" ] || die "container not booted after ${boot_timeout}s (state: ${state:-none})"
	sleep 0.2
done
log "container up in $(( ($(now_ms) - TB) / 1000 )).$(( ($(now_ms) - TB) % 1000 / 100 ))s: $state"
if [ "$state" = degraded ]; then
	incont systemctl --failed --no-legend --no-pager >&2 || true
fi

# --- the package is installed by inside.sh (dpkg -i, from /mnt/replyroute-debs) -------
[ $# -gt 0 ] || set -- bash /mnt/replyroute-tests/inside.sh
# In its own process group (nsenter and everything it starts), so that cleanup
# can end it before powering off: processes entered with nsenter are not the
# container init's children, and systemd-shutdown would wait for them.  Waited
# for in the background so that INT/TERM are handled at once; stdin is kept
# (for an interactive CMD).
setsid "${INCONT[@]}" "$@" 0<&0 &
TEST_PID=$!
test_timeout=${RR_TEST_TIMEOUT:-600}
deadline=$(( $(now_ms) + test_timeout * 1000 ))
while alive "$TEST_PID"; do
	if [ "$(now_ms)" -ge "$deadline" ]; then
		log "test did not finish in ${test_timeout}s"
		kill_test
		break
	fi
	sleep 0.2
done
RC=0; wait "$TEST_PID" || RC=$?
TEST_PID=
exit "$RC"
