#!/usr/bin/env bash
# The seed scenario, one-shot: replyrouted --once fixes the reply path, exactly,
# idempotently, and --cleanup puts everything back. Topology: tests/topo-seed.sh
#
#   mon 198.51.100.10 --- rtr --- eth0 192.0.2.2    host  (default via eth1,
#                             \-- eth1 203.0.113.2         198.51.100/24 via eth0)
#
# Foreign state that must survive everything: a rule, a route in replyroute's
# own table, a table of its own, an nft table with a counter, eth0's sysctl.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/topo-seed.sh"
need_daemon
topo_seed

CONF=$T/replyroute.conf
cat >"$CONF" <<EOF
[Interface]
Name=eth1
Table=100
Mark=0x1
Gateway=$HOST_ETH1_GW
EOF
export RUNTIME_DIRECTORY=$T/run
rr() { in_ns host "$REPLYROUTED" -c "$CONF" "$@"; }
norm() { sed -E 's/proto replyroute/proto 205/; s/[[:space:]]+$//'; }

# Foreign state.
ip -n "$NS_HOST" rule add priority 500 from 198.18.0.0/15 lookup 300 || fail "foreign rule"
ip -n "$NS_HOST" route add 198.18.0.0/15 via 192.0.2.1 table 300 || fail "foreign route"
ip -n "$NS_HOST" route add 198.19.1.0/24 via 192.0.2.1 table 100 proto static ||
	fail "foreign route in table 100"
in_ns host nft -f - <<'EOF' || fail "foreign nft table"
table inet foreign {
	counter seen { }
	chain input { type filter hook input priority 0; policy accept; counter name seen; }
}
EOF

snapshot() {
	{
		rules host
		echo "## table 100"; routes host 100
		echo "## table 300"; routes host 300
		echo "## main"; routes host main
		echo "## nft"; in_ns host nft list ruleset | grep -v 'packets'
		echo "## sysctl"
		for i in all default eth0 eth1; do
			echo "$i $(sysctl_get host net.ipv4.conf.$i.src_valid_mark)"
		done
	} | norm
}
BEFORE=$(snapshot)

# 1. The problem is real.
expect_ok "before: management path works" ping_ok mon "$HOST_ETH0_ADDR"
expect_ok "before: ping to eth1 fails" ping_fails mon "$HOST_ETH1_ADDR"
expect_ok "before: TCP to eth1 fails" tcp_fails mon host "$HOST_ETH1_ADDR" 21

# 2. --dry-run shows the plan and changes nothing.
expect_ok "--dry-run succeeds" rr --dry-run
rr --dry-run >"$T/dry" 2>&1
expect_ok "--dry-run prints the rule" grep -q 'priority 1000 fwmark 0x1/0xff lookup 100' "$T/dry"
expect_ok "--dry-run prints the nft table" grep -q 'table inet replyroute' "$T/dry"
expect_eq "--dry-run changed nothing" "$BEFORE" "$(snapshot)"

# 3. --once fixes it.
expect_ok "--once succeeds" rr --once
expect_ok "after: ping to eth1 works" ping_ok mon "$HOST_ETH1_ADDR"
expect_ok "after: TCP to eth1 works" tcp_ok mon host "$HOST_ETH1_ADDR" 21
expect_ok "after: UDP to eth1 works" udp_ok mon host "$HOST_ETH1_ADDR" 69
expect_ok "after: management path still works" ping_ok mon "$HOST_ETH0_ADDR"
expect_ok "after: TCP on the management path works" tcp_ok mon host "$HOST_ETH0_ADDR" 22

# 4. Exactly the designed state.
expect_eq "exactly one replyroute rule" \
	"1000:	from all fwmark 0x1/0xff lookup 100 proto 205" \
	"$(in_ns host ip -4 rule show | norm | grep -E 'proto 205')"
expect_eq "no IPv6 rule without an IPv6 address" "" "$(in_ns host ip -6 rule show | norm | grep 'proto 205')"
expect_eq "table 100: default, connected prefixes, foreign route kept" \
"default via 203.0.113.1 dev eth1 proto 205 src 203.0.113.2
192.0.2.0/24 dev eth0 proto 205 scope link src 192.0.2.2
198.19.1.0/24 via 192.0.2.1 dev eth0 proto static
203.0.113.0/24 dev eth1 proto 205 scope link src 203.0.113.2" \
	"$(routes host 100 -4 | norm)"
expect_eq "nft table inet replyroute as designed" "$(cat "$(dirname "$0")/expected/seed.nft")" \
	"$(in_ns host nft list table inet replyroute)"
expect_eq "src_valid_mark=1 on eth1" 1 "$(sysctl_get host net.ipv4.conf.eth1.src_valid_mark)"
expect_eq "src_valid_mark untouched on eth0 and all" "0 0" \
	"$(sysctl_get host net.ipv4.conf.eth0.src_valid_mark) $(sysctl_get host net.ipv4.conf.all.src_valid_mark)"
expect_ok "foreign nft table intact" in_ns host nft list table inet foreign
AFTER=$(snapshot)
NFT_HANDLES=$(in_ns host nft -a list table inet replyroute)

# 5. A second --once changes nothing: no event on rtnetlink, same nft handles.
# A pty makes ip monitor print each event as it comes.
start_bg host script -qfec "ip monitor rule route" /dev/null
MON_PID=$BG_PID
MON_LOG=$BG_LOG
# The monitor must be listening before --once runs: probe until it sees a change.
PROBE=0
mon_probe() {
	PROBE=$((PROBE + 1))
	ip -n "$NS_HOST" route add 198.19.2.$PROBE/32 via 192.0.2.1 table 300 &&
		grep -q 198.19.2. "$MON_LOG"
}
poll 3 mon_probe || fail "ip monitor sees nothing"
ip -n "$NS_HOST" route flush table 300 root 198.19.2.0/24
poll 3 grep -q "Deleted 198.19.2.$PROBE" "$MON_LOG" || fail "ip monitor missed the delete"
LINES=$(wc -l <"$MON_LOG")
expect_ok "second --once succeeds" rr --once
rr --once 2>"$T/once2.err"
# Any change would have been seen by now: --once returns after the kernel acked it.
ip -n "$NS_HOST" route add 198.19.3.0/24 via 192.0.2.1 table 300
poll 3 grep -q 198.19.3.0 "$MON_LOG" || fail "ip monitor stopped"
expect_eq "second --once: no rule or route event" "198.19.3.0/24 via 192.0.2.1 dev eth0 table 300" \
	"$(tail -n +$((LINES + 1)) "$MON_LOG" | tr -d "\r" | norm)"
ip -n "$NS_HOST" route del 198.19.3.0/24 via 192.0.2.1 table 300
stop_bg "$MON_PID" >/dev/null
expect_eq "second --once logs no change" "" "$(grep -v 'eth1: 203.0.113.2 via' "$T/once2.err")"
expect_eq "second --once: nft table not replaced (same handles)" "$NFT_HANDLES" \
	"$(in_ns host nft -a list table inet replyroute)"
expect_eq "second --once: state identical" "$AFTER" "$(snapshot)"

# 6. A leftover duplicate can never appear: adding ours again is refused.
expect_fail "the kernel refuses a duplicate of our rule" \
	in_ns host ip rule add priority 1000 fwmark 0x1/0xff lookup 100 proto 205 2>/dev/null
ip -n "$NS_HOST" rule add priority 1000 fwmark 0x1/0xff lookup 100 proto 205 2>/dev/null
expect_eq "still exactly one replyroute rule" 1 "$(in_ns host ip rule show | grep -c 'lookup 100')"

# 7. --cleanup returns everything to exactly the earlier state.
expect_ok "--cleanup succeeds" rr --cleanup
expect_eq "--cleanup restores rules, routes, nft and sysctls exactly" "$BEFORE" "$(snapshot)"
expect_ok "after cleanup: management path works" ping_ok mon "$HOST_ETH0_ADDR"
expect_ok "after cleanup: eth1 path broken again (as before)" ping_fails mon "$HOST_ETH1_ADDR"
expect_ok "--cleanup twice is harmless" rr --cleanup
expect_eq "state still as before" "$BEFORE" "$(snapshot)"

finish
