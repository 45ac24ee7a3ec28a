#!/usr/bin/env bash
# Connections replyroute did not see start: conntrack flushed under running
# downloads (`conntrack -F`, conntrack-tools, run in host), and connections
# whose mark is gone (as those from before the daemon started). Topology:
# tests/topo-seed.sh
#
#   mon 198.51.100.10 --- rtr --- eth0 192.0.2.2    host  (default via eth1,
#                             \-- eth1 203.0.113.2         198.51.100/24 via eth0)
#
# Downloads mon <- host:8021 through eth1. After `conntrack -F` conntrack
# rebuilds each entry from the next packet it sees, mostly the host's own next
# data segment (output): without a mark it leaves through eth0 and rtr's
# rp_filter drops it. A FIN right after a flush is a packet conntrack cannot
# track at all (no entry is made from it): it gets the mark by its source. The daemon marks such a pickup by its source address,
# which is eth1's; a connection from before the daemon started, by its reply
# source too (or by the arrival interface of its original direction). What
# stays unmarked: connections the host opens itself.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd conntrack
topo_seed
rr_conf_seed "Gateway=$HOST_ETH1_GW"

# ct_marks PORT: the marks of host's conntrack entries for TCP port PORT (as
# server), one a line.
ct_marks() {
	in_ns host conntrack -L -p tcp --orig-port-dst "$1" 2>/dev/null | grep -o 'mark=[0-9]*'
	in_ns host conntrack -L -p tcp --orig-port-src "$1" 2>/dev/null | grep -o 'mark=[0-9]*'
}

# 1. Connections from before the daemon started: 5 downloads that work by a
#    hand-made source rule (and loose rp_filter) before the daemon starts;
#    the daemon starts, the hand-made help goes: they must go on, marked.
#    Nothing in host uses conntrack before the daemon's table: conntrack
#    starts with it and picks the downloads up from whichever side sends
#    first, mostly the host (the address maps come with the table).
DL_CHUNKS=60 # 6 s
dl_serve
ip -n "$NS_HOST" rule add priority 500 from "$HOST_ETH1_ADDR" lookup 150 &&
	ip -n "$NS_HOST" route add default via "$HOST_ETH1_GW" dev eth1 table 150 ||
	fail "hand-made source rule"
for k in all eth1; do sysctl_set host "net.ipv4.conf.$k.rp_filter" 2; done
dl_start 5
rr_start -v
rr_started
ip -n "$NS_HOST" rule del priority 500 || fail "rule del"
for k in all eth1; do sysctl_set host "net.ipv4.conf.$k.rp_filter" 1; done
expect_ok "1: downloads still running when the hand-made rule went" _rr_dl_running 5
expect_ok "1: 5 downloads from before the daemon complete" dl_done 30
expect_eq "1: they were marked" "mark=1" "$(ct_marks "$DL_PORT" | sort -u)"
expect_eq "1: eth1's address in addr_mark4" "203.0.113.2 : jump ct_0x1" "$(rr_nft_addrs)"

# 2. conntrack -F, 20 times, under 5 running downloads.
dl_start 5
for i in $(seq 20); do
	sleep 0.15
	in_ns host conntrack -F 2>/dev/null || fail "conntrack -F"
done
expect_ok "2: downloads still running after the flushes" _rr_dl_running 5
poll 3 eval '(($(ct_marks "$DL_PORT" | wc -l) >= 5))' >/dev/null
expect_eq "2: the picked-up connections are marked" "mark=1" "$(ct_marks "$DL_PORT" | sort -u)"
expect_ok "2: 5 downloads survive conntrack -F (20 times)" dl_done 30

# 3. A close right after a flush: the host's FIN is the first packet after
#    it, one conntrack cannot track; it must still leave through eth1.
start_bg host socat TCP4-LISTEN:8023,bind=$HOST_ETH1_ADDR,reuseaddr,fork \
	SYSTEM:"head -c 1000 /dev/zero; sleep 1"
poll 3 _rr_listening host tcp 8023 "$BG_PID" >/dev/null || fail "close server"
start_bg mon sh -c "socat -u TCP4:$HOST_ETH1_ADDR:8023 STDOUT | wc -c"
CLIENT=$BG_PID CLIENT_LOG=$BG_LOG
# The flush once the client has every byte, before the server's close (1s).
poll 3 eval "in_ns mon ss -H -t -n -i 'dport = :8023' | grep -qE 'bytes_received:1000( |$)'" >/dev/null ||
	fail "3: the client did not get the bytes"
in_ns host conntrack -F 2>/dev/null || fail "conntrack -F"
expect_ok "3: the connection closed after the flush reaches the client" wait_bg "$CLIENT" 10
expect_eq "3: with every byte" 1000 "$(tail -n 1 "$CLIENT_LOG")"

# 4. What is not marked: a connection the host opens, from eth1's address
#    (to rtr) or eth0's (to mon), even after a flush.
start_bg rtr socat TCP4-LISTEN:8022,reuseaddr,fork SYSTEM:"sleep 3"
poll 3 _rr_listening rtr tcp 8022 "$BG_PID" >/dev/null || fail "rtr server"
start_bg mon socat TCP4-LISTEN:8022,reuseaddr,fork SYSTEM:"sleep 3"
poll 3 _rr_listening mon tcp 8022 "$BG_PID" >/dev/null || fail "mon server"
start_bg host socat -u TCP4:$RTR_PUB_ADDR:8022 STDOUT
start_bg host socat -u TCP4:$MON_ADDR:8022 STDOUT
poll 3 eval '(($(ct_marks 8022 | wc -l) == 2))' >/dev/null
expect_eq "4: connections the host opens are not marked" "mark=0" "$(ct_marks 8022 | sort -u)"

# 5. The maps follow the addresses: a second address on eth1 is added, one
#    on eth0 (untracked) is not.
ip -n "$NS_HOST" addr add 203.0.113.7/24 dev eth1 || fail "address"
ip -n "$NS_HOST" addr add 192.0.2.7/24 dev eth0 || fail "address"
expect_ok "5: a new address of eth1 is in addr_mark4" poll 5 eval \
	'[[ $(rr_nft_addrs) == "203.0.113.2 : jump ct_0x1"$'"'\n'"'"203.0.113.7 : jump ct_0x1" ]]'
ip -n "$NS_HOST" addr del 203.0.113.7/24 dev eth1 || fail "address"
expect_ok "5: and goes with it" poll 5 eval '[[ $(rr_nft_addrs) == "203.0.113.2 : jump ct_0x1" ]]'

expect_ok "the daemon is still running" _rr_alive "$RR_PID"
expect_eq "no error logged" "" "$(grep -E '^<[0-3]>' "$RR_LOG")"
finish
