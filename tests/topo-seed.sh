# shellcheck shell=bash
#
# tests/topo-seed.sh - the seed topology: a host with a management link and a
# public link, monitored from a network that it routes over management.
# Source after lib.sh, then call topo_seed (and topo_seed6 for IPv6 too).
#
#   +------ mon -------+        +--------------------- rtr ---------------------+
#   | mon0             |        | r_mon 198.51.100.1/24                         |
#   | 198.51.100.10/24 +--------+ r_mgmt 192.0.2.1/24    r_pub 203.0.113.1/24   |
#   | default via .1   |        | ip_forward=1, rp_filter=1 everywhere          |
#   +------------------+        +--------+-----------------------+--------------+
#                                        | management            | public
#                               +--------+--------- host --------+--------------+
#                               | eth0 192.0.2.2/24      eth1 203.0.113.2/24    |
#                               | 198.51.100.0/24 via 192.0.2.1 dev eth0        |
#                               | default via 203.0.113.1 dev eth1              |
#                               | rp_filter=1 everywhere, ip_forward=0          |
#                               +-----------------------------------------------+
#
# The problem: mon -> 203.0.113.2 arrives on eth1, but the way back to mon is
# through eth0, so strict rp_filter on host drops it; were it let in, the reply
# would leave eth0 with source 203.0.113.2, and rtr's rp_filter would drop it.
# mon -> 192.0.2.2 (management) works.
#
# topo_seed6 adds the same in IPv6 (a /64 per link, 2001:db8:100::/64 for mon,
# 2001:db8:2::/64 for management, 2001:db8:113::/64 for public). IPv6 has no
# rp_filter sysctl: rtr and host get an nft table "inet rpf" that drops what
# strict rp_filter would drop (on host it honours the packet mark, like
# src_valid_mark=1 does for IPv4).

# topo_seed: build the IPv4 topology above and export its names and addresses.
topo_seed() {
	export NS_MON NS_RTR NS_HOST
	NS_MON=$(ns_name mon)
	NS_RTR=$(ns_name rtr)
	NS_HOST=$(ns_name host)

	export MON_NET=198.51.100.0/24 MGMT_NET=192.0.2.0/24 PUB_NET=203.0.113.0/24
	export MON_ADDR=198.51.100.10
	export RTR_MON_ADDR=198.51.100.1 RTR_MGMT_ADDR=192.0.2.1 RTR_PUB_ADDR=203.0.113.1
	export HOST_ETH0_ADDR=192.0.2.2 HOST_ETH1_ADDR=203.0.113.2
	export HOST_ETH0_GW=$RTR_MGMT_ADDR HOST_ETH1_GW=$RTR_PUB_ADDR

	ns_add mon
	ns_add rtr
	ns_add host

	# "default" before the links exist, so that they inherit it.
	local k
	for k in all default; do
		sysctl_set rtr "net.ipv4.conf.$k.rp_filter" 1
		sysctl_set host "net.ipv4.conf.$k.rp_filter" 1
	done
	sysctl_set rtr net.ipv4.ip_forward 1
	sysctl_set host net.ipv4.ip_forward 0

	veth mon mon0 rtr r_mon
	veth rtr r_mgmt host eth0
	veth rtr r_pub host eth1

	for k in r_mon r_mgmt r_pub; do
		sysctl_set rtr "net.ipv4.conf.$k.rp_filter" 1
	done
	for k in eth0 eth1; do
		sysctl_set host "net.ipv4.conf.$k.rp_filter" 1
	done

	ip -n "$NS_MON" addr add "$MON_ADDR/24" dev mon0 || fail "topo_seed: mon0 address"
	ip -n "$NS_MON" route add default via "$RTR_MON_ADDR" || fail "topo_seed: mon route"

	ip -n "$NS_RTR" addr add "$RTR_MON_ADDR/24" dev r_mon || fail "topo_seed: r_mon address"
	ip -n "$NS_RTR" addr add "$RTR_MGMT_ADDR/24" dev r_mgmt || fail "topo_seed: r_mgmt address"
	ip -n "$NS_RTR" addr add "$RTR_PUB_ADDR/24" dev r_pub || fail "topo_seed: r_pub address"

	ip -n "$NS_HOST" addr add "$HOST_ETH0_ADDR/24" dev eth0 || fail "topo_seed: eth0 address"
	ip -n "$NS_HOST" addr add "$HOST_ETH1_ADDR/24" dev eth1 || fail "topo_seed: eth1 address"
	ip -n "$NS_HOST" route add default via "$HOST_ETH1_GW" dev eth1 ||
		fail "topo_seed: host default route"
	ip -n "$NS_HOST" route add "$MON_NET" via "$HOST_ETH0_GW" dev eth0 ||
		fail "topo_seed: host route to $MON_NET"
}

# topo_seed6: add IPv6 to the topology built by topo_seed.
topo_seed6() {
	export MON_NET6=2001:db8:100::/64 MGMT_NET6=2001:db8:2::/64 PUB_NET6=2001:db8:113::/64
	export MON_ADDR6=2001:db8:100::10
	export RTR_MON_ADDR6=2001:db8:100::1 RTR_MGMT_ADDR6=2001:db8:2::1 RTR_PUB_ADDR6=2001:db8:113::1
	export HOST_ETH0_ADDR6=2001:db8:2::2 HOST_ETH1_ADDR6=2001:db8:113::2
	export HOST_ETH0_GW6=$RTR_MGMT_ADDR6 HOST_ETH1_GW6=$RTR_PUB_ADDR6

	sysctl_set rtr net.ipv6.conf.all.forwarding 1

	local ns dev addr
	while read -r ns dev addr; do
		ip -n "$(ns_name "$ns")" addr add "$addr/64" dev "$dev" nodad ||
			fail "topo_seed6: $ns $dev $addr"
		poll 5 addr_ready "$ns" "$addr" || fail "topo_seed6: $addr not usable"
	done <<-EOF
		mon  mon0   $MON_ADDR6
		rtr  r_mon  $RTR_MON_ADDR6
		rtr  r_mgmt $RTR_MGMT_ADDR6
		rtr  r_pub  $RTR_PUB_ADDR6
		host eth0   $HOST_ETH0_ADDR6
		host eth1   $HOST_ETH1_ADDR6
	EOF

	ip -n "$NS_MON" -6 route add default via "$RTR_MON_ADDR6" ||
		fail "topo_seed6: mon route"
	ip -n "$NS_HOST" -6 route add default via "$HOST_ETH1_GW6" dev eth1 ||
		fail "topo_seed6: host default route"
	ip -n "$NS_HOST" -6 route add "$MON_NET6" via "$HOST_ETH0_GW6" dev eth0 ||
		fail "topo_seed6: host route to $MON_NET6"

	# Strict reverse path filtering for IPv6, before routing like rp_filter.
	in_ns rtr nft -f - <<-EOF || fail "topo_seed6: rtr rpf table"
		table inet rpf {
			chain prerouting {
				type filter hook prerouting priority filter; policy accept;
				meta nfproto ipv6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
				meta nfproto ipv6 fib saddr . iif oif missing drop
			}
		}
	EOF
	in_ns host nft -f - <<-EOF || fail "topo_seed6: host rpf table"
		table inet rpf {
			chain prerouting {
				type filter hook prerouting priority filter; policy accept;
				meta nfproto ipv6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
				meta nfproto ipv6 fib saddr . mark . iif oif missing drop
			}
		}
	EOF
}
