#!/usr/bin/env bash
# The daemon follows the kernel (DESIGN §2): after every event made from
# outside, the state is again exactly as designed (§1), and real traffic to
# eth1 is answered through eth1. SIGTERM removes everything. Topology:
# tests/topo-seed.sh, with a second router address for gateway changes.
#
#   +---- mon ----+      +------------------- rtr -------------------+
#   | mon0        |      | r_mon 198.51.100.1/24                     |
#   | .10/24      +------+ r_mgmt 192.0.2.1/24                       |
#   | dflt via .1 |      |       r_pub 203.0.113.1/24, .254/24 (gw2) |
#   +-------------+      +------+-----------------------+------------+
#                               |                       |
#                        +------+------ host -----------+------------+
#                        | eth0 192.0.2.2/24    eth1 203.0.113.2/24  |
#                        | 198.51.100/24 via 192.0.2.1 dev eth0      |
#                        | default via 203.0.113.1 dev eth1 (learned)|
#                        | eth1 promote_secondaries=1                |
#                        +-------------------------------------------+
#
# The config has no Gateway=: the gateway is learned from main's default.
# Foreign state that must survive: an nft table "inet foreign".
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
topo_seed

GW1=$RTR_PUB_ADDR
GW2=203.0.113.254
PORT=21
sysctl_set host net.ipv4.conf.eth1.promote_secondaries 1
ip -n "$NS_RTR" addr add "$GW2/24" dev r_pub || fail "rtr second address"

rr_conf_seed

foreign_nft() {
	in_ns host nft -f - <<-'EOF'
		table inet foreign {
			counter seen { }
			chain input { type filter hook input priority 0; policy accept; counter name seen; }
		}
	EOF
}

# converged ADDR GW: the kernel state is exactly as designed for eth1 with
# address ADDR/24 and gateway GW ("-": none learned, eth1's prefix only).
converged() {
	local gw=$2
	[[ $gw == - ]] && gw=
	rr_converged "$(rr_want_table4 eth1 "$1" "$gw" 203.0.113.0/24)"
}

# withdrawn: no rule of ours, no route of ours in table 100.
withdrawn() {
	local got
	got=$(rr_rules)
	[[ -z $got ]] || { echo "rules left: $got"; return 1; }
	got=$(rr_table 100 | grep 'proto 205')
	[[ -z $got ]] || { echo "routes left in table 100: $got"; return 1; }
}

# traffic ADDR WHAT: mon reaches ADDR with ping and TCP.
traffic() {
	expect_ok "$2: ping mon -> $1" ping_ok mon "$1"
	expect_ok "$2: TCP mon -> $1" tcp_ok mon host "$1" "$PORT"
}

# log_lines: the daemon's change lines (not debug) so far.
log_lines() { grep -vc '^<7>' "$RR_LOG"; }

# no_main_default: main has no IPv4 default route.
no_main_default() { ! routes host main -4 | grep ^default; }

# The default route via eth1 that DHCP would install again.
main_default() {
	ip -n "$NS_HOST" route replace default via "$1" dev eth1
}

# 0. The problem is real, the daemon fixes it.
expect_ok "before: ping to eth1 fails" ping_fails mon "$HOST_ETH1_ADDR"
rr_start -v
ADDR=$HOST_ETH1_ADDR
expect_ok "start: converged ($ADDR via $GW1)" poll 5 converged "$ADDR" "$GW1"
traffic "$ADDR" start

# An unrelated change (a route and a rule outside replyroute's tables, a
# foreign route in main) causes no change line: the only lines after it are
# the barrier's reload line.
N=$(log_lines)
ip -n "$NS_HOST" route add 198.18.7.0/24 via 192.0.2.1 table 300 &&
	ip -n "$NS_HOST" rule add priority 500 from 198.18.7.0/24 lookup 300 &&
	ip -n "$NS_HOST" route add 198.18.8.0/24 via 192.0.2.1 &&
	ip -n "$NS_HOST" route del 198.18.7.0/24 table 300 &&
	ip -n "$NS_HOST" rule del priority 500 &&
	ip -n "$NS_HOST" route del 198.18.8.0/24 || fail "unrelated changes"
rr_settle || fail "the reload barrier timed out"
expect_eq "unrelated changes cause no change line" \
	"reloading $CONF" \
	"$(grep -v '^<7>' "$RR_LOG" | tail -n +$((N + 1)) | sed -E 's/^<[0-9]>//')"
expect_ok "still converged after the unrelated changes" converged "$ADDR" "$GW1"

# a. The address replaced, in one burst (promote_secondaries keeps main's
# default route: the new address is promoted, not deleted with the old).
ip -n "$NS_HOST" -batch - <<-EOF || fail "a: address replace"
	addr add 203.0.113.3/24 dev eth1
	addr del $ADDR/24 dev eth1
EOF
ADDR=203.0.113.3
expect_ok "a: address replaced: converged ($ADDR)" poll 5 converged "$ADDR" "$GW1"
traffic "$ADDR" a

# b. A second address added: the source stays (stable choice); the first
# removed: the second (promoted) becomes the source.
ip -n "$NS_HOST" addr add 203.0.113.4/24 dev eth1 || fail "b: address add"
rr_settle || fail "b: the reload barrier timed out"
expect_ok "b: second address added: source stays $ADDR" converged "$ADDR" "$GW1"
ip -n "$NS_HOST" addr del "$ADDR/24" dev eth1 || fail "b: address del"
ADDR=203.0.113.4
expect_ok "b: first address removed: converged ($ADDR)" poll 5 converged "$ADDR" "$GW1"
traffic "$ADDR" b

# c. Link down, then up. The kernel drops main's default route via eth1 with
# the link; DHCP would install it again, so does the test.
ip -n "$NS_HOST" link set eth1 down || fail "c: link down"
expect_ok "c: eth1 down: rule and routes withdrawn" poll 5 withdrawn
expect_ok "c: eth1 down: the kernel dropped main's default route" \
	no_main_default
ip -n "$NS_HOST" link set eth1 up || fail "c: link up"
poll 5 link_up host eth1 || fail "c: eth1 did not come up"
expect_ok "c: eth1 up, no default route: connected routes only" poll 5 converged "$ADDR" -
main_default "$GW1" || fail "c: default route"
expect_ok "c: default route back: converged" poll 5 converged "$ADDR" "$GW1"
traffic "$ADDR" c

# d. Carrier lost: the peer goes down. Main's routes stay (linkdown).
ip -n "$NS_RTR" link set r_pub down || fail "d: peer down"
expect_ok "d: no carrier: withdrawn" poll 5 withdrawn
ip -n "$NS_RTR" link set r_pub up || fail "d: peer up"
expect_ok "d: carrier back: converged" poll 5 converged "$ADDR" "$GW1"
traffic "$ADDR" d

# e. Interface deleted and created again, with a new ifindex.
ifindex() { ip -n "$NS_HOST" -o link show dev "$1" | cut -d: -f1; }
OLD_IFINDEX=$(ifindex eth1)
ip -n "$NS_HOST" link del eth1 || fail "e: link del"
expect_ok "e: eth1 deleted: withdrawn" poll 5 withdrawn
veth host eth1 rtr r_pub
sysctl_set host net.ipv4.conf.eth1.promote_secondaries 1
sysctl_set host net.ipv4.conf.eth1.rp_filter 1
sysctl_set rtr net.ipv4.conf.r_pub.rp_filter 1
ip -n "$NS_RTR" addr add "$GW1/24" dev r_pub &&
	ip -n "$NS_RTR" addr add "$GW2/24" dev r_pub &&
	ip -n "$NS_HOST" addr add "$ADDR/24" dev eth1 &&
	main_default "$GW1" || fail "e: addresses and routes"
NEW_IFINDEX=$(ifindex eth1)
expect_ok "e: eth1 has a new ifindex ($OLD_IFINDEX -> $NEW_IFINDEX)" \
	test "$OLD_IFINDEX" != "$NEW_IFINDEX"
expect_ok "e: eth1 created again: converged" poll 5 converged "$ADDR" "$GW1"
traffic "$ADDR" e

# f. Renamed away (while down) and brought up under the other name: that is
# not eth1, so nothing of ours; renamed back and up: converged.
ip -n "$NS_HOST" link set eth1 down &&
	ip -n "$NS_HOST" link set eth1 name ethX || fail "f: rename"
expect_ok "f: renamed to ethX: withdrawn" poll 5 withdrawn
ip -n "$NS_HOST" link set ethX up || fail "f: ethX up"
poll 5 link_up host ethX || fail "f: ethX did not come up"
rr_settle || fail "f: the reload barrier timed out"
expect_ok "f: ethX up: still withdrawn" withdrawn
expect_ok "f: ethX, no longer tracked, has its src_valid_mark back (0)" \
	poll 5 eval '[ "$(sysctl_get host net.ipv4.conf.ethX.src_valid_mark)" = 0 ]'
ip -n "$NS_HOST" link set ethX down &&
	ip -n "$NS_HOST" link set ethX name eth1 &&
	ip -n "$NS_HOST" link set eth1 up || fail "f: rename back"
poll 5 link_up host eth1 || fail "f: eth1 did not come up"
main_default "$GW1" || fail "f: default route"
expect_ok "f: renamed back and up: converged" poll 5 converged "$ADDR" "$GW1"
traffic "$ADDR" f

# g. The learned gateway changes in main, and back.
main_default "$GW2" || fail "g: default via $GW2"
expect_ok "g: gateway $GW2 learned: converged" poll 5 converged "$ADDR" "$GW2"
traffic "$ADDR" "g ($GW2)"
main_default "$GW1" || fail "g: default via $GW1"
expect_ok "g: gateway $GW1 learned again: converged" poll 5 converged "$ADDR" "$GW1"
traffic "$ADDR" "g ($GW1)"

# h. Our rule deleted.
ip -n "$NS_HOST" rule del priority 1000 || fail "h: rule del"
expect_ok "h: rule deleted: back" poll 5 converged "$ADDR" "$GW1"
traffic "$ADDR" h

# i. One of our routes deleted.
ip -n "$NS_HOST" route del default table 100 || fail "i: route del"
expect_ok "i: default route of table 100 deleted: back" poll 5 converged "$ADDR" "$GW1"
traffic "$ADDR" i

# j. A firewall reload: flush ruleset takes the foreign table, not ours (it is
# owned by the daemon); the foreign one (created again) is left alone.
foreign_nft || fail "j: foreign nft table"
in_ns host nft flush ruleset || fail "j: flush ruleset"
expect_ok "j: flush ruleset: converged" poll 5 converged "$ADDR" "$GW1"
expect_ok "j: our table is still owned" rr_nft_owned
expect_fail "j: flush ruleset removed the foreign table too" \
	in_ns host nft list table inet foreign
foreign_nft || fail "j: foreign nft table again"
rr_settle || fail "j: the reload barrier timed out"
expect_ok "j: foreign table created again is left alone" in_ns host nft list table inet foreign
traffic "$ADDR" j

# k. Our nft table deleted by another process: refused (EPERM), it is owned.
expect_fail "k: nft delete table refused" in_ns host nft delete table inet replyroute
expect_ok "k: still converged" converged "$ADDR" "$GW1"
traffic "$ADDR" k

# l. After all that: eth1's rules, no duplicate; alive; SIGTERM removes it all.
expect_eq "l: exactly eth1's rules, no duplicate" "$(rr_want_rules "eth1 0x1 100")" "$(rr_rules)"
expect_ok "l: the daemon is still running" _rr_alive "$RR_PID"
stop_bg "$RR_PID"
expect_eq "l: SIGTERM: exit status 0" 0 "$?"
expect_eq "l: no replyroute rule left" "" "$(rr_rules)"
expect_eq "l: no replyroute route left in table 100" "" "$(rr_table 100 | grep 'proto 205')"
expect_fail "l: no nft table inet replyroute left" rr_nft
expect_ok "l: foreign nft table still there" in_ns host nft list table inet foreign
expect_eq "l: eth1 src_valid_mark restored to 0" 0 \
	"$(sysctl_get host net.ipv4.conf.eth1.src_valid_mark)"
expect_ok "l: management path still works" ping_ok mon "$HOST_ETH0_ADDR"

finish
