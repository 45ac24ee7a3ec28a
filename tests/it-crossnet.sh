#!/usr/bin/env bash
# A monitoring host on eth0's connected subnet whose connection reaches the
# host through eth1 (issue 10: "a monitoring host on another interface's
# connected subnet answered symmetrically"). It connects to eth1's address
# through the router; the answer must leave through eth1 too. Table 100 holds
# eth1's default and eth1's own prefix only. Before, it held every up
# interface's prefix, eth0's 192.0.2.0/24 too: the host's strict rp_filter,
# which looks the monitor up with the packet's mark (src_valid_mark=1), found
# it on eth0 and dropped every request that came in on eth1; and were one let
# in, the answer would have left directly through eth0.
#
#   +-- mon2 ---------+   +-- sw: br0 --+   +-- rtr ------------------------+
#   | m0 192.0.2.50/24+---+             +---+ r_mgmt 192.0.2.1/24            |
#   | default via .1  |   |             |   | r_pub 203.0.113.1/24           |
#   +-----------------+   +------+------+   | ip_forward=1, rp_filter=1      |
#                                |          +--------------+-----------------+
#                                | eth0 192.0.2.2/24       | r_pub
#                         +------+--------- host ----------+---------------+
#                         |                     eth1 203.0.113.2/24        |
#                         | default via 203.0.113.1 dev eth1               |
#                         | rp_filter=1 everywhere, ip_forward=0           |
#                         +------------------------------------------------+
#
# mon2 -> 203.0.113.2 goes mon2 -> rtr -> eth1; its answer must go eth1 ->
# rtr -> mon2. mon2 -> 192.0.2.2 (eth0's address) stays on the subnet, both
# ways, unmarked. Counted in host: the requests before and after the
# reverse path filter (prerouting, input), the answers by egress interface
# (postrouting); and in rtr, the answers by the link they come in on.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
export NS_RTR NS_HOST HOST_ETH1_ADDR=203.0.113.2
NS_RTR=$(ns_name rtr)
NS_HOST=$(ns_name host)
for ns in mon2 rtr host sw; do
	ns_add "$ns"
done
MON2=192.0.2.50
PORT=21
MGMT_PORT=22

for k in all default; do
	sysctl_set rtr "net.ipv4.conf.$k.rp_filter" 1
	sysctl_set host "net.ipv4.conf.$k.rp_filter" 1
	sysctl_set mon2 "net.ipv4.conf.$k.rp_filter" 1
done
sysctl_set rtr net.ipv4.ip_forward 1
sysctl_set host net.ipv4.ip_forward 0
bridge_add sw br0
bridge_port mon2 m0 sw br0 s_mon2
bridge_port rtr r_mgmt sw br0 s_rtr
bridge_port host eth0 sw br0 s_host
veth rtr r_pub host eth1
addrs_add <<EOF
mon2 m0     $MON2/24
rtr  r_mgmt 192.0.2.1/24
rtr  r_pub  203.0.113.1/24
host eth0   192.0.2.2/24
host eth1   $HOST_ETH1_ADDR/24
EOF
ip -n "$(ns_name mon2)" route add default via 192.0.2.1 &&
	ip -n "$NS_HOST" route add default via 203.0.113.1 dev eth1 || fail "default routes"

in_ns host nft -f - <<EOF || fail "host nft table inet count"
table inet count {
	counter req_eth1 { }
	counter req_in { }
	counter reply_eth1 { }
	counter reply_other { }
	counter mgmt_reply_eth0 { }
	counter mgmt_reply_other { }
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		iifname "eth1" ip saddr $MON2 tcp dport $PORT counter name req_eth1
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "eth1" ip saddr $MON2 tcp dport $PORT counter name req_in
	}
	chain postrouting {
		type filter hook postrouting priority filter; policy accept;
		ip daddr $MON2 tcp sport $PORT oifname "eth1" counter name reply_eth1
		ip daddr $MON2 tcp sport $PORT oifname != "eth1" counter name reply_other
		ip daddr $MON2 tcp sport $MGMT_PORT oifname "eth0" counter name mgmt_reply_eth0
		ip daddr $MON2 tcp sport $MGMT_PORT oifname != "eth0" counter name mgmt_reply_other
	}
}
EOF
rr_count_at_rtr "ip daddr $MON2 tcp sport $PORT"
reset_counters() {
	in_ns host nft reset counters table inet count >/dev/null &&
		in_ns rtr nft reset counters table inet count >/dev/null || fail "reset counters"
}
count() { nft_packets host count "$1"; }

# 1. The problem is real: the host's answers go by main, out of eth0 with
# eth1's address, and its rp_filter drops the requests already (the way back
# to mon2 is eth0).
reset_counters
expect_ok "before: TCP mon2 -> eth1 ($HOST_ETH1_ADDR) fails" tcp_fails mon2 host "$HOST_ETH1_ADDR" "$PORT"
N=$(count req_eth1)
expect_ok "before: the requests came in on eth1 ($N packets)" test "$N" -gt 0
expect_eq "before: rp_filter dropped them all" 0 "$(count req_in)"

# 2. replyrouted: table 100 holds nothing of eth0.
rr_conf_seed
rr_start -v
converge "table 100: the default and eth1's prefix, nothing of eth0" \
	"$(rr_want_table4 eth1 "$HOST_ETH1_ADDR" 203.0.113.1 203.0.113.0/24)" rr_table 100
expect_eq "rules of eth1" "$(rr_want_rules "eth1 0x1 100")" "$(rr_rules)"
expect_ok "a marked answer to mon2 goes via rtr through eth1 (table 100)" eval \
	"in_ns host ip -4 route get $MON2 from $HOST_ETH1_ADDR mark 0x1 | grep -q ' via 203.0.113.1 dev eth1 table 100 '"

# 3. Real TCP: in through eth1, answered through eth1, both ways through rtr.
reset_counters
expect_ok "TCP mon2 -> eth1 ($HOST_ETH1_ADDR) works" tcp_ok mon2 host "$HOST_ETH1_ADDR" "$PORT"
N=$(count req_in)
expect_ok "rp_filter let the requests in ($N packets)" test "$N" -gt 0
expect_eq "every request that came in on eth1 was let in" "$(count req_eth1)" "$N"
N=$(count reply_eth1)
expect_ok "the answers left through eth1 ($N packets)" test "$N" -gt 0
expect_eq "no answer left through another interface" 0 "$(count reply_other)"
N=$(nft_packets rtr count from_pub)
expect_ok "rtr got the answers on r_pub ($N packets)" test "$N" -gt 0
expect_eq "rtr got no answer with eth1's address on r_mgmt" 0 "$(nft_packets rtr count from_mgmt)"

# 4. mon2 -> eth0's address stays on the subnet: unmarked, answered through eth0.
expect_ok "TCP mon2 -> eth0 (192.0.2.2) works" tcp_ok mon2 host 192.0.2.2 "$MGMT_PORT"
N=$(count mgmt_reply_eth0)
expect_ok "its answers left through eth0 ($N packets)" test "$N" -gt 0
expect_eq "none through another interface" 0 "$(count mgmt_reply_other)"

# 5. SIGTERM: everything goes, the problem is back.
stop_bg "$RR_PID" TERM
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_eq "SIGTERM: no rule left" "" "$(rr_rules)"
expect_eq "SIGTERM: table 100 empty" "" "$(rr_table 100)"
expect_ok "SIGTERM: TCP mon2 -> eth1 fails again" tcp_fails mon2 host "$HOST_ETH1_ADDR" "$PORT"
expect_eq "no error logged" "" "$(grep -E '^<[0-3]>' "$RR_LOG")"

finish
