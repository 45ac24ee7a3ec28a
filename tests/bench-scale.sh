#!/usr/bin/env bash
# Benchmark at scale: prints figures, asserts nothing about time.
#
#   BUILD_DIR=build tests/bench-scale.sh N
#
# A host namespace with N tracked veth uplinks, each with its own prefix (a
# /26 of 198.18.0.0/15: the documentation ranges hold 512 /24s, not 1000) and
# a gateway, MarkMask=0xffff, explicit Table= and Mark=. Figures: daemon cold
# start to READY=1 (wall and CPU; READY=1 is sent once every object is
# installed, checked by counting them at that moment), kernel objects
# installed, the daemon's private memory (RssAnon), and one address change.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd python3
N=${1:-100}
ns_add host
NS_HOST=$(ns_name host)
# The runtime directory on tmpfs, as /run is where the unit runs it.
export RUNTIME_DIRECTORY
RUNTIME_DIRECTORY=$(mktemp -d /dev/shm/rr-bench.XXXXXX) || fail "runtime directory"
at_cleanup rm -rf "$RUNTIME_DIRECTORY"

# Interface i: up$i (tracked) and its peer upp$i, both in host; 198.18.0.0 + 64 i.
ip4() { # ip4 I HOST: the address HOST (1..62) of interface I's /26
	local n=$(($1 * 64 + $2))
	echo "198.$((18 + n / 65536)).$((n / 256 % 256)).$((n % 256))"
}
{
	for ((i = 0; i < N; i++)); do
		echo "link add name up$i type veth peer name upp$i"
		echo "link set up$i up"
		echo "link set upp$i up"
		echo "addr add $(ip4 "$i" 1)/26 dev up$i"
	done
} | ip -n "$NS_HOST" -batch - || fail "creating $N interfaces"
{
	printf '[Global]\nMarkMask=0xffff\n'
	for ((i = 0; i < N; i++)); do
		printf '[Interface]\nName=up%d\nTable=%d\nMark=%#x\nGateway=%s\n' \
			"$i" $((1000 + i)) $((i + 1)) "$(ip4 "$i" 62)"
	done
} | rr_conf

echo "# replyroute at scale: $N tracked interfaces, $(nproc) cores"
count="ip -n $NS_HOST -4 route show table all proto 205 | grep -c ^default | tr '\\n' ' ';"
count+=" echo default routes installed at READY=1 of $N"
for i in 1 2 3; do
	BENCH_AT_READY=$count in_ns host python3 "$(dirname "$0")/bench-start.py" \
		"$REPLYROUTED" -c "$CONF" || fail "bench-start failed"
done
rr_start -v
poll 120 grep -q 'ready:' "$RR_LOG" || fail "daemon not ready"
echo "kernel objects: $(ip -n "$NS_HOST" -4 route show table all proto 205 | wc -l) routes," \
	"$(ip -n "$NS_HOST" -4 rule show | grep -c 'proto 205') rules" \
	"($N interfaces, $N prefixes)"
echo "daemon memory: $(grep -E 'VmRSS|RssAnon' "/proc/$RR_PID/status" | tr -s ' \t\n' ' ')"
# One address change on the last interface: in-process reconcile time.
n0=$(grep -c 'reconcile (dirty' "$RR_LOG")
ip -n "$NS_HOST" addr add "$(ip4 $((N - 1)) 2)/26" dev "up$((N - 1))"
poll 10 eval "[ \$(grep -c 'reconcile (dirty' '$RR_LOG') -gt $n0 ]" || true
grep -o 'reconcile (dirty 0x[0-9a-f]*): [0-9]* change(s) in [0-9]* us' "$RR_LOG" | tail -n +$((n0 + 1)) |
	head -1 | sed "s/^/an address added on one of $N interfaces: /"
[[ -n ${BENCH_KEEP_LOG:-} ]] && cp "$RR_LOG" "$BENCH_KEEP_LOG"
stop_bg "$RR_PID" TERM >/dev/null
pass "scale benchmark ran"
finish
