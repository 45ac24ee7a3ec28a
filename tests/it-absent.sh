#!/usr/bin/env bash
# A configured interface that does not exist yet is not an error (DESIGN §1,
# §3): the daemon starts, serves eth1, and applies eth2 when it appears, by
# name. Connections arriving on eth2 are then answered through eth2 although
# the host's main table has no way back through it. Topology: the seed
# (tests/topo-seed.sh) plus a third link, created while the daemon runs.
#
#   +---- mon ----+      +------------------- rtr -------------------+
#   | mon0        |      | r_mon 198.51.100.1/24                     |
#   | .10/24      +------+ r_mgmt 192.0.2.1/24   r_pub 203.0.113.1/24|
#   | dflt via .1 |      |            r_eth2 198.18.0.1/24 (later)   |
#   +-------------+      +------+-------------+-------------+--------+
#                               |             |             |
#                        +------+------ host -+-------------+--------+
#                        | eth0 192.0.2.2  eth2 198.18.0.2  eth1     |
#                        |                 (later)   203.0.113.2/24  |
#                        | 198.51.100/24 via 192.0.2.1 dev eth0      |
#                        | default via 203.0.113.1 dev eth1 (only)   |
#                        +-------------------------------------------+
#
# eth1: gateway learned; eth2: Gateway=198.18.0.1 configured.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
topo_seed

ETH2_ADDR=198.18.0.2
ETH2_GW=198.18.0.1
PORT=21

rr_conf <<EOF
[Interface]
Name=eth1
Table=100
Mark=0x1

[Interface]
Name=eth2
Table=101
Mark=0x2
Gateway=$ETH2_GW
EOF

# make_eth2: the veth pair host eth2 <-> rtr r_eth2, addressed, strict
# rp_filter on both ends; nothing in host's main table but the connected route.
make_eth2() {
	veth host eth2 rtr r_eth2
	sysctl_set host net.ipv4.conf.eth2.rp_filter 1
	sysctl_set rtr net.ipv4.conf.r_eth2.rp_filter 1
	ip -n "$NS_RTR" addr add "$ETH2_GW/24" dev r_eth2 &&
		ip -n "$NS_HOST" addr add "$ETH2_ADDR/24" dev eth2 || fail "eth2 addresses"
}

# rules_are LINES: the replyroute rules are exactly LINES.
rules_are() {
	local got
	got=$(rr_rules)
	[[ $got == "$1" ]] || { diff <(echo "$1") <(echo "$got"); return 1; }
}

# table_is TABLE LINES: the IPv4 and IPv6 routes of TABLE are exactly LINES.
table_is() {
	local got
	got=$(rr_table "$1")
	[[ $got == "$2" ]] || { diff <(echo "$2") <(echo "$got"); return 1; }
}

SPEC1="eth1 0x1 100"
SPEC2="eth2 0x2 101"
# Each table: its default and its interface's own prefix, nothing else.
TABLE100=$(rr_want_table4 eth1 203.0.113.2 203.0.113.1 203.0.113.0/24)
TABLE101=$(rr_want_table4 eth2 "$ETH2_ADDR" "$ETH2_GW" 198.18.0.0/24)

# src_valid_mark_is IF VALUE: net.ipv4.conf.IF.src_valid_mark in host is VALUE.
src_valid_mark_is() {
	local got
	got=$(sysctl_get host "net.ipv4.conf.$1.src_valid_mark")
	[[ $got == "$2" ]] || { echo "src_valid_mark $1: $got"; return 1; }
}

# The nft table for eth1 and eth2 (tests/expected/seed.nft, for two).
NFT2=$(cat <<'EOF'
table inet replyroute {
	comment "managed by replyrouted: reply routing by connection mark"
	set ifaces {
		type ifname
		elements = { "eth1",
			     "eth2" }
	}

	map iface_mark {
		type ifname : verdict
		elements = { "eth1" : jump ct_0x1,
			     "eth2" : jump ct_0x2 }
	}

	map mark_restore {
		type mark : verdict
		elements = { 0x00000001 : jump pkt_0x1, 0x00000002 : jump pkt_0x2 }
	}

	map addr_mark4 {
		type ipv4_addr : verdict
	}

	map addr_mark6 {
		type ipv6_addr : verdict
	}

	chain prerouting {
		type filter hook prerouting priority mangle + 1; policy accept;
		ct mark & 0x000000ff == 0x00000000 jump unmarked_in
		ct state invalid meta l4proto tcp iifname @ifaces fib daddr . iif type local iifname vmap @iface_mark
		ct mark & 0x000000ff vmap @mark_restore
	}

	chain unmarked_in {
		ct state new tcp flags != syn / syn,ack fib daddr . iif type != local return
		ct state new iifname vmap @iface_mark
		ct state established ct direction original iifname @ifaces fib daddr . iif type local iifname vmap @iface_mark
	}

	chain output {
		type route hook output priority mangle + 1; policy accept;
		ct mark & 0x000000ff == 0x00000000 jump unmarked_out
		ct state invalid meta l4proto tcp ip saddr vmap @addr_mark4
		ct state invalid meta l4proto tcp ip6 saddr vmap @addr_mark6
		ct mark & 0x000000ff vmap @mark_restore
	}

	chain unmarked_out {
		ct state established ct direction reply ip saddr vmap @addr_mark4
		ct state established ct direction reply ip6 saddr vmap @addr_mark6
		ct state new tcp flags != syn / syn,ack ip saddr vmap @addr_mark4
		ct state new tcp flags != syn / syn,ack ip6 saddr vmap @addr_mark6
	}

	chain ct_0x1 {
		counter meta mark set meta mark & 0xffffff01 | 0x00000001 ct mark set ct mark & 0xffffff01 | 0x00000001
	}

	chain pkt_0x1 {
		meta mark set meta mark & 0xffffff01 | 0x00000001
	}

	chain ct_0x2 {
		counter meta mark set meta mark & 0xffffff02 | 0x00000002 ct mark set ct mark & 0xffffff02 | 0x00000002
	}

	chain pkt_0x2 {
		meta mark set meta mark & 0xffffff02 | 0x00000002
	}
}
EOF
)

# 0. Without replyroute, eth2 has the asymmetric problem too: the way back
# to mon is through eth0, strict rp_filter drops what arrives on eth2.
make_eth2
expect_ok "no daemon: ping mon -> eth2 fails" ping_fails mon "$ETH2_ADDR"
expect_ok "no daemon: TCP mon -> eth2 fails" tcp_fails mon host "$ETH2_ADDR" "$PORT"
ip -n "$NS_HOST" link del eth2 || fail "cannot delete eth2"

# 1. The daemon starts without eth2 and serves eth1.
rr_start -v
expect_ok "start: eth1's rules only" poll 5 rules_are "$(rr_want_rules "$SPEC1")"
expect_ok "start: table 100 as designed" poll 5 table_is 100 "$TABLE100"
expect_ok "start: ready, eth2 waiting for link" \
	poll 5 grep -Eq '^<6>ready: .*eth2: waiting for link' "$RR_LOG"
expect_eq "start: table 101 empty" "" "$(routes host 101)"
expect_ok "start: src_valid_mark eth1=1" src_valid_mark_is eth1 1
expect_eq "start: nft table as designed, eth2 already in it (by name)" "$NFT2" \
	"$(rr_nft)"
expect_ok "start: ping mon -> eth1" ping_ok mon "$HOST_ETH1_ADDR"
expect_ok "start: TCP mon -> eth1" tcp_ok mon host "$HOST_ETH1_ADDR" "$PORT"
expect_ok "the daemon is running" _rr_alive "$RR_PID"
NFT=$(rr_nft -a)

# 2. eth2 appears: its rules, table 101, src_valid_mark; eth1's table does not
# change (it holds no other interface's prefix).
make_eth2
expect_ok "eth2 appears: the rules of both" poll 5 rules_are "$(rr_want_rules "$SPEC1" "$SPEC2")"
expect_ok "eth2 appears: table 101 as designed" poll 5 table_is 101 "$TABLE101"
expect_ok "eth2 appears: table 100 unchanged, no prefix of eth2" table_is 100 "$TABLE100"
expect_ok "eth2 appears: src_valid_mark eth2=1" poll 5 src_valid_mark_is eth2 1
expect_eq "eth2 appears: nft table untouched (same handles)" "$NFT" \
	"$(rr_nft -a)"
expect_eq "host's main table has no route via eth2 but the connected one" \
	"198.18.0.0/24 dev eth2 proto kernel scope link src $ETH2_ADDR" \
	"$(rr_table main -4 | grep eth2)"

# 3. Real traffic: arriving on eth2, answered through eth2.
expect_ok "ping mon -> eth2" ping_ok mon "$ETH2_ADDR"
expect_ok "TCP mon -> eth2" tcp_ok mon host "$ETH2_ADDR" "$PORT"
expect_ok "ping mon -> eth1 still" ping_ok mon "$HOST_ETH1_ADDR"
expect_ok "TCP mon -> eth1 still" tcp_ok mon host "$HOST_ETH1_ADDR" "$PORT"

# 4. Stopped, everything goes, and eth2 is broken again.
stop_bg "$RR_PID"
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_eq "stopped: no replyroute rule" "" "$(rr_rules)"
expect_eq "stopped: tables 100 and 101 empty" "" "$(routes host 100; routes host 101)"
expect_fail "stopped: no nft table" rr_nft
expect_eq "stopped: src_valid_mark eth1 eth2 back to 0" "0 0" \
	"$(sysctl_get host net.ipv4.conf.eth1.src_valid_mark) $(sysctl_get host net.ipv4.conf.eth2.src_valid_mark)"
expect_ok "stopped: ping mon -> eth2 fails again" ping_fails mon "$ETH2_ADDR"

finish
