#!/usr/bin/env bash
# Dual stack: the daemon fixes the reply path for IPv6 as for IPv4, learns a
# link-local gateway as router advertisements install it, waits for DAD before
# it uses an address, and never uses one whose DAD failed.
# Topology: tests/topo-seed.sh, topo_seed + topo_seed6.
#
#   mon 198.51.100.10      --- rtr --- eth0 192.0.2.2    2001:db8:2::2     host
#       2001:db8:100::10           \-- eth1 203.0.113.2  2001:db8:113::2
#                                       (defaults via eth1, mon's nets via eth0;
#                                        rtr's r_pub gets fe80::1 and fe80::2
#                                        for step 3)
#
# IPv6 has no rp_filter: topo_seed6 puts an nft "fib saddr . iif oif missing
# drop" filter on rtr, and on host one that honours the packet mark.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd python3
topo_seed
topo_seed6
rr_conf_seed
notify_listen

table() { rr_table 100 "$1"; }
ours_with_src() { in_ns host ip -6 route show table all | rr_norm | grep "proto 205.* src $1 "; }

# addr_has NS ADDR FLAG: ADDR is configured in NS and flagged FLAG.
addr_has() {
	ip -n "$(ns_name "$1")" -o addr show to "$2" | grep -qw "$3"
}

V4="203.0.113.2 via 203.0.113.1"
RULE4=$(rr_want_rules "eth1 0x1 100")
RULE6=$RULE4
TABLE4=$(rr_want_table4 eth1 203.0.113.2 203.0.113.1 203.0.113.0/24)
# table6 SRC GATEWAY [EXPIRES]: the designed IPv6 table 100: eth1's own
# prefix as the kernel has it in main, no scope (IPv6 routes have none),
# fe80::/64 not copied, no prefix of eth0; the default via GATEWAY, with
# "expires Nsec" if EXPIRES is given (a router learned from an
# advertisement: its lifetime is carried).
table6() {
	printf '%s\n' \
		"2001:db8:113::/64 dev eth1 proto 205 src $1 metric 1024 pref medium" \
		"default via $2 dev eth1 proto 205 src $1 metric 1024 ${3:+expires Nsec }pref medium"
}
TABLE6=$(table6 "$HOST_ETH1_ADDR6" "$HOST_ETH1_GW6")

# 1. The problem is real in both families; management works.
expect_ok "before: IPv6 ping to eth1 fails" ping_fails mon "$HOST_ETH1_ADDR6"
expect_ok "before: IPv6 TCP to eth1 fails" tcp_fails mon host "$HOST_ETH1_ADDR6" 21
expect_ok "before: IPv4 ping to eth1 fails" ping_fails mon "$HOST_ETH1_ADDR"
expect_ok "before: IPv4 TCP to eth1 fails" tcp_fails mon host "$HOST_ETH1_ADDR" 21
expect_ok "before: IPv6 management ping works" ping_ok mon "$HOST_ETH0_ADDR6"
expect_ok "before: IPv6 management TCP works" tcp_ok mon host "$HOST_ETH0_ADDR6" 22

# 2. The daemon fixes both, with exactly the designed state.
rr_start -v
expect_ok "READY=1 with both families in STATUS" poll 5 notified_exactly \
	"READY=1 | STATUS=eth1: $V4, $HOST_ETH1_ADDR6 via $HOST_ETH1_GW6, table 100; nft table owned"
expect_eq "IPv6 rules, exactly" "$RULE6" "$(rr_rules -6)"
expect_eq "IPv4 rules, exactly" "$RULE4" "$(rr_rules -4)"
expect_eq "IPv6 table 100: default, eth1's /64 only, no fe80::/64" "$TABLE6" "$(table -6)"
expect_eq "IPv4 table 100 as in the seed test" "$TABLE4" "$(table -4)"
expect_eq "one nft table for both families" "$RR_SEED_NFT" "$(rr_nft)"
expect_ok "IPv6 ping to eth1 works" ping_ok mon "$HOST_ETH1_ADDR6"
expect_ok "IPv6 TCP to eth1 works" tcp_ok mon host "$HOST_ETH1_ADDR6" 21
expect_ok "IPv6 UDP to eth1 works" udp_ok mon host "$HOST_ETH1_ADDR6" 69
expect_ok "IPv4 ping to eth1 works" ping_ok mon "$HOST_ETH1_ADDR"
expect_ok "IPv4 TCP to eth1 works" tcp_ok mon host "$HOST_ETH1_ADDR" 21
expect_ok "IPv6 management TCP still works" tcp_ok mon host "$HOST_ETH0_ADDR6" 22
expect_ok "foreign nft table inet rpf intact" in_ns host nft list table inet rpf

# 3. A link-local gateway, the way router advertisements install it.
# 3a. As an RA client that installs routes itself does (systemd-networkd,
#     NetworkManager): "ip route replace default via fe80::1 ... proto ra".
ip -n "$NS_RTR" addr add fe80::1/64 dev r_pub nodad || fail "rtr link-local address"
poll 5 addr_ready rtr fe80::1 || fail "fe80::1 not usable on rtr"
ip -n "$NS_HOST" -6 route replace default via fe80::1 dev eth1 proto ra metric 1024 ||
	fail "RA-style default route"
expect_eq "main has only the RA default" \
	"default via fe80::1 dev eth1 proto ra metric 1024 pref medium" \
	"$(in_ns host ip -6 route show default | rr_norm)"
converge "link-local gateway: table 100's default follows, without onlink" \
	"$(table6 "$HOST_ETH1_ADDR6" fe80::1)" table -6
expect_eq "link-local gateway: STATUS" \
	"STATUS=eth1: $V4, $HOST_ETH1_ADDR6 via fe80::1, table 100; nft table owned" "$(notify_status)"
expect_ok "link-local gateway: marked replies go via fe80::1" eval \
	"in_ns host ip -6 route get $MON_ADDR6 from $HOST_ETH1_ADDR6 mark 0x1 | grep -q 'via fe80::1 dev eth1 table 100'"
expect_ok "link-local gateway: IPv6 ping works" ping_ok mon "$HOST_ETH1_ADDR6"
expect_ok "link-local gateway: IPv6 TCP works" tcp_ok mon host "$HOST_ETH1_ADDR6" 21
expect_eq "link-local gateway: IPv4 untouched" "$TABLE4" "$(table -4)"

# 3b. A real router advertisement from rtr's fe80::2: the kernel installs the
#     default route (proto ra, expires), and withdraws it when the router
#     says it is leaving (router lifetime 0).
cat >"$T/ra.py" <<'PY'
import socket, struct, sys

src, dev, lifetime = sys.argv[1], sys.argv[2], int(sys.argv[3])
idx = socket.if_nametoindex(dev)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
s.bind((src, 0, 0, idx))
# Router advertisement: hop limit 64, no flags, router lifetime, no options.
# The kernel fills in the ICMPv6 checksum.
s.sendto(struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, lifetime, 0, 0), ("ff02::1", 0, 0, idx))
PY
ra() { in_ns rtr python3 "$T/ra.py" fe80::2 r_pub "$1"; }
ip -n "$NS_RTR" addr add fe80::2/64 dev r_pub nodad || fail "rtr link-local address"
poll 5 addr_ready rtr fe80::2 || fail "fe80::2 not usable on rtr"
ip -n "$NS_HOST" -6 route del default via fe80::1 dev eth1 || fail "delete the RA-style default"
expect_eq "host accepts router advertisements on eth1" 1 "$(sysctl_get host net.ipv6.conf.eth1.accept_ra)"
ra 1800 || fail "cannot send a router advertisement"
ra_default() {
	in_ns host ip -6 route show default |
		grep -q '^default via fe80::2 dev eth1 proto ra metric 1024 expires '
}
poll 5 ra_default || fail "the kernel did not install the advertised default route"
converge "router advertisement: table 100's default via fe80::2, with its lifetime" \
	"$(table6 "$HOST_ETH1_ADDR6" fe80::2 expires)" table -6
expect_ok "router advertisement: IPv6 TCP works" tcp_ok mon host "$HOST_ETH1_ADDR6" 21
ra 0 || fail "cannot send a router advertisement"
poll 5 eval "! ra_default" || fail "the kernel kept the default route of a leaving router"
converge "router gone: table 100 keeps eth1's IPv6 prefix only" \
	"$(table6 "$HOST_ETH1_ADDR6" none | grep -v '^default')" table -6
expect_ok "router gone: STATUS says IPv6 has no gateway" poll 5 notify_status_is \
	"eth1: $V4, $HOST_ETH1_ADDR6 no gateway, table 100; nft table owned"
expect_eq "router gone: the IPv6 rules stay" "$RULE6" "$(rr_rules -6)"
expect_ok "router gone: IPv6 ping from mon fails (falls through to main)" \
	ping_fails mon "$HOST_ETH1_ADDR6"
expect_ok "router gone: IPv4 still works" tcp_ok mon host "$HOST_ETH1_ADDR" 21

ip -n "$NS_HOST" -6 route add default via "$HOST_ETH1_GW6" dev eth1 metric 1024 ||
	fail "global default route back"
converge "global gateway again: table 100 back to the start" "$TABLE6" table -6

# 4. Tentative addresses are waited for. DAD on eth1 from now on, slow enough
#    (>= 3 probes 1s apart) for the tentative state to be seen.
sysctl_set host net.ipv6.conf.eth1.accept_dad 1
sysctl_set host net.ipv6.conf.eth1.dad_transmits 3
sysctl_set host net.ipv6.neigh.eth1.retrans_time_ms 1000
NEW6=2001:db8:113::3

# 4a. With the old address deprecated, a usable new one would win; while it is
#     tentative, the source stays the old one.
ip -n "$NS_HOST" addr change "$HOST_ETH1_ADDR6/64" dev eth1 preferred_lft 0 ||
	fail "deprecate $HOST_ETH1_ADDR6"
ip -n "$NS_HOST" addr add "$NEW6/64" dev eth1 || fail "add $NEW6"
addr_has host "$NEW6" tentative || fail "$NEW6 is not tentative: DAD is not running"
rr_barrier
expect_eq "tentative $NEW6: source stays the deprecated $HOST_ETH1_ADDR6" "$TABLE6" "$(table -6)"
expect_eq "tentative $NEW6: no route uses it" "" "$(ours_with_src "$NEW6")"
expect_eq "tentative $NEW6: STATUS still names $HOST_ETH1_ADDR6" \
	"STATUS=eth1: $V4, $HOST_ETH1_ADDR6 via $HOST_ETH1_GW6, table 100; nft table owned" "$(notify_status)"
expect_ok "(the address was still tentative when checked)" addr_has host "$NEW6" tentative
poll 15 addr_ready host "$NEW6" || fail "DAD of $NEW6 did not complete"
converge "DAD done: source switches to $NEW6" "$(table6 "$NEW6" "$HOST_ETH1_GW6")" table -6
expect_eq "DAD done: rules unchanged" "$RULE6" "$(rr_rules -6)"
expect_ok "DAD done: STATUS names $NEW6" poll 5 notify_status_is \
	"eth1: $V4, $NEW6 via $HOST_ETH1_GW6, table 100; nft table owned"
expect_ok "new address: IPv6 ping works" ping_ok mon "$NEW6"
expect_ok "new address: IPv6 TCP works" tcp_ok mon host "$NEW6" 21

# 4b. The only global address is tentative: IPv6 is withdrawn, IPv4 stays.
ip -n "$NS_HOST" addr del "$NEW6/64" dev eth1 || fail "delete $NEW6"
ip -n "$NS_HOST" addr del "$HOST_ETH1_ADDR6/64" dev eth1 || fail "delete $HOST_ETH1_ADDR6"
ip -n "$NS_HOST" addr add "$HOST_ETH1_ADDR6/64" dev eth1 || fail "add $HOST_ETH1_ADDR6 again"
addr_has host "$HOST_ETH1_ADDR6" tentative || fail "$HOST_ETH1_ADDR6 is not tentative"
converge "only a tentative address: no IPv6 rules" "" rr_rules -6
converge "only a tentative address: no IPv6 route in table 100" "" table -6
expect_ok "only a tentative address: STATUS without IPv6" poll 5 notify_status_is \
	"eth1: $V4, table 100; nft table owned"
expect_eq "only a tentative address: IPv4 rules kept" "$RULE4" "$(rr_rules -4)"
expect_eq "only a tentative address: IPv4 routes kept" "$TABLE4" "$(table -4)"
expect_ok "(the address was still tentative when checked)" \
	addr_has host "$HOST_ETH1_ADDR6" tentative
poll 15 addr_ready host "$HOST_ETH1_ADDR6" || fail "DAD of $HOST_ETH1_ADDR6 did not complete"
converge "DAD done: IPv6 rules back" "$RULE6" rr_rules -6
converge "DAD done: IPv6 table 100 as at the start" "$TABLE6" table -6
expect_ok "DAD done: STATUS with IPv6 again" poll 5 notify_status_is \
	"eth1: $V4, $HOST_ETH1_ADDR6 via $HOST_ETH1_GW6, table 100; nft table owned"
expect_ok "DAD done: IPv6 TCP works" tcp_ok mon host "$HOST_ETH1_ADDR6" 21

# 5. An address whose DAD failed is never used: rtr holds it already. With
#    the good address deprecated, the failed one would win if it counted.
DUP6=2001:db8:113::5
ip -n "$NS_RTR" addr add "$DUP6/64" dev r_pub nodad || fail "rtr $DUP6"
poll 5 addr_ready rtr "$DUP6" || fail "$DUP6 not usable on rtr"
ip -n "$NS_HOST" addr change "$HOST_ETH1_ADDR6/64" dev eth1 preferred_lft 0 ||
	fail "deprecate $HOST_ETH1_ADDR6"
ip -n "$NS_HOST" addr add "$DUP6/64" dev eth1 || fail "add $DUP6"
poll 15 addr_has host "$DUP6" dadfailed || fail "DAD of $DUP6 did not fail"
rr_barrier
expect_eq "dadfailed $DUP6: table 100 unchanged" "$TABLE6" "$(table -6)"
expect_eq "dadfailed $DUP6: no route of ours uses it" "" "$(ours_with_src "$DUP6")"
expect_eq "dadfailed $DUP6: STATUS names $HOST_ETH1_ADDR6" \
	"STATUS=eth1: $V4, $HOST_ETH1_ADDR6 via $HOST_ETH1_GW6, table 100; nft table owned" "$(notify_status)"
expect_ok "dadfailed $DUP6: IPv6 TCP to $HOST_ETH1_ADDR6 works" \
	tcp_ok mon host "$HOST_ETH1_ADDR6" 21
ip -n "$NS_HOST" addr del "$HOST_ETH1_ADDR6/64" dev eth1 || fail "delete $HOST_ETH1_ADDR6"
converge "only a dadfailed address: no IPv6 rules" "" rr_rules -6
converge "only a dadfailed address: no IPv6 route in table 100" "" table -6
expect_eq "only a dadfailed address: IPv4 kept" "$TABLE4" "$(table -4)"
ip -n "$NS_HOST" addr add "$HOST_ETH1_ADDR6/64" dev eth1 nodad || fail "restore $HOST_ETH1_ADDR6"
converge "good address back: IPv6 table 100 as at the start" "$TABLE6" table -6
converge "good address back: IPv6 rules" "$RULE6" rr_rules -6
expect_eq "no route of ours ever used $DUP6" "" "$(ours_with_src "$DUP6")"

# 6. SIGTERM: everything goes, IPv6 included.
stop_bg "$RR_PID" TERM
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_eq "SIGTERM: no IPv6 rule" "" "$(rr_rules -6)"
expect_eq "SIGTERM: no IPv4 rule" "" "$(rr_rules -4)"
expect_eq "SIGTERM: no IPv6 route in table 100" "" "$(table -6)"
expect_eq "SIGTERM: no IPv4 route in table 100" "" "$(table -4)"
expect_fail "SIGTERM: nft table removed" rr_nft
expect_ok "SIGTERM: foreign nft table inet rpf intact" in_ns host nft list table inet rpf
expect_ok "SIGTERM: IPv6 reply path broken again, as before" ping_fails mon "$HOST_ETH1_ADDR6"
# Warnings may be: a change that raced with the one the daemon was applying.
expect_eq "no error logged" "" "$(grep -E '^<[0-3]>' "$RR_LOG")"

finish
