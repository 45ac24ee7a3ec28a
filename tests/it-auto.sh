#!/usr/bin/env bash
# Table= and Mark= omitted: the documented allocation, stable across restarts,
# with real traffic. Topology: tests/topo-seed.sh
#
#   mon 198.51.100.10 --- rtr --- eth0 192.0.2.2    host  (default via eth1,
#                             \-- eth1 203.0.113.2         198.51.100/24 via eth0)
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
topo_seed

printf '[Global]\nMarkMask=0xf0\n\n[Interface]\nName=eth1\n' | rr_conf

# Someone else's rule uses table 1000: the allocation must skip it.
ip -n "$NS_HOST" rule add priority 500 from 198.18.0.0/15 lookup 1000 || fail "foreign rule"

expect_ok "--check accepts Table= and Mark= omitted" rr --check
expect_ok "the allocated mark is the mask's lowest bit" \
	eval "rr --check -v | grep -qx '# Mark=0x10 (allocated)'"

rr_start
poll 5 grep -q 'ready:' "$RR_LOG" || fail "daemon not ready"
expect_ok "log names the allocated table" grep -q 'eth1: table 1001 (allocated)' "$RR_LOG"
RULES=$(rr_want_rules -k 0xf0 "eth1 0x10 1001")
expect_eq "rules: mark 0x10/0xf0, first free table 1001 (1000 is in use)" \
	"$RULES" "$(rr_rules -4)"
expect_eq "table 1001 holds the designed routes" \
	"$(rr_want_table4 eth1 203.0.113.2 203.0.113.1 203.0.113.0/24)" "$(rr_table 1001 -4)"
expect_ok "ping to eth1 works" ping_ok mon "$HOST_ETH1_ADDR"
expect_ok "TCP to eth1 works" tcp_ok mon host "$HOST_ETH1_ADDR" 21

# Table 1000 becomes free; a restart must keep 1001 (its own rule says so).
stop_bg "$RR_PID" KILL >/dev/null
ip -n "$NS_HOST" rule del priority 500 from 198.18.0.0/15 lookup 1000 || fail "foreign rule del"
rr_start
poll 5 grep -q 'ready:' "$RR_LOG" || fail "daemon not ready after restart"
expect_eq "after a restart: same table 1001" "$RULES" "$(rr_rules -4)"
expect_eq "after a restart: nothing in table 1000" "" "$(routes host 1000 -4)"
expect_ok "after a restart: TCP to eth1 works" tcp_ok mon host "$HOST_ETH1_ADDR" 21

stop_bg "$RR_PID" TERM
expect_eq "SIGTERM: exit 0" 0 "$?"
expect_eq "SIGTERM: no rule left" "" "$(rr_rules -4)"
expect_eq "SIGTERM: table 1001 empty" "" "$(routes host 1001 -4)"
# MarkMask=0xffffffff with Mark=0xffffffff: libnl's getters read such a rule
# back as "no mark"; it must still compare equal to the desired one, or every
# second pass deletes it (then adds it again).
printf '[Global]\nMarkMask=0xffffffff\n\n[Interface]\nName=eth1\nTable=1100\nMark=0xffffffff\n' |
	rr_conf
rr --once >"$T/once1.log" 2>&1
expect_eq "mark 0xffffffff: first --once exit 0" 0 "$?"
expect_ok "mark 0xffffffff: first --once adds the rule" grep -q 'rule added' "$T/once1.log"
rr --once >"$T/once2.log" 2>&1
expect_eq "mark 0xffffffff: second --once exit 0" 0 "$?"
expect_fail "mark 0xffffffff: second --once adds or deletes nothing" \
	grep -E 'rule added|rule deleted|route added|route deleted' "$T/once2.log"
expect_eq "mark 0xffffffff: exactly its rules, their mask all ones" \
	"$(rr_want_rules -k 0xffffffff "eth1 0xffffffff 1100")" "$(rr_rules -4)"
rr --cleanup >/dev/null 2>&1
expect_eq "mark 0xffffffff: --cleanup removes it" "" "$(rr_rules -4)"
# A link whose name starts with '.' and holds a control character (0x01): the
# kernel takes it, so does the config; the logs show the byte as \x01.
odd=$'.d\x01'
in_ns host ip link add name "$odd" type veth peer name oddpeer || fail "veth $odd"
in_ns host ip link set oddpeer up || fail "veth peer up"
in_ns host ip link set "$odd" up || fail "veth up"
in_ns host ip addr add 198.18.5.2/24 dev "$odd" || fail "veth address"
poll 5 addr_ready host 198.18.5.2 || fail "veth address not ready"
printf '[Interface]\nName=%s\nTable=1200\nMark=0x2\n' "$odd" | rr_conf
rr --once >"$T/odd1.log" 2>&1
expect_eq "odd name: --once exit 0" 0 "$?"
expect_eq "odd name: its rules (ip shows the name raw)" "$(rr_want_rules "$odd 0x2 1200")" \
	"$(rr_rules -4)"
expect_ok "odd name: its connected route, in table 1200" \
	eval "routes host 1200 -4 | grep -q '^198.18.5.0/24 dev .d'"
expect_ok "odd name: the log shows the name escaped" \
	grep -qF 'net.ipv4.conf..d\x01.src_valid_mark=1' "$T/odd1.log"
expect_ok "odd name: route lines show the device escaped" \
	grep -qF 'route added: 198.18.5.0/24 dev .d\x01 src 198.18.5.2 table 1200' "$T/odd1.log"
expect_fail "odd name: no raw control character in the log" grep -q $'\x01' "$T/odd1.log"
expect_eq "odd name: src_valid_mark set" 1 \
	"$(sysctl_get host "net/ipv4/conf/$odd/src_valid_mark")"
rr --once >"$T/odd2.log" 2>&1
expect_fail "odd name: second --once changes nothing" \
	grep -E 'added|deleted|src_valid_mark=' "$T/odd2.log"
rr --cleanup >/dev/null 2>&1
expect_eq "odd name: --cleanup restores src_valid_mark" 0 \
	"$(sysctl_get host "net/ipv4/conf/$odd/src_valid_mark")"
in_ns host ip link del "$odd"
finish
