#!/usr/bin/env bash
# A port published from a container network, the way Docker and Podman set
# it up: a Linux bridge on the host, the container behind it, iptables-nft
# nat rules (DNAT of the published port for every local address, masquerade
# for what the bridge network sends out). The client is mon, which reaches
# eth1's address through eth1 while the host routes mon's network through
# eth0. The reply must leave through eth1, the uplink the connection arrived
# on. Topology: tests/topo-seed.sh plus
#
#   mon 198.51.100.10 --- rtr --- eth0 192.0.2.2    host  (default via eth1,
#                             \-- eth1 203.0.113.2         198.51.100/24 via eth0)
#                                                   |  ip_forward=1
#                                   br0 198.18.20.1/24 (bridge) -- vethc
#                                                   |
#                                   ctr: ctr0 198.18.20.2/24, default via .1
#
#   nat PREROUTING  -m addrtype --dst-type LOCAL -j DOCKER
#   nat DOCKER      ! -i br0 -p tcp --dport 8080 -j DNAT --to 198.18.20.2:80
#   nat POSTROUTING -s 198.18.20.0/24 ! -o br0 -j MASQUERADE
#
# Honest note: this already worked before issue 9's changes (the connection
# is marked when it arrives on eth1, and the table holds br0's prefix); the
# test keeps it so. It still fails without replyroute (part 1).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd iptables-nft
topo_seed
CTR_ADDR=198.18.20.2 BR_ADDR=198.18.20.1 PUB_PORT=8080 CTR_PORT=80

ns_add ctr
ip -n "$NS_HOST" link add br0 type bridge && ip -n "$NS_HOST" link set br0 up ||
	fail "bridge"
veth ctr ctr0 host vethc
ip -n "$NS_HOST" link set vethc master br0 &&
	ip -n "$NS_HOST" addr add "$BR_ADDR/24" dev br0 &&
	ip -n "$(ns_name ctr)" addr add "$CTR_ADDR/24" dev ctr0 &&
	ip -n "$(ns_name ctr)" route add default via "$BR_ADDR" || fail "container network"
poll 5 link_up host br0 || fail "br0 did not come up"
sysctl_set host net.ipv4.ip_forward 1

ipt() { in_ns host iptables-nft -t nat "$@" || fail "iptables-nft $*"; }
ipt -N DOCKER
ipt -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
ipt -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
ipt -A POSTROUTING -s 198.18.20.0/24 ! -o br0 -j MASQUERADE
ipt -A DOCKER -i br0 -j RETURN
ipt -A DOCKER ! -i br0 -p tcp --dport "$PUB_PORT" -j DNAT --to-destination "$CTR_ADDR:$CTR_PORT"

# The test's own counters: replies of the published port after the NAT hook
# (source 203.0.113.2:8080 again), by outgoing interface.
in_ns host nft -f - <<EOF || fail "count table"
table inet count {
	counter reply_eth1 { }
	counter reply_other { }
	chain postrouting {
		type filter hook postrouting priority srcnat + 10; policy accept;
		ip saddr $HOST_ETH1_ADDR tcp sport $PUB_PORT oifname "eth1" counter name reply_eth1
		ip saddr $HOST_ETH1_ADDR tcp sport $PUB_PORT oifname != "eth1" counter name reply_other
	}
}
EOF

# mon -> 203.0.113.2:8080 reaches the container (port 80, bound to its
# address), which sees mon's address: tcp_from_ok/_fails "${PUBLISHED[@]}".
PUBLISHED=(mon "$MON_ADDR" ctr "$HOST_ETH1_ADDR" "$PUB_PORT" "$CTR_ADDR" "$CTR_PORT")

# 1. Without replyroute the reply leaves through eth0 and is dropped.
expect_ok "container reaches the host" ping_ok ctr "$BR_ADDR"
expect_ok "without replyroute: the published port fails from mon" tcp_from_fails "${PUBLISHED[@]}"

# 2. With it: works, and every reply left through eth1.
rr_conf_seed "Gateway=$HOST_ETH1_GW"
rr_start
rr_started
in_ns host nft reset counters table inet count >/dev/null
for i in 1 2 3; do
	expect_ok "published port from mon works ($i), the container sees mon's address" tcp_from_ok "${PUBLISHED[@]}"
done
N=$(nft_packets host count reply_eth1)
expect_ok "replies left through eth1 ($N packets)" test "$N" -gt 0
expect_eq "no reply left through another interface" 0 "$(nft_packets host count reply_other)"
expect_ok "the container still reaches out (masquerade)" ping_ok ctr "$MON_ADDR"
stop_bg "$RR_PID"
finish
