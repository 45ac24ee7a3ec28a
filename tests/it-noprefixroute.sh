#!/usr/bin/env bash
# An address with noprefixroute (issue 9, item 2): eth1 gets its address from
# a real DHCP client, dhcpcd (Debian's dhcpcd-base), served by dnsmasq on rtr.
# dhcpcd adds the address with noprefixroute and the prefix route itself
# (proto dhcp, its own metric). Table 100 must still hold eth1's prefix, and
# the gateway must not be onlink: a neighbour on eth1's subnet whose
# connection comes in on eth1 is answered directly, not through the gateway
# (which does not hairpin here: it drops what it would forward back out of the
# link it came in on). Before, table 100 lacked the prefix and made the
# gateway onlink, so the answers went to rtr and were dropped.
#
#   +-- mon ----------+     +-- rtr ------------------------------------+
#   | mon0            +-----+ r_mon 198.51.100.1/24  r_mgmt 192.0.2.1/24 |
#   | 198.51.100.10/24|     | r_pub 203.0.113.1/24: dnsmasq (DHCP)      |
#   | default via .1  |     | ip_forward=1, rp_filter=1, no redirects,  |
#   +-----------------+     | no hairpin (r_pub -> r_pub dropped)       |
#                           +-----+-----------------------+-------------+
#                                 | r_mgmt                | r_pub
#                                 |        +-- sw: br0 ---+----------+
#                                 |        |              |          |
#   +-- host ---------------------+--------+--+   +-- nbr-+-------+  |
#   | eth0 192.0.2.2/24         eth1: dhcpcd  |   | n0            |  |
#   | 198.51.100/24 via 192.0.2.1 (lease .2)  +---+ 203.0.113.20  |  |
#   | rp_filter=1                             |   +---------------+  |
#   +-----------------------------------------+----------------------+
#
# dhcpcd runs with a script that does nothing (-c /bin/true: no resolv.conf,
# no hostname) and its run and database directories on a tmpfs of its own
# mount namespace (nothing outside the test is touched).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd dhcpcd dnsmasq unshare
export NS_MON NS_RTR NS_HOST NS_NBR
NS_MON=$(ns_name mon)
NS_RTR=$(ns_name rtr)
NS_HOST=$(ns_name host)
NS_NBR=$(ns_name nbr)
for ns in mon rtr host nbr sw; do
	ns_add "$ns"
done
HOST_ETH1_ADDR=203.0.113.2 NBR_ADDR=203.0.113.20 MON_ADDR=198.51.100.10
PORT=21

for k in all default; do
	sysctl_set rtr "net.ipv4.conf.$k.rp_filter" 1
	sysctl_set rtr "net.ipv4.conf.$k.send_redirects" 0
	sysctl_set host "net.ipv4.conf.$k.rp_filter" 1
	sysctl_set host "net.ipv4.conf.$k.accept_redirects" 0
done
sysctl_set rtr net.ipv4.ip_forward 1
bridge_add sw br0
veth mon mon0 rtr r_mon
veth rtr r_mgmt host eth0
while read -r ns dev port; do
	bridge_port "$ns" "$dev" sw br0 "$port"
done <<EOF
rtr  r_pub s_rtr
host eth1  s_host
nbr  n0    s_nbr
EOF
addrs_add <<EOF
mon  mon0   $MON_ADDR/24
rtr  r_mon  198.51.100.1/24
rtr  r_mgmt 192.0.2.1/24
rtr  r_pub  203.0.113.1/24
host eth0   192.0.2.2/24
nbr  n0     $NBR_ADDR/24
EOF
ip -n "$NS_MON" route add default via 198.51.100.1 &&
	ip -n "$NS_HOST" route add 198.51.100.0/24 via 192.0.2.1 dev eth0 ||
	fail "routes"

# rtr does not hairpin; counters for what host sends to nbr through it.
in_ns rtr nft -f - <<EOF || fail "rtr nft table"
table inet nohairpin {
	counter to_nbr { }
	counter hairpin { }
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		iifname "r_pub" ip saddr $HOST_ETH1_ADDR ip daddr $NBR_ADDR counter name to_nbr
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "r_pub" oifname "r_pub" counter name hairpin drop
	}
}
EOF

# DHCP on r_pub: one address to lease (eth1's), rtr as the router.
start_bg rtr dnsmasq -k --conf-file=/dev/null --port=0 --user=root --leasefile-ro \
	--pid-file="$T/dnsmasq.pid" --log-facility=- --log-dhcp --interface=r_pub \
	--bind-interfaces --dhcp-authoritative --dhcp-option=option:router,203.0.113.1 \
	--dhcp-range="$HOST_ETH1_ADDR,$HOST_ETH1_ADDR,255.255.255.0,1h"
poll 5 grep -q 'DHCP, IP range' "$BG_LOG" || fail "dnsmasq did not start"

# 1. replyrouted runs before eth1 has an address.
rr_conf_seed
rr_start -v
poll 5 grep -q 'ready:' "$RR_LOG" || fail "replyrouted not ready"

# 2. dhcpcd: IPv4 only, no ARP probing (faster), no IPv4LL; -B stays in the
# foreground.
printf '# written by it-noprefixroute.sh\n' >"$T/dhcpcd.conf"
start_bg host unshare -m --propagation private sh -c \
	'mount -t tmpfs rr-run /run && mount -t tmpfs rr-db /var/lib/dhcpcd &&
	exec dhcpcd -B -4 -A -L -c /bin/true -f "$1" eth1' sh "$T/dhcpcd.conf"
DHCPCD_PID=$BG_PID
lease() { ip -n "$NS_HOST" -4 -o addr show dev eth1 | grep -q " $HOST_ETH1_ADDR/24 "; }
poll 20 lease || fail "dhcpcd got no lease"
main_eth1() { rr_table main -4 | grep 'dev eth1' | sed -E 's/ metric [0-9]+/ metric M/'; }
poll 5 eval "main_eth1 | grep -q '^default '" || fail "dhcpcd added no default route"
expect_ok "dhcpcd added the address with noprefixroute" \
	eval "ip -n $NS_HOST -4 -o addr show dev eth1 | grep -q ' $HOST_ETH1_ADDR/24 .*noprefixroute'"
expect_eq "main: dhcpcd's default and prefix route (proto dhcp), none of the kernel's" \
	"default via 203.0.113.1 dev eth1 proto dhcp src $HOST_ETH1_ADDR metric M
203.0.113.0/24 dev eth1 proto dhcp scope link src $HOST_ETH1_ADDR metric M" "$(main_eth1)"

# 3. Table 100: the prefix, copied from dhcpcd's route; the gateway on it, no onlink.
converge "table 100: the default (no onlink) and eth1's prefix from dhcpcd's route" \
	"$(rr_want_table4 eth1 "$HOST_ETH1_ADDR" 203.0.113.1 203.0.113.0/24)" rr_table 100
expect_eq "rules of eth1" "$(rr_want_rules "eth1 0x1 100")" "$(rr_rules)"
expect_ok "a marked reply to nbr goes straight to it (no gateway), table 100" eval \
	"in_ns host ip -4 route get $NBR_ADDR from $HOST_ETH1_ADDR mark 0x1 | grep -q '^$NBR_ADDR from $HOST_ETH1_ADDR dev eth1 table 100 '"

# 4. Traffic: nbr, on eth1's subnet, is answered directly; mon through rtr.
in_ns rtr nft reset counters table inet nohairpin >/dev/null
expect_ok "TCP nbr -> host ($HOST_ETH1_ADDR) works" tcp_ok nbr host "$HOST_ETH1_ADDR" "$PORT"
expect_ok "ping nbr -> host works" ping_ok nbr "$HOST_ETH1_ADDR"
expect_eq "no packet from host to nbr went through rtr" 0 "$(nft_packets rtr nohairpin to_nbr)"
expect_eq "rtr dropped nothing for hairpinning" 0 "$(nft_packets rtr nohairpin hairpin)"
expect_ok "TCP mon -> host ($HOST_ETH1_ADDR) works (through rtr, answered through eth1)" \
	tcp_ok mon host "$HOST_ETH1_ADDR" "$PORT"
expect_ok "TCP mon -> host eth0 (management) works" tcp_ok mon host 192.0.2.2 22

# 5. SIGTERM: everything goes; dhcpcd's routes stay.
stop_bg "$RR_PID" TERM
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_eq "SIGTERM: no rule left" "" "$(rr_rules)"
expect_eq "SIGTERM: table 100 empty" "" "$(rr_table 100)"
expect_ok "SIGTERM: dhcpcd's default route still in main" eval "main_eth1 | grep -q '^default .* proto dhcp '"
expect_eq "no error logged" "" "$(grep -E '^<[0-3]>' "$RR_LOG")"
expect_ok "dhcpcd still runs" _rr_alive "$DHCPCD_PID"

finish
