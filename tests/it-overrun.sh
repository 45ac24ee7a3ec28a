#!/usr/bin/env bash
# A netlink overrun (ENOBUFS) loses notifications; the daemon must read
# everything again and still converge exactly (DESIGN §2). Its notification
# sockets get a tiny receive buffer (REPLYROUTE_RCVBUF=1024); the log must
# show the overrun, and the state must be exactly the one computed from the
# addresses in the end. Topology: tests/topo-seed.sh.
#
#   +---- mon ----+      +------------------- rtr -------------------+
#   | mon0        |      | r_mon 198.51.100.1/24                     |
#   | .10/24      +------+ r_mgmt 192.0.2.1/24   r_pub 203.0.113.1/24|
#   | dflt via .1 |      +------+-----------------------+------------+
#   +-------------+             |                       |
#                        +------+------ host -----------+------------+
#                        | eth0 192.0.2.2/24    eth1 203.0.113.2/24  |
#                        |                       +198.19.251.1/24 (1)|
#                        |                       -> 203.0.113.77/24  |
#                        |                          (2)              |
#                        | 198.51.100/24 via 192.0.2.1 dev eth0      |
#                        | default via 203.0.113.1 dev eth1 (learned)|
#                        | eth1 promote_secondaries=1                |
#                        +-------------------------------------------+
#
# 1. Deterministic: the daemon frozen (SIGSTOP), route changes in table 300
#    fill its buffer, then 198.19.251.1/24 goes on eth1, and its notifications
#    are certainly lost; only the full dump after the overrun finds it (its
#    prefix, an on-link prefix of eth1, belongs in table 100).
# 2. One "ip -batch" of 1001 address changes while it runs: on eth1 add
#    198.18.X.1/24 (X = 0..249) and 203.0.113.3..252/24 (secondaries); delete
#    all the 198.18.X.1; delete the secondaries but .77; delete 198.19.251.1;
#    delete 203.0.113.2 (.77 is promoted, and the kernel silently drops every
#    route with source .2).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
topo_seed

PORT=21
KEEP=203.0.113.77
EXTRA1=198.19.251.1
sysctl_set host net.ipv4.conf.eth1.promote_secondaries 1

rr_conf_seed
OVERRUN='^<4>netlink receive buffer overrun'

# addrs DEV: the IPv4 addresses of DEV in host, "ADDR/LEN" sorted.
addrs() {
	ip -n "$NS_HOST" -4 -o addr show dev "$1" | awk '{ print $4 }' | sort -V
}

# expected_table GW A: table 100 as designed, computed from the addresses in
# host now (all /24): the default via GW and eth1's prefixes, with eth1's
# source A (the primary address that was there first); nothing of eth0.
expected_table() {
	local addr nets
	nets=$(for addr in $(addrs eth1); do
		addr=${addr%/*}
		echo "${addr%.*}.0/24"
	done | sort -u | sort -t. -k1,1n -k2,2n -k3,3n)
	# shellcheck disable=SC2086 # one prefix a word
	rr_want_table4 eth1 "$2" "$1" $nets
}

# converged GW A: rules, table 100, nft table and sysctl exactly as designed.
converged() {
	rr_converged "$(expected_table "$1" "$2")"
}

# stopped PID: PID is stopped (SIGSTOP).
stopped() {
	local s
	read -r s <"/proc/$1/stat" || return 1
	s=${s##*) }
	[[ ${s:0:1} == T ]]
}

# resume PID: continue PID if it is still there (SIGCONT).
resume() { kill -CONT "$1" 2>/dev/null; }

overruns() { grep -c "$OVERRUN" "$RR_LOG"; }
# noop_reconciles: how many reconciles changed nothing (debug log).
noop_reconciles() { grep -c '^<7>reconcile .*: 0 change' "$RR_LOG"; }
# noop_since M: more of them than M.
noop_since() { (($(noop_reconciles) > $1)); }

# overran_since N: more overrun lines than N.
overran_since() { (($(overruns) > $1)); }

rr_start REPLYROUTE_RCVBUF=1024 -v
expect_ok "start: converged" poll 5 converged "$RTR_PUB_ADDR" "$HOST_ETH1_ADDR"
expect_eq "start: table 100 (the computed list is the seed's)" \
"default via 203.0.113.1 dev eth1 proto 205 src 203.0.113.2
203.0.113.0/24 dev eth1 proto 205 scope link src 203.0.113.2" "$(rr_table 100)"

# Its own nft table and routes overrun the tiny buffers already: wait until
# the daemon has read everything from before (a rule it must put back is the
# barrier), so that only what follows can overrun them from now on.
ip -n "$NS_HOST" rule del priority 1000 || fail "rule del"
poll 5 converged "$RTR_PUB_ADDR" "$HOST_ETH1_ADDR" || fail "the daemon did not put its rule back"

# 1. The daemon's view must be up to date first (a reconcile that changed
# something reads its rules and routes again next time anyway, overrun or
# not): an unrelated change in main through eth1 (main matters through a
# tracked interface; other tables and untracked links wake nothing), then
# wait for a reconcile without changes (debug log).
M=$(noop_reconciles)
ip -n "$NS_HOST" route add 198.19.250.0/24 via 203.0.113.1 dev eth1 &&
	ip -n "$NS_HOST" route del 198.19.250.0/24 via 203.0.113.1 dev eth1 ||
	fail "route in main"
poll 5 noop_since "$M" || fail "no reconcile without changes logged"
N=$(overruns)
at_cleanup resume "$RR_PID" # should the test end while it is stopped
kill -STOP "$RR_PID" || fail "cannot stop the daemon"
poll 5 stopped "$RR_PID" || fail "the daemon did not stop"
{
	for x in $(seq 0 199); do echo "route add 198.19.$x.0/24 via 192.0.2.1 table 300"; done
	for x in $(seq 0 199); do echo "route del 198.19.$x.0/24 via 192.0.2.1 table 300"; done
	echo "addr add $EXTRA1/24 dev eth1"
} >"$T/burst1"
ip -n "$NS_HOST" -batch "$T/burst1" || fail "the first burst failed"
kill -CONT "$RR_PID" || fail "cannot continue the daemon"
expect_eq "1: eth1 has $EXTRA1 too" "$EXTRA1/24
203.0.113.2/24" "$(addrs eth1)"
expect_ok "1: lost address notification: converged exactly" \
	poll 10 converged "$RTR_PUB_ADDR" "$HOST_ETH1_ADDR"
expect_eq "1: table 100 has $EXTRA1's prefix, source still 203.0.113.2" \
"default via 203.0.113.1 dev eth1 proto 205 src 203.0.113.2
198.19.251.0/24 dev eth1 proto 205 scope link src 203.0.113.2
203.0.113.0/24 dev eth1 proto 205 scope link src 203.0.113.2" "$(rr_table 100)"
expect_ok "1: the daemon logged the overrun" poll 5 overran_since "$N"
expect_eq "1: table 300 empty again" "" "$(routes host 300)"

# 2. 1001 address changes in one burst, the daemon running.
N=$(overruns)
{
	for x in $(seq 0 249); do echo "addr add 198.18.$x.1/24 dev eth1"; done
	for x in $(seq 3 252); do echo "addr add 203.0.113.$x/24 dev eth1"; done
	for x in $(seq 0 249); do echo "addr del 198.18.$x.1/24 dev eth1"; done
	for x in $(seq 3 252); do
		[[ 203.0.113.$x == "$KEEP" ]] || echo "addr del 203.0.113.$x/24 dev eth1"
	done
	echo "addr del $EXTRA1/24 dev eth1"
	echo "addr del $HOST_ETH1_ADDR/24 dev eth1"
} >"$T/burst2"
expect_eq "2: the burst makes 1001 address changes" 1001 "$(wc -l <"$T/burst2")"
ip -n "$NS_HOST" -batch "$T/burst2" || fail "the second burst failed"

expect_eq "2: eth1 has $KEEP only" "$KEEP/24" "$(addrs eth1)"
expect_eq "2: eth0 untouched" "192.0.2.2/24" "$(addrs eth0)"
expect_eq "2: main's default route via eth1 kept" \
	"default via $RTR_PUB_ADDR dev eth1" "$(rr_table main -4 | grep ^default)"
expect_ok "2: converged exactly" poll 30 converged "$RTR_PUB_ADDR" "$KEEP"
expect_eq "2: table 100 (the computed list)" \
"default via 203.0.113.1 dev eth1 proto 205 src $KEEP
203.0.113.0/24 dev eth1 proto 205 scope link src $KEEP" "$(rr_table 100)"
expect_ok "2: the daemon logged the overrun (it did exercise ENOBUFS)" \
	poll 5 overran_since "$N"
expect_eq "2: exactly eth1's rules" "$(rr_want_rules "eth1 0x1 100")" "$(rr_rules)"
expect_ok "2: ping mon -> $KEEP" ping_ok mon "$KEEP"
expect_ok "2: TCP mon -> $KEEP" tcp_ok mon host "$KEEP" "$PORT"

stop_bg "$RR_PID"
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_eq "stopped: nothing of replyroute's left" "" \
	"$(rr_rules; routes host 100)"

finish
