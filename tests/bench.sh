#!/usr/bin/env bash
# Benchmark: prints figures, asserts nothing about time. Seed topology
# (tests/topo-seed.sh), optionally N extra tracked veth interfaces.
#
#   BUILD_DIR=build tests/bench.sh [EXTRA_INTERFACES]
#
# Figures: wall time of `replyrouted --once` and `--status` (median of 20), daemon cold start
# to READY, in-process reconcile time, address change -> converged (median and
# p99 of 100, measured from rtnetlink notifications), an event with 100,000
# foreign routes and with 5,000 addresses, --explain and --audit beside the
# daemon (median of 20), memory, idle wakeups; then bench-scale.sh (N = 100,
# 1000: cold start, kernel objects, RssAnon) and bench-forward.sh (N = 1,
# 1000: forwarding, unmarked and marked).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd python3
# The runtime directory on tmpfs, as /run is where the unit runs it.
RUNTIME_DIRECTORY=$(mktemp -d /dev/shm/rr-bench.XXXXXX) || fail "runtime directory"
at_cleanup rm -rf "$RUNTIME_DIRECTORY"
topo_seed
EXTRA=${1:-0}

rr_conf_seed
# Extra interfaces: veth pairs inside the host namespace, each tracked.
if ((EXTRA > 0)); then
	{
		for ((i = 1; i <= EXTRA; i++)); do
			echo "link add name up$i type veth peer name upp$i"
			echo "link set up$i up"
			echo "link set upp$i up"
			echo "addr add 198.18.$((i / 250 + 1)).$((i % 250 + 1))/32 dev up$i"
		done
	} | ip -n "$NS_HOST" -batch - || fail "creating $EXTRA interfaces"
	for ((i = 1; i <= EXTRA; i++)); do
		printf '[Interface]\nName=up%d\nTable=%d\nMark=%#x\nGateway=198.19.0.1\n' \
			"$i" $((1000 + i)) $((i + 1))
	done >>"$CONF"
	sed -i '1i [Global]\nMarkMask=0xffff\n' "$CONF"
fi
ns_ms() { echo "scale=2; $1 / 1000000" | bc 2>/dev/null || echo "$(($1 / 1000000))"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "# replyroute benchmark: seed topology + $EXTRA extra tracked interfaces, $(nproc) cores"

# 1. --once, cold (first run installs) and warm (converged: reads and compares only).
t0=$EPOCHREALTIME
rr --once 2>/dev/null || fail "--once failed"
t1=$EPOCHREALTIME
printf 'once, first (installs everything): %.2f ms\n' "$(echo "($t1 - $t0) * 1000" | bc -l)"
for i in $(seq 20); do
	t0=$EPOCHREALTIME
	rr --once 2>/dev/null
	t1=$EPOCHREALTIME
	echo "($t1 - $t0) * 1000" | bc -l
done | median | xargs printf 'once, converged (median of 20, includes exec): %.2f ms\n'
rr --cleanup 2>/dev/null

# 2. Daemon cold start to READY=1 (a notify socket of the benchmark's own),
#    and SIGTERM to exit; three times, from nothing installed each time.
for i in 1 2 3; do
	in_ns host python3 "$(dirname "$0")/bench-start.py" "$REPLYROUTED" -c "$CONF" ||
		fail "bench-start failed"
done
rr_start -v
poll 30 grep -q 'ready:' "$RR_LOG" || fail "daemon not ready"

# 3. Address change -> converged.
in_ns host python3 "$(dirname "$0")/bench-converge.py" 100 || fail "bench-converge failed"
grep -o 'reconcile (dirty 0x[0-9a-f]*): [0-9]* change(s) in [0-9]* us' "$RR_LOG" |
	awk '$5 > 0 {print $(NF-1)}' | median |
	xargs printf 'in-process reconcile that changed something (median): %s us\n'

# Unrelated changes (a route in main through eth1 to another prefix): one reconcile each that reads and
# compares only. (A route in a table that is neither main nor ours wakes nothing at all.)
for i in $(seq 20); do
	ip -n "$NS_HOST" route add 198.19.$i.0/24 via 203.0.113.1 dev eth1
done
ip -n "$NS_HOST" route flush root 198.19.0.0/16
poll 5 eval "[ \$(grep -c ': 0 change(s)' '$RR_LOG') -ge 10 ]" || true
grep -o 'reconcile (dirty 0x[0-9a-f]*): 0 change(s) in [0-9]* us' "$RR_LOG" |
	awk '{print $(NF-1)}' | median |
	xargs printf 'in-process reconcile that changed nothing (median): %s us\n'

# 3b. A relevant event (an address on eth1) with 100,000 routes in a foreign table: route
#     dumps ask the kernel for main and replyroute's tables only.
addr_events() { # prints the median in-process reconcile time of 20 address changes on eth1
	local n0 i
	n0=$(grep -c 'reconcile (dirty' "$RR_LOG")
	for i in $(seq 10); do
		ip -n "$NS_HOST" addr add 198.18.200.$i/24 dev eth1
		poll 5 eval "[ \$(grep -c 'reconcile (dirty' '$RR_LOG') -gt $((n0 + 2 * i - 2)) ]" || true
		ip -n "$NS_HOST" addr del 198.18.200.$i/24 dev eth1
		poll 5 eval "[ \$(grep -c 'reconcile (dirty' '$RR_LOG') -gt $((n0 + 2 * i - 1)) ]" || true
	done
	grep -o 'reconcile (dirty 0x[0-9a-f]*): [0-9]* change(s) in [0-9]* us' "$RR_LOG" | tail -n +$((n0 + 1)) |
		awk '{print $(NF-1)}' | median
}
# cli_ms ARG...: median wall time of 20 runs of replyrouted ARG... beside the daemon (exec included).
cli_ms() {
	for i in $(seq 20); do
		t0=$EPOCHREALTIME
		rr "$@" >/dev/null 2>&1
		t1=$EPOCHREALTIME
		echo "($t1 - $t0) * 1000" | bc -l
	done | median
}
explain_audit() { # WHEN
	printf -- '--explain / --audit / --check, %s (median of 20, includes exec): %.2f / %.2f / %.2f ms\n' "$1" \
		"$(cli_ms --explain --from "$MON_ADDR" --to "$HOST_ETH1_ADDR")" "$(cli_ms --audit)" \
		"$(cli_ms --check)"
}
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$RR_PID/status")
t_empty=$(addr_events)
explain_audit "converged"
for ((i = 0; i < 100000; i++)); do
	echo "route add 198.51.$((i / 256 % 256)).$((i % 256))/32 via 192.0.2.1 table 500 metric $((i / 65536))"
done | ip -n "$NS_HOST" -batch - || fail "100,000 foreign routes"
t_full=$(addr_events)
explain_audit "100,000 routes in a table no rule points to"
rss1=$(awk '/VmRSS/ {print $2}' "/proc/$RR_PID/status")
echo "relevant event, in-process reconcile (median of 20): ${t_empty} us; with 100,000 routes in a foreign table: ${t_full} us; RSS +$((rss1 - rss0)) kB"
ip -n "$NS_HOST" route flush table 500

# 3c. 5,000 addresses on an untracked link (eth0): an address event there wakes no reconcile
#     (only a tracked interface's addresses are used); a relevant event (an address on eth1)
#     still reads all addresses, so it is timed with them present.
for ((i = 0; i < 5000; i++)); do
	echo "addr add 198.19.$((i / 250)).$((i % 250 + 1))/32 dev eth0"
done | ip -n "$NS_HOST" -batch - || fail "5,000 addresses"
sleep 1
n0=$(grep -c 'reconcile (dirty' "$RR_LOG")
ip -n "$NS_HOST" addr add 198.19.100.1/32 dev eth0
sleep 1
echo "address added on an untracked link with 5,000 addresses: $(($(grep -c 'reconcile (dirty' "$RR_LOG") - n0)) reconcile(s)"
ip -n "$NS_HOST" addr del 198.19.100.1/32 dev eth0
echo "relevant event with 5,000 addresses on another link, in-process reconcile (median of 20): $(addr_events) us"
for ((i = 0; i < 5000; i++)); do
	echo "addr del 198.19.$((i / 250)).$((i % 250 + 1))/32 dev eth0"
done | ip -n "$NS_HOST" -batch - || fail "removing 5,000 addresses"

# 3d. --status beside the running daemon (reads the kernel, the state file and the counters).
for i in $(seq 20); do
	t0=$EPOCHREALTIME
	rr --status >/dev/null 2>&1 || fail "--status failed"
	t1=$EPOCHREALTIME
	echo "($t1 - $t0) * 1000" | bc -l
done | median | xargs printf -- '--status beside the daemon (median of 20, includes exec): %.2f ms\n'

# 4. Memory and idleness.
echo "daemon memory: $(grep -E 'VmRSS|RssAnon' "/proc/$RR_PID/status" | tr -s ' \t\n' ' ')"
c0=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$RR_PID/status")
t0=$EPOCHREALTIME
read -r -t 5 <> <(:) || true
c1=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$RR_PID/status")
printf 'idle wakeups over %.1f s with nothing happening: %d\n' \
	"$(echo "$EPOCHREALTIME - $t0" | bc -l)" $((c1 - c0))
stop_bg "$RR_PID" TERM >/dev/null
pass "benchmark ran"
# 5. At scale and per packet, each in namespaces of its own (BENCH_QUICK=1: skipped).
if [[ -z ${BENCH_QUICK:-} && $EXTRA == 0 ]]; then
	for n in 100 1000; do
		"$(dirname "$0")/bench-scale.sh" "$n" | grep -v '^ok\|^1\.\.\|^# all' ||
			fail "bench-scale.sh $n"
	done
	for n in 1 1000; do
		"$(dirname "$0")/bench-forward.sh" "$n" | grep -v '^ok\|^1\.\.\|^# all' ||
			fail "bench-forward.sh $n"
	done
fi
finish
