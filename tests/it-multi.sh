#!/usr/bin/env bash
# Several uplinks at once (DESIGN §1, §2): three tracked interfaces, each with
# the seed's problem; the nft cost per packet does not grow with their number;
# a reload that adds or removes one interface touches nothing of the others.
# Topology: tests/topo-seed.sh plus eth2..eth4 to the same router.
#
#   +---- mon ----+      +------------------- rtr ---------------------+
#   | mon0        |      | r_mon 198.51.100.1/24  r_mgmt 192.0.2.1/24  |
#   | .10/24      +------+ r_pub 203.0.113.1/24   r_pub2 198.18.2.1/24 |
#   | dflt via .1 |      | r_pub3 198.18.3.1/24   r_pub4 198.18.4.1/24 |
#   +-------------+      +--+--------+----------+----------+----------+-+
#                           |        |          |          |          |
#                        +--+--------+---- host-+----------+----------+-+
#                        | eth0     eth1        eth2       eth3     eth4 |
#                        | .2.2     203.0.113.2 198.18.2.2 .3.2     .4.2 |
#                        | 198.51.100/24 via 192.0.2.1 dev eth0          |
#                        | default via 203.0.113.1 dev eth1              |
#                        | default via 198.18.N.1 dev ethN metric 200    |
#                        | rp_filter=1                                   |
#                        +-----------------------------------------------+
#
# mon reaches every ethN address through rtr, but host's way back to mon is
# eth0: without replyroute, strict rp_filter drops it. The gateways are
# learned from main's default routes. Tracked: eth1..eth3 (Table 101..103,
# Mark 0x1..0x3); a reload adds eth4 (Table 104, Mark 0x4), another removes
# eth2.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd jq python3 script
topo_seed

PORT=21
declare -A ADDR GW TABLE MARK RTR_IF
ADDR=([eth1]=203.0.113.2 [eth2]=198.18.2.2 [eth3]=198.18.3.2 [eth4]=198.18.4.2)
GW=([eth1]=203.0.113.1 [eth2]=198.18.2.1 [eth3]=198.18.3.1 [eth4]=198.18.4.1)
TABLE=([eth1]=101 [eth2]=102 [eth3]=103 [eth4]=104)
MARK=([eth1]=0x1 [eth2]=0x2 [eth3]=0x3 [eth4]=0x4)
RTR_IF=([eth2]=r_pub2 [eth3]=r_pub3 [eth4]=r_pub4)

for i in eth2 eth3 eth4; do
	veth rtr "${RTR_IF[$i]}" host "$i"
	sysctl_set rtr "net.ipv4.conf.${RTR_IF[$i]}.rp_filter" 1
	sysctl_set host "net.ipv4.conf.$i.rp_filter" 1
	# Equal metrics on purpose: each interface's default must still be learned.
	ip -n "$NS_RTR" addr add "${GW[$i]}/24" dev "${RTR_IF[$i]}" &&
		ip -n "$NS_HOST" addr add "${ADDR[$i]}/24" dev "$i" &&
		ip -n "$NS_HOST" route append default via "${GW[$i]}" dev "$i" metric 200 ||
		fail "$i addresses and routes"
done

write_conf() { # IFACE...
	local i
	for i; do
		printf '[Interface]\nName=%s\nTable=%s\nMark=%s\n\n' "$i" "${TABLE[$i]}" "${MARK[$i]}"
	done | rr_conf
}

# spec IFACE: IFACE's argument to rr_want_rules.
spec() { echo "$1 ${MARK[$1]} ${TABLE[$1]}"; }

# want_rules IFACE...: the replyroute rules for IFACEs, sorted as rr_rules
# prints them (all at priority 1000: one gate and one anchor for them all).
want_rules() {
	local i specs=()
	for i; do
		specs+=("$(spec "$i")")
	done
	rr_want_rules "${specs[@]}"
}
# own_rules IFACE: IFACE's rules alone (the iif rule and the table rule).
own_rules() { want_rules "$1" | grep -E "iif $1 |lookup ${TABLE[$1]} "; }

# want_table IFACE: the routes of IFACE's table: its default route and its own
# connected prefix, nothing of the other uplinks.
want_table() { rr_want_table4 "$1" "${ADDR[$1]}" "${GW[$1]}" "${ADDR[$1]%.*}.0/24"; }

# converged IFACE...: exactly the rules of IFACEs, exactly their tables, no
# route of ours in the tables of the others.
converged() {
	local i want got bad=0
	want=$(want_rules "$@")
	got=$(rr_rules)
	[[ $got == "$want" ]] || { echo "rules:"; diff <(echo "$want") <(echo "$got"); bad=1; }
	for i in eth1 eth2 eth3 eth4; do
		want=
		[[ " $* " == *" $i "* ]] && want=$(want_table "$i")
		got=$(rr_table "${TABLE[$i]}")
		[[ $got == "$want" ]] ||
			{ echo "table ${TABLE[$i]}:"; diff <(echo "$want") <(echo "$got"); bad=1; }
	done
	return "$bad"
}

# nft_rules CHAIN: the number of rules in CHAIN of table inet replyroute.
nft_rules() {
	in_ns host nft -a list chain inet replyroute "$1" | grep '# handle' | grep -vc '^[[:space:]]*chain '
}
# nft_elems MAP: the elements of MAP, one a line, sorted ("eth1 ct_0x1", "1 pkt_0x1").
nft_elems() {
	in_ns host nft -j list map inet replyroute "$1" |
		jq -r '.nftables[] | select(.map) | .map.elem[] | "\(.[0]) \(.[1].jump.target)"' | sort
}
want_elems() { # MAP IFACE...
	local map=$1 i
	shift
	for i; do
		if [[ $map == iface_mark ]]; then
			echo "$i ct_${MARK[$i]}"
		else
			echo "$((MARK[$i])) pkt_${MARK[$i]}"
		fi
	done | sort
}

# traffic_ok IFACE WHAT / traffic_fails IFACE WHAT: ping and TCP mon -> IFACE.
traffic_ok() {
	expect_ok "$2: ping mon -> $1 (${ADDR[$1]}) works" ping_ok mon "${ADDR[$1]}"
	expect_ok "$2: TCP mon -> $1 (${ADDR[$1]}) works" tcp_ok mon host "${ADDR[$1]}" "$PORT"
}
traffic_fails() {
	expect_ok "$2: ping mon -> $1 (${ADDR[$1]}) fails" ping_fails mon "${ADDR[$1]}"
	expect_ok "$2: TCP mon -> $1 (${ADDR[$1]}) fails" tcp_fails mon host "${ADDR[$1]}" "$PORT"
}

# 1. The problem is real, on every uplink.
expect_ok "before: management path works" ping_ok mon "$HOST_ETH0_ADDR"
for i in eth1 eth2 eth3 eth4; do
	traffic_fails "$i" before
done

# 2. Three tracked interfaces.
notify_listen
write_conf eth1 eth2 eth3
rr_start -v
poll 5 notified READY=1 || fail "replyrouted did not become ready"
expect_ok "three interfaces: rules and tables exactly as designed" converged eth1 eth2 eth3
for i in eth1 eth2 eth3; do
	traffic_ok "$i" "three interfaces"
done
traffic_fails eth4 "three interfaces (eth4 untracked)"
expect_eq "nft: prerouting has 3 rules, whatever the number of interfaces" 3 "$(nft_rules prerouting)"
expect_eq "nft: output has 4 rules" 4 "$(nft_rules output)"
expect_eq "nft: unmarked_in has 3 rules" 3 "$(nft_rules unmarked_in)"
expect_eq "nft: unmarked_out has 4 rules" 4 "$(nft_rules unmarked_out)"
expect_eq "nft: iface_mark holds the 3 interfaces" \
	"$(want_elems iface_mark eth1 eth2 eth3)" "$(nft_elems iface_mark)"
expect_eq "nft: mark_restore holds the 3 marks" \
	"$(want_elems mark_restore eth1 eth2 eth3)" "$(nft_elems mark_restore)"
for i in eth1 eth2 eth3; do
	expect_eq "src_valid_mark=1 on $i" 1 "$(sysctl_get host "net.ipv4.conf.$i.src_valid_mark")"
done

# Monitors for the reloads (table 300 holds their probes and sentinels).
ip -n "$NS_HOST" route add 198.19.0.0/16 via 192.0.2.1 table 300 || fail "table 300"
mon_start nft

# 3. Reload that adds eth4: eth4 works; nothing of eth1..eth3 deleted or added.
write_conf eth1 eth2 eth3 eth4
mon_sync
mon_mark
notify_mark
kill -HUP "$RR_PID"
poll 5 notified_reload || fail "add eth4: no RELOADING=1 then READY=1"
mon_sync
expect_ok "add eth4: rules and tables exactly as designed" converged eth1 eth2 eth3 eth4
expect_eq "add eth4: rtnetlink: nothing deleted" "" "$(mon_ip_events | grep '^Deleted')"
expect_eq "add eth4: rtnetlink: only eth4's rules and table 104 added" "" \
	"$(mon_ip_events | grep -vE 'iif eth4 |lookup 104 |table 104 ')"
expect_eq "add eth4: rtnetlink: eth4's rules and all of table 104 added" \
	"$( (own_rules eth4; want_table eth4) | sort)" \
	"$(mon_ip_events | sed -E 's/ table 104//' | sort)"
# Required (DESIGN: a reload that adds one interface touches nothing of the
# others). It fails while the daemon replaces the whole nft table on a change.
expect_eq "add eth4: nft: nothing deleted (REQUIRED: incremental nft update)" "" \
	"$(mon_nft_events | grep -E '^(delete|destroy)')"
expect_eq "add eth4: nft: only eth4's objects added (REQUIRED: incremental nft update)" "" \
	"$(mon_nft_events | grep -vE 'eth4|0x4\b|0x00000004')"
expect_eq "nft: prerouting still has 3 rules" 3 "$(nft_rules prerouting)"
expect_eq "nft: output still has 4 rules" 4 "$(nft_rules output)"
expect_eq "nft: iface_mark holds the 4 interfaces" \
	"$(want_elems iface_mark eth1 eth2 eth3 eth4)" "$(nft_elems iface_mark)"
expect_eq "nft: mark_restore holds the 4 marks" \
	"$(want_elems mark_restore eth1 eth2 eth3 eth4)" "$(nft_elems mark_restore)"
for i in eth1 eth2 eth3 eth4; do
	traffic_ok "$i" "add eth4"
done
expect_eq "add eth4: src_valid_mark=1 on eth4" 1 "$(sysctl_get host net.ipv4.conf.eth4.src_valid_mark)"

# 4. Reload that removes eth2: eth2's rule and routes gone, nothing else.
write_conf eth1 eth3 eth4
mon_sync
mon_mark
notify_mark
kill -HUP "$RR_PID"
poll 5 notified_reload || fail "remove eth2: no RELOADING=1 then READY=1"
mon_sync
expect_ok "remove eth2: rules and tables exactly as designed" converged eth1 eth3 eth4
expect_eq "remove eth2: rtnetlink: nothing added" "" "$(mon_ip_events | grep -v '^Deleted')"
expect_eq "remove eth2: rtnetlink: only eth2's rules and table 102 deleted" "" \
	"$(mon_ip_events | grep -vE 'iif eth2 |lookup 102 |table 102 ')"
expect_eq "remove eth2: nft: nothing added (REQUIRED: incremental nft update)" "" \
	"$(mon_nft_events | grep -vE '^(delete|destroy)')"
expect_eq "remove eth2: nft: only eth2's objects deleted (REQUIRED: incremental nft update)" "" \
	"$(mon_nft_events | grep -vE 'eth2|0x2\b|0x00000002')"
expect_eq "nft: prerouting still has 3 rules" 3 "$(nft_rules prerouting)"
expect_eq "nft: output still has 4 rules" 4 "$(nft_rules output)"
expect_eq "nft: iface_mark holds eth1, eth3, eth4" \
	"$(want_elems iface_mark eth1 eth3 eth4)" "$(nft_elems iface_mark)"
expect_eq "nft: mark_restore holds their marks" \
	"$(want_elems mark_restore eth1 eth3 eth4)" "$(nft_elems mark_restore)"
for i in eth1 eth3 eth4; do
	traffic_ok "$i" "remove eth2"
done
traffic_fails eth2 "remove eth2"
for i in eth1 eth3 eth4; do
	expect_eq "remove eth2: src_valid_mark still 1 on $i" 1 \
		"$(sysctl_get host "net.ipv4.conf.$i.src_valid_mark")"
done
expect_eq "remove eth2: its src_valid_mark restored at once" 0 \
	"$(sysctl_get host net.ipv4.conf.eth2.src_valid_mark)"

# 5. SIGTERM removes everything.
stop_bg "$RR_PID"
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_ok "SIGTERM: no rule, no route of ours left" converged
expect_fail "SIGTERM: nft table removed" rr_nft
for i in eth1 eth2 eth3 eth4; do
	expect_eq "SIGTERM: src_valid_mark of $i back to 0" 0 \
		"$(sysctl_get host "net.ipv4.conf.$i.src_valid_mark")"
done

finish
