#!/usr/bin/env bash
# Interface patterns (issue 12): Name=eth[1-9] tracks every matching link,
# each with a mark and a table of its own, kept in the state directory across
# restarts; a link that appears gains map elements and chains in the nft
# table (a delta, the table not replaced), one that goes loses them.
# Topology: tests/topo-seed.sh, plus eth2 (host) -- r_eth2 (rtr) hot-plugged:
#
#   mon --- rtr --- eth0 (192.0.2.2, management: not matched)
#            |----- eth1 (203.0.113.2, default route: matched)
#            `----- eth2 (198.18.0.2/24, appears later: matched)
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
topo_seed

export STATE_DIRECTORY=$T/state
ETH2_ADDR=198.18.0.2
ETH2_GW=198.18.0.1
rr_conf <<'EOF2'
[Interface]
Name=eth[1-9]
EOF2

# mark_rule MARK TABLE: host has replyroute's rule MARK -> TABLE (IPv4).
mark_rule() { rr_rules -4 | grep -q "fwmark $1/0xff lookup $2 proto 205\$"; }
elements() { in_ns host nft list map inet replyroute iface_mark | tr -d '\n\t ' | grep -o 'elements={[^}]*}'; }
chain_handle() { in_ns host nft -a list chain inet replyroute prerouting | sed -n 's/.*chain prerouting { # handle \([0-9]*\).*/\1/p'; }

expect_ok "--check prints the pattern" eval 'rr --check -v 2>&1 | grep -qx "Name=eth\[1-9\]"'

# 1. eth1 matches: tracked, mark 0x1, table 1000; the seed's reply path is fixed.
rr_start -v
expect_ok "eth1 tracked: mark 0x1, table 1000" poll 10 mark_rule 0x1 1000
expect_ok "eth0 not matched: no second mark" eval '! rr_rules -4 | grep -q "fwmark 0x2"'
expect_ok "reply path fixed: TCP mon -> eth1" tcp_ok mon host "$HOST_ETH1_ADDR" 21
expect_ok "the allocation is kept in the state directory" \
	grep -qx "eth1 1 1000" "$STATE_DIRECTORY/allocations"
expect_ok "--explain: eth1 tracked through the pattern, symmetric" eval \
	'rr --explain --from "$MON_ADDR" --to "$HOST_ETH1_ADDR" --proto tcp --dport 21 |
		grep -q "eth1: tracked, mark 0x1/0xff, table 1000"'
HANDLE=$(chain_handle)

# 2. eth2 appears: its own mark and table; the nft table changed by a delta.
veth host eth2 rtr r_eth2
ip -n "$NS_RTR" addr add "$ETH2_GW/24" dev r_eth2 &&
	ip -n "$NS_HOST" addr add "$ETH2_ADDR/24" dev eth2 || fail "eth2 addresses"
expect_ok "eth2 appears: mark 0x2, table 1001" poll 10 mark_rule 0x2 1001
expect_ok "eth2's table: its prefix" poll 5 eval \
	'ip -n "$NS_HOST" route show table 1001 | grep -q "198.18.0.0/24 dev eth2"'
expect_eq "the map has both" 'elements={"eth1":jumpct_0x1,"eth2":jumpct_0x2}' "$(elements)"
expect_eq "the nft table was not replaced (same chain handle)" "$HANDLE" "$(chain_handle)"
expect_ok "both kept" eval 'grep -qx "eth2 2 1001" "$STATE_DIRECTORY/allocations"'

# 3. eth2 goes: its element, rules and routes go; its allocation stays.
ip -n "$NS_HOST" link del eth2 || fail "deleting eth2"
expect_ok "eth2 gone: its rule goes" poll 10 eval '! mark_rule 0x2 1001'
expect_eq "the map has eth1 only" 'elements={"eth1":jumpct_0x1}' "$(elements)"
expect_eq "still not replaced" "$HANDLE" "$(chain_handle)"
expect_ok "eth2's allocation kept" grep -qx "eth2 2 1001" "$STATE_DIRECTORY/allocations"

# 4. A restart with eth2 back but eth1 renamed away: eth2 keeps 0x2 and 1001 (the lowest
#    free would be 0x1 and 1000: only the state directory says otherwise); eth1 back
#    under its name gets 0x1 and 1000 again.
stop_bg "$RR_PID" TERM >/dev/null
veth host eth2 rtr r_eth2
ip -n "$NS_RTR" addr add "$ETH2_GW/24" dev r_eth2 &&
	ip -n "$NS_HOST" addr add "$ETH2_ADDR/24" dev eth2 || fail "eth2 addresses"
ip -n "$NS_HOST" link set dev eth1 down && ip -n "$NS_HOST" link set dev eth1 name out1 &&
	ip -n "$NS_HOST" link set dev out1 up || fail "renaming eth1"
rr_start -v
expect_ok "restart: eth2 keeps 0x2 and 1001" poll 10 mark_rule 0x2 1001
expect_ok "restart: no other mark given out" eval '[[ $(rr_rules -4 | grep -c "lookup [0-9]* proto") == 1 ]]'
ip -n "$NS_HOST" link set dev out1 down && ip -n "$NS_HOST" link set dev out1 name eth1 &&
	ip -n "$NS_HOST" link set dev eth1 up || fail "renaming eth1 back"
ip -n "$NS_HOST" route replace default via "$HOST_ETH1_GW" dev eth1 || fail "default route"
expect_ok "eth1 back: 0x1 and 1000 again" poll 10 mark_rule 0x1 1000
expect_ok "eth1 back: traffic works" tcp_ok mon host "$HOST_ETH1_ADDR" 21
stop_bg "$RR_PID" TERM >/dev/null
expect_eq "stopped: no rule left" "" "$(rr_rules)"

# 5. A link two sections take: --check -v and --audit say which wins.
rr_conf <<'EOF2'
[Interface]
Name=eth[1-9]

[Interface]
Name=eth1
Table=100
Mark=0x10
EOF2
expect_ok "--check -v: the name is also matched by the pattern" eval \
	'rr --check -v 2>&1 | grep -qx "# also matched by Name=eth\[1-9\]: the first section wins (that one)"'
expect_ok "--audit: eth1 taken by the pattern, also matches Name=eth1" eval \
	'rr --audit 2>&1 | grep -q "overlap: eth1: eth1 is taken by Name=eth\[1-9\] (line 1) and also matches Name=eth1 (line 4)"'

# 6. Mark= with a pattern: an error with its line.
rr_conf <<'EOF2'
[Interface]
Name=wan*
Mark=0x5
EOF2
expect_ok "Mark= with a pattern: refused, FILE:LINE" eval \
	'rr --check 2>&1 | grep -q "replyroute.conf:3: Mark= cannot go with a pattern Name="'
finish
