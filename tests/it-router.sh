#!/usr/bin/env bash
# The replyroute host as a router (DESIGN §1.3): a port-forward from eth1 to a
# LAN host. The forwarded connection carries the mark in both directions: its
# original direction comes in on eth1 and must still reach the LAN, so the rule
# "fwmark 0x1/0xff iif eth1 lookup main" (priority 999) sends it to main
# before table 100, which holds only the default and eth1's own prefix (and
# would route it back out of eth1). The replies come in on lan1, miss that
# rule and take table 100. Topology: tests/topo-seed.sh plus a LAN behind the
# host.
#
#   +---- mon ----+      +------------------- rtr -------------------+
#   | mon0        |      | r_mon 198.51.100.1/24                     |
#   | .10/24      +------+ r_mgmt 192.0.2.1/24   r_pub 203.0.113.1/24|
#   | dflt via .1 |      | rp_filter=1                               |
#   +-------------+      +------+--------------------------+---------+
#                               |                          |
#                        +------+--------- host -----------+---------+
#                        | eth0 192.0.2.2/24       eth1 203.0.113.2/24|
#                        | 198.51.100/24 via 192.0.2.1 dev eth0      |
#                        | default via 203.0.113.1 dev eth1 (learned)|
#                        | ip_forward=1, rp_filter=1                 |
#                        | DNAT eth1 tcp 8080 -> 198.18.10.2:80      |
#                        | (no masquerade)   lan1 198.18.10.1/24     |
#                        +-------------------------+-----------------+
#                                                  |
#                        +---- lan ----------------+-----------------+
#                        | lan0 198.18.10.2/24, default via .1       |
#                        | rp_filter=1; echo server on port 80       |
#                        +-------------------------------------------+
#
# mon -> 203.0.113.2:8080 arrives on eth1 and is forwarded to the LAN. Without
# replyroute the host's strict rp_filter drops it (the way back to mon is
# eth0); were it let in, the reply would leave through eth0 with source
# 203.0.113.2 and rtr's rp_filter would drop it.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
topo_seed

LAN_NET=198.18.10.0/24
LAN_ADDR=198.18.10.2
LAN_GW=198.18.10.1
FWD_PORT=8080
LAN_PORT=80

NS_LAN=$(ns_name lan)
ns_add lan
for k in all default; do
	sysctl_set lan "net.ipv4.conf.$k.rp_filter" 1
done
veth lan lan0 host lan1
sysctl_set lan net.ipv4.conf.lan0.rp_filter 1
sysctl_set host net.ipv4.conf.lan1.rp_filter 1
sysctl_set host net.ipv4.ip_forward 1
ip -n "$NS_LAN" addr add "$LAN_ADDR/24" dev lan0 &&
	ip -n "$NS_LAN" route add default via "$LAN_GW" &&
	ip -n "$NS_HOST" addr add "$LAN_GW/24" dev lan1 || fail "LAN addresses"

# The port-forward (a table of the test's own, as the admin's firewall would
# have it), and counters for the reply of the forwarded connection: in
# forward, by its packet mark; in postrouting after the NAT hook turned its
# source back into 203.0.113.2, by outgoing interface.
in_ns host nft -f - <<EOF || fail "host nft tables"
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "eth1" tcp dport $FWD_PORT dnat to $LAN_ADDR:$LAN_PORT
	}
}
table inet count {
	counter fwd_reply_marked { }
	counter fwd_reply_unmarked { }
	counter reply_eth1 { }
	counter reply_other { }
	chain forward {
		type filter hook forward priority filter + 10; policy accept;
		iifname "lan1" ip saddr $LAN_ADDR tcp sport $LAN_PORT meta mark & 0xff == 0x1 counter name fwd_reply_marked
		iifname "lan1" ip saddr $LAN_ADDR tcp sport $LAN_PORT meta mark & 0xff != 0x1 counter name fwd_reply_unmarked
	}
	chain postrouting {
		type filter hook postrouting priority srcnat + 10; policy accept;
		ip saddr $HOST_ETH1_ADDR tcp sport $FWD_PORT oifname "eth1" counter name reply_eth1
		ip saddr $HOST_ETH1_ADDR tcp sport $FWD_PORT oifname != "eth1" counter name reply_other
	}
}
EOF
# On rtr, where the replies arrive (before its rp_filter): public or management.
rr_count_at_rtr "tcp sport $FWD_PORT"

rr_conf_seed
reset_counters() {
	in_ns host nft reset counters table inet count >/dev/null &&
		in_ns rtr nft reset counters table inet count >/dev/null || fail "reset counters"
}

# fwd_ok / fwd_fails: mon connects to 203.0.113.2:8080, forwarded to the LAN
# server (port 80, bound to its address), which sees mon's address.
fwd_ok() {
	tcp_from_ok mon "$MON_ADDR" lan "$HOST_ETH1_ADDR" "$FWD_PORT" "$LAN_ADDR" "$LAN_PORT"
}
fwd_fails() {
	tcp_from_fails mon "$MON_ADDR" lan "$HOST_ETH1_ADDR" "$FWD_PORT" "$LAN_ADDR" "$LAN_PORT"
}

# 1. The problem is real: the forward fails; nothing came back through rtr.
expect_ok "LAN reaches the host" ping_ok lan "$LAN_GW"
expect_ok "before: TCP mon -> eth1:$FWD_PORT -> LAN fails" fwd_fails
expect_eq "before: no reply left through eth1" 0 "$(nft_packets host count reply_eth1)"

# 2. replyrouted running: the forward works, replies go out through eth1.
rr_start -v
RULES=$(rr_want_rules "eth1 0x1 100")
rules_are_there() { [[ $(rr_rules) == "$RULES" ]]; }
poll 5 rules_are_there || fail "replyrouted did not install its rules"
TABLE100=$(rr_want_table4 eth1 203.0.113.2 203.0.113.1 203.0.113.0/24)
table100_ok() { [[ $(rr_table 100) == "$TABLE100" ]]; }
expect_ok "table 100 converged" poll 5 table100_ok
expect_eq "table 100 exactly: default and eth1's own prefix, not the LAN's" \
	"$TABLE100" "$(rr_table 100)"
expect_eq "exactly eth1's rules, the iif rule to main among them" "$RULES" "$(rr_rules)"
expect_eq "no route to the LAN ($LAN_NET) in table 100: the original direction goes by main" \
	"" "$(rr_table 100 | grep -F "$LAN_NET")"
expect_eq "nft table inet replyroute as designed" "$RR_SEED_NFT" "$(rr_nft)"

reset_counters
expect_ok "after: TCP mon -> eth1:$FWD_PORT -> LAN works, LAN sees mon's address" fwd_ok
N=$(nft_packets host count fwd_reply_marked)
expect_ok "forwarded replies from the LAN carry mark 0x1 ($N packets)" test "$N" -gt 0
expect_eq "no unmarked forwarded reply" 0 "$(nft_packets host count fwd_reply_unmarked)"
N=$(nft_packets host count reply_eth1)
expect_ok "replies left through eth1 with source 203.0.113.2 ($N packets)" test "$N" -gt 0
expect_eq "no reply left through another interface" 0 "$(nft_packets host count reply_other)"
N=$(nft_packets rtr count from_pub)
expect_ok "rtr received the replies on r_pub ($N packets)" test "$N" -gt 0
expect_eq "rtr received no reply on r_mgmt" 0 "$(nft_packets rtr count from_mgmt)"
expect_ok "after: ping to eth1 works" ping_ok mon "$HOST_ETH1_ADDR"
expect_ok "after: management path works" ping_ok mon "$HOST_ETH0_ADDR"
expect_ok "after: LAN still reaches the host" ping_ok lan "$LAN_GW"

# 3. SIGTERM: everything removed; the forward is broken again.
stop_bg "$RR_PID"
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_eq "SIGTERM: no replyroute rule left" "" "$(rr_rules)"
expect_eq "SIGTERM: no route left in table 100" "" "$(rr_table 100)"
expect_ok "SIGTERM: port-forward table untouched" in_ns host nft list table ip nat
expect_ok "after stop: the forward fails again" fwd_fails

finish
