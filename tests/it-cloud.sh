#!/usr/bin/env bash
# The multi-NIC cloud host recipe (README "Multi-NIC cloud hosts", issue 12
# item 4): replyroute with the shipped config (tracks nothing) and the example
# hot-plug hook conf/replyroute-hotplug, which writes one drop-in per new NIC
# and reloads. Two secondary NICs are hot-plugged while the daemon runs (veth
# created in rtr, its end moved into host):
#  - eth1, configured by DHCP (dnsmasq in rtr, Debian's dhclient and
#    dhclient-script in host) with a /32 lease and a router outside it, as
#    some clouds hand them out: 203.0.113.10/32, "203.0.113.1 dev eth1",
#    "default via 203.0.113.1 dev eth1 metric 100";
#  - eth2, a /24 on the primary's subnet (192.0.2.3/24 beside eth0's
#    192.0.2.2/24, one bridge in rtr), default via 192.0.2.1 metric 200.
# Real TCP from mon to each address; nft counters in host count the replies
# by outgoing interface: each leaves through the NIC its connection came in on.
#
#   +-- mon ----------+      +------------------ rtr -------------------+
#   | mon0            +------+ r_mon 198.51.100.1/24                    |
#   | 198.51.100.10/24|      | br0 192.0.2.1/24 [r_eth0 r_eth2]          |
#   +-----------------+      | r_eth1 203.0.113.1/24 (dnsmasq: /32 lease) |
#                            +----+-----------+-------------+------------+
#                                 |r_eth0     |r_eth1       |r_eth2 (hot-plugged)
#                            +----+-----------+-------------+------------+
#                            | eth0          eth1          eth2          |
#                            | 192.0.2.2/24  DHCP /32      192.0.2.3/24  |
#                            | default via 192.0.2.1 dev eth0 (primary)  |
#                            | rp_filter=1, arp_ignore=1, arp_announce=2 |
#                            +--------------- host ----------------------+
#
# Without replyroute a reply to mon leaves through eth0 (main's default), and
# strict rp_filter drops what arrives on eth1/eth2 already.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd python3 dnsmasq dhclient socat
HOOK=$RR_ROOT/conf/replyroute-hotplug
PORT=80
MON=198.51.100.10
declare -A ADDR=([eth0]=192.0.2.2 [eth1]=203.0.113.10 [eth2]=192.0.2.3)

NS_MON=$(ns_name mon) NS_RTR=$(ns_name rtr) NS_HOST=$(ns_name host)
ns_add mon
ns_add rtr
ns_add host
for k in all default; do
	sysctl_set rtr "net.ipv4.conf.$k.rp_filter" 1
	sysctl_set host "net.ipv4.conf.$k.rp_filter" 1
done
# Two NICs on one subnet: each answers ARP only for its own address.
sysctl_set host net.ipv4.conf.all.arp_ignore 1
sysctl_set host net.ipv4.conf.all.arp_announce 2
sysctl_set rtr net.ipv4.ip_forward 1

veth mon mon0 rtr r_mon
ip -n "$NS_MON" addr add "$MON/24" dev mon0 &&
	ip -n "$NS_MON" route add default via 198.51.100.1 &&
	ip -n "$NS_RTR" addr add 198.51.100.1/24 dev r_mon ||
	fail "mon"
ip -n "$NS_RTR" link add br0 type bridge forward_delay 0 &&
	ip -n "$NS_RTR" link set br0 up &&
	ip -n "$NS_RTR" addr add 192.0.2.1/24 dev br0 ||
	fail "rtr bridge"
veth rtr r_eth0 host eth0
ip -n "$NS_RTR" link set r_eth0 master br0 &&
	ip -n "$NS_HOST" addr add 192.0.2.2/24 dev eth0 &&
	ip -n "$NS_HOST" route add default via 192.0.2.1 dev eth0 ||
	fail "primary eth0"

# The daemon, with the config the package ships (tracks nothing).
rr_conf <"$RR_ROOT/conf/default.conf"
notify_listen
rr_start
poll 5 notified READY=1 || fail "replyrouted did not become ready"
expect_eq "shipped config: no rule installed" "" "$(rr_rules)"

hook() { # add|remove IFACE [KEY=VALUE...]: the example hook, reloading this test's daemon
	notify_mark
	REPLYROUTE_RUNTIME_DIR=$RUNTIME_DIRECTORY REPLYROUTE_RELOAD="kill -HUP $RR_PID" \
		"$HOOK" "$@" || fail "hook $*"
	poll 5 notified_reload || fail "hook $1 $2: no RELOADING=1 then READY=1"
}

# Replies counted by outgoing interface: TCP from port 80 to mon.
in_ns host nft -f - <<EOF2 || fail "host counters"
table inet cloudcount {
	counter eth0_out { }
	counter eth1_out { }
	counter eth2_out { }
	chain postrouting {
		type filter hook postrouting priority 0; policy accept;
		ip daddr $MON tcp sport $PORT oifname vmap { "eth0" : jump c0, "eth1" : jump c1, "eth2" : jump c2 }
	}
	chain c0 { counter name eth0_out; }
	chain c1 { counter name eth1_out; }
	chain c2 { counter name eth2_out; }
}
EOF2
counts() { # the three counters, "eth0 eth1 eth2"
	echo "$(nft_packets host cloudcount eth0_out) $(nft_packets host cloudcount eth1_out)" \
		"$(nft_packets host cloudcount eth2_out)"
}
# replies_via IFACE: a TCP connection mon -> IFACE's address works, and every
# reply packet of it left through IFACE (the other counters did not move).
replies_via() {
	local before after i n=0 b a
	read -ra before <<<"$(counts)"
	if ! tcp_ok mon host "${ADDR[$1]}" "$PORT"; then
		{ ip -n "$NS_HOST" rule; ip -n "$NS_HOST" route show table all | grep -v '^local\|^broadcast\|fe80\|ff00'
		  ip -n "$NS_HOST" neigh; ip -n "$NS_RTR" neigh; counts; } | diag
		return 1
	fi
	read -ra after <<<"$(counts)"
	for i in eth0 eth1 eth2; do
		b=${before[n]} a=${after[n]}
		n=$((n + 1))
		if [[ $i == "$1" ]]; then
			((a > b)) || { echo "# no reply counted on $i ($b -> $a)"; return 1; }
		else
			((a == b)) || { echo "# replies left through $i ($b -> $a)"; return 1; }
		fi
	done
	echo "# replies out: ${before[*]} -> ${after[*]} (eth0 eth1 eth2)"
}

expect_ok "primary eth0: replies leave through eth0" replies_via eth0

# --- eth1: hot-plugged, hook first, then DHCP ---------------------------------------
ip -n "$NS_RTR" link add r_eth1 type veth peer name eth1 netns "$NS_HOST" &&
	ip -n "$NS_RTR" addr add 203.0.113.1/24 dev r_eth1 &&
	ip -n "$NS_RTR" link set r_eth1 up &&
	ip -n "$NS_HOST" link set eth1 up ||
	fail "eth1 hot-plug"
sysctl_set rtr net.ipv4.conf.r_eth1.rp_filter 1
poll 5 link_up host eth1 || fail "eth1 did not come up"
hook add eth1
expect_ok "eth1 tracked before it has an address: STATUS says so" \
	poll 5 sh -c "grep -o 'STATUS=.*' '$NOTIFY_LOG' | tail -n1 | grep -q 'eth1: no usable address'"

# The DHCP server hands out a /32 and a router outside it (option 1 overridden).
start_bg rtr dnsmasq --no-daemon --conf-file=/dev/null --port=0 --bind-interfaces \
	--interface=r_eth1 --except-interface=lo --dhcp-authoritative \
	--dhcp-range=203.0.113.10,203.0.113.10,1h --dhcp-option=option:netmask,255.255.255.255 \
	--dhcp-option=option:router,203.0.113.1 --dhcp-leasefile="$T/dnsmasq.leases" \
	--pid-file="$T/dnsmasq.pid" --log-dhcp
# dhclient-script may write resolv.conf: "ip netns exec" binds this one over it.
mkdir -p "/etc/netns/$NS_HOST" && : >"/etc/netns/$NS_HOST/resolv.conf" || fail "/etc/netns"
at_cleanup rm -rf "/etc/netns/$NS_HOST"
printf 'request subnet-mask, routers, interface-mtu;\n' >"$T/dhclient.conf"
start_bg host dhclient -d -v -cf "$T/dhclient.conf" -lf "$T/dhclient.leases" \
	-pf "$T/dhclient.pid" -e IF_METRIC=100 eth1
lease_bound() {
	ip -n "$NS_HOST" -4 -o addr show dev eth1 | grep -q ' 203\.0\.113\.10/32 ' &&
		ip -n "$NS_HOST" -4 route show default | grep -q 'via 203.0.113.1 dev eth1 metric 100'
}
expect_ok "DHCP: eth1 got 203.0.113.10/32 and default via 203.0.113.1 metric 100" poll 15 lease_bound
echo "# host main table: $(ip -n "$NS_HOST" -4 route show | paste -sd';')"
expect_eq "DHCP: the router is reachable through a host route only" \
	"203.0.113.1 dev eth1 scope link" "$(ip -n "$NS_HOST" -4 route show 203.0.113.1 | sed 's/ *$//')"
expect_ok "eth1: replyroute's rule for it (mark 0x1)" poll 5 sh -c "ip -n '$NS_HOST' -4 rule | grep -q 'fwmark 0x1/0xff'"
expect_ok "eth1 (/32, router outside): replies leave through eth1" poll 5 replies_via eth1
expect_ok "primary eth0 still answers through eth0" replies_via eth0

# --- eth2: hot-plugged on the primary's subnet ----------------------------------------
ip -n "$NS_RTR" link add r_eth2 type veth peer name eth2 netns "$NS_HOST" &&
	ip -n "$NS_RTR" link set r_eth2 master br0 &&
	ip -n "$NS_RTR" link set r_eth2 up &&
	ip -n "$NS_HOST" link set eth2 up &&
	ip -n "$NS_HOST" addr add 192.0.2.3/24 dev eth2 &&
	ip -n "$NS_HOST" route append default via 192.0.2.1 dev eth2 metric 200 ||
	fail "eth2 hot-plug"
poll 5 link_up host eth2 || fail "eth2 did not come up"
expect_ok "eth2 before the hook: TCP to 192.0.2.3 fails (strict rp_filter, way back via eth0)" \
	tcp_fails mon host 192.0.2.3 "$PORT"
# On the primary's subnet: SourceRules=yes, or strict rp_filter drops even the
# ARP requests for 192.0.2.3 on eth2 (main's 192.0.2.0/24 route is eth0's).
hook add eth2 SourceRules=yes
expect_ok "eth2: replyroute's rule for it (mark 0x2)" poll 5 sh -c "ip -n '$NS_HOST' -4 rule | grep -q 'fwmark 0x2/0xff'"
expect_ok "eth2 (same subnet as eth0): replies leave through eth2" poll 5 replies_via eth2
expect_ok "eth1 still answers through eth1" replies_via eth1
expect_ok "primary eth0 still answers through eth0" replies_via eth0
expect_ok "ping mon -> eth2's address" ping_ok mon 192.0.2.3
expect_ok "ping mon -> eth1's address" ping_ok mon 203.0.113.10

# --- eth2 unplugged: the hook removes its file -----------------------------------------
ip -n "$NS_RTR" link del r_eth2 || fail "eth2 unplug"
hook remove eth2
expect_ok "eth2 removed: its rule is gone" poll 5 sh -c "! ip -n '$NS_HOST' -4 rule | grep -q 'fwmark 0x2/0xff'"
expect_ok "eth1 still answers through eth1" replies_via eth1

stop_bg "$RR_PID" || expect_ok "daemon exits 0 on SIGTERM" false
finish
