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
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
topo_seed
rr_conf_seed "Gateway=$HOST_ETH1_GW"

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
	} | rr_norm
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
expect_eq "exactly eth1's rules: gate, iif rule to main, table rule, anchor" \
	"$(rr_want_rules "eth1 0x1 100")" "$(rr_rules -4)"
expect_eq "no IPv6 rule without an IPv6 address" "" "$(rr_rules -6)"
expect_eq "table 100: default, eth1's own prefix only, foreign route kept" \
"default via 203.0.113.1 dev eth1 proto 205 src 203.0.113.2
198.19.1.0/24 via 192.0.2.1 dev eth0 proto static
203.0.113.0/24 dev eth1 proto 205 scope link src 203.0.113.2" \
	"$(rr_table 100 -4)"
expect_eq "nft table inet replyroute as designed" "$RR_SEED_NFT" "$(rr_nft)"
expect_eq "src_valid_mark=1 on eth1" 1 "$(sysctl_get host net.ipv4.conf.eth1.src_valid_mark)"
expect_eq "src_valid_mark untouched on eth0 and all" "0 0" \
	"$(sysctl_get host net.ipv4.conf.eth0.src_valid_mark) $(sysctl_get host net.ipv4.conf.all.src_valid_mark)"
expect_ok "foreign nft table intact" in_ns host nft list table inet foreign
AFTER=$(snapshot)
NFT_HANDLES=$(rr_nft -a)

# 5. A second --once changes nothing: no event on rtnetlink, same nft handles.
# The monitor must be listening before --once runs; --once returns after the
# kernel acked its changes, so that any would be logged before the sentinel.
mon_start
mon_mark
expect_ok "second --once succeeds" rr --once
rr --once 2>"$T/once2.err"
mon_sync
expect_eq "second --once: no rule or route event" "" "$(mon_ip_events)"
mon_stop
expect_eq "second --once logs no change" "" "$(grep -v 'eth1: 203.0.113.2 via' "$T/once2.err")"
expect_eq "second --once: nft table not replaced (same handles)" "$NFT_HANDLES" "$(rr_nft -a)"
expect_eq "second --once: state identical" "$AFTER" "$(snapshot)"

# 6. A leftover duplicate can never appear: adding ours again is refused.
expect_fail "the kernel refuses a duplicate of our rule" \
	in_ns host ip rule add priority 1000 fwmark 0x1/0xff lookup 100 proto 205 2>/dev/null
ip -n "$NS_HOST" rule add priority 1000 fwmark 0x1/0xff lookup 100 proto 205 2>/dev/null
expect_eq "still exactly one rule for table 100" 1 "$(in_ns host ip rule show | grep -c 'lookup 100')"

# 7. --cleanup returns everything to exactly the earlier state.
expect_ok "--cleanup succeeds" rr --cleanup
expect_eq "--cleanup restores rules, routes, nft and sysctls exactly" "$BEFORE" "$(snapshot)"
expect_ok "after cleanup: management path works" ping_ok mon "$HOST_ETH0_ADDR"
expect_ok "after cleanup: eth1 path broken again (as before)" ping_fails mon "$HOST_ETH1_ADDR"
expect_ok "--cleanup twice is harmless" rr --cleanup
expect_eq "state still as before" "$BEFORE" "$(snapshot)"

finish
