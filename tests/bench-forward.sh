#!/usr/bin/env bash
# Per-packet cost of replyroute's rules on a router: prints figures, asserts
# nothing about time.
#
#   BUILD_DIR=build tests/bench-forward.sh N
#
# Namespaces: cl and cu (clients), rt (the router, running replyrouted), sv (server).
# rt tracks N interfaces: N-1 veth pairs of its own (a /26 each in
# 198.19.0.0/16) and, last in the config (the worst place in the rule list),
# c0, the link from cl. The link from cu, u0, is not tracked. iperf3 UDP, 64-byte datagrams, as fast as it goes for 3 s, median of
# three runs, packets per second received:
#   unmarked:         cu -> u0 -> rt -> s0 -> sv    (no mark: the gate, 3 rules)
#   marked, original  cl -> c0 -> rt -> s0 -> sv    (iif rules, then main)
#   marked, reply     sv -> s0 -> rt -> c0 -> cl    (iperf3 -R: the fwmark rules, table T)
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd iperf3
need_cmd python3
N=${1:-1}
ns_add cl
ns_add cu
ns_add rt
ns_add sv
NS_RT=$(ns_name rt)
export RUNTIME_DIRECTORY
RUNTIME_DIRECTORY=$(mktemp -d /dev/shm/rr-bench.XXXXXX) || fail "runtime directory"
at_cleanup rm -rf "$RUNTIME_DIRECTORY"

veth cl c1 rt c0
veth cu u1 rt u0
veth rt s0 sv s1
ip -n "$(ns_name cl)" addr add 198.18.100.2/24 dev c1 &&
	ip -n "$(ns_name cu)" addr add 198.18.102.2/24 dev u1 &&
	ip -n "$(ns_name cl)" route add default via 198.18.100.1 dev c1 &&
	ip -n "$(ns_name cu)" route add default via 198.18.102.1 dev u1 &&
	ip -n "$NS_RT" addr add 198.18.100.1/24 dev c0 &&
	ip -n "$NS_RT" addr add 198.18.102.1/24 dev u0 &&
	ip -n "$NS_RT" addr add 198.18.101.1/24 dev s0 &&
	ip -n "$(ns_name sv)" addr add 198.18.101.2/24 dev s1 &&
	ip -n "$(ns_name sv)" route add default via 198.18.101.1 || fail "addresses"
sysctl_set rt net.ipv4.ip_forward 1
{
	for ((i = 0; i < N - 1; i++)); do
		n=$((i * 64 + 1))
		echo "link add name up$i type veth peer name upp$i"
		echo "link set up$i up"
		echo "link set upp$i up"
		echo "addr add 198.19.$((n / 256)).$((n % 256))/26 dev up$i"
	done
} | ip -n "$NS_RT" -batch - || fail "creating $N interfaces"
{
	printf '[Global]\nMarkMask=0xffff\n'
	for ((i = 0; i < N - 1; i++)); do
		n=$((i * 64 + 62))
		printf '[Interface]\nName=up%d\nTable=%d\nMark=%#x\nGateway=198.19.%d.%d\n' \
			"$i" $((1000 + i)) $((i + 1)) $((n / 256)) $((n % 256))
	done
	printf '[Interface]\nName=c0\nTable=%d\nMark=%#x\nGateway=198.18.100.2\n' $((1000 + N)) "$N"
} | rr_conf

start_bg sv iperf3 -s
poll 5 eval "ip netns exec '$(ns_name sv)' ss -Hltn 'sport = :5201' | grep -q ." || fail "iperf3 server"
start_bg rt "$REPLYROUTED" -c "$CONF"
RR_PID=$BG_PID
poll 60 eval "ip -n '$NS_RT' route show table $((1000 + N)) | grep -q default" || fail "not installed"
# The anchor goes in last: every rule is there.
poll 60 eval "ip -n '$NS_RT' rule | grep -q 'nop proto'" || fail "rules not installed"

# pps CLIENT_NS [iperf3 args]: packets per second received, median of three 3 s runs.
pps() {
	local ns=$1 i
	shift
	for i in 1 2 3; do
		in_ns "$ns" iperf3 -J -u -b 0 -l 64 -t 3 -c 198.18.101.2 "$@" >"$T/iperf.json"
		python3 - "$T/iperf.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s = j.get("end", {}).get("sum")
print(int((s["packets"] - s["lost_packets"]) / s["seconds"]) if s else "error: " + j.get("error", "?"))
PY
	done | sort -n | sed -n 2p
}
echo "# forwarding, $N tracked interfaces ($(ip -n "$NS_RT" rule | grep -c 'proto 205') replyroute rules), $(nproc) cores"
echo "unmarked (cu -> u0 -> sv): $(pps cu) packets/s"
echo "marked, original direction (cl -> c0 -> sv): $(pps cl) packets/s"
echo "marked, reply direction (sv -> c0 -> cl, iperf3 -R): $(pps cl -R) packets/s"
stop_bg "$RR_PID" TERM >/dev/null
pass "forwarding benchmark ran"
finish
