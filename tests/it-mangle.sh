#!/usr/bin/env bash
# A neighbour that writes the whole packet mark in iptables' mangle table
# (iptables-nft, `-j MARK --set-mark 0x100` in PREROUTING and OUTPUT, as some
# container networking does), loaded before and after the daemon starts.
# replyroute's chains run at mangle + 1, after iptables' mangle (-150)
# whatever the load order: their whole-mark write comes first, our bits are
# set after it and theirs outside MarkMask are kept (0x101 on the wire).
# At the same priority the kernel runs the chain registered last first: our
# bits were lost when iptables was loaded before the daemon (and its chains
# stay registered, so that was every restart of the daemon after it). Topology: tests/topo-seed.sh
#
#   mon 198.51.100.10 --- rtr --- eth0 192.0.2.2    host  (default via eth1,
#                             \-- eth1 203.0.113.2         198.51.100/24 via eth0)
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd iptables-nft
topo_seed
rr_conf_seed "Gateway=$HOST_ETH1_GW"
PORT=8030

mangle() {
	local c
	for c in PREROUTING OUTPUT; do
		in_ns host iptables-nft -t mangle "$1" "$c" -j MARK --set-mark 0x100 || return
	done
}

# Replies from eth1's address by their mark on the way out (host's own table).
in_ns host nft -f - <<EOF || fail "probe table"
table inet probe {
	counter both { }
	counter other { }
	chain post {
		type filter hook postrouting priority 0; policy accept;
		ip saddr $HOST_ETH1_ADDR meta mark 0x101 counter name both
		ip saddr $HOST_ETH1_ADDR meta mark != 0x101 counter name other
	}
}
EOF

# traffic WHAT: mon reaches eth1's address; the replies carry both marks.
traffic() {
	in_ns host nft reset counters table inet probe >/dev/null
	expect_ok "$1: ping mon -> eth1" ping_ok mon "$HOST_ETH1_ADDR"
	expect_ok "$1: TCP mon -> eth1" tcp_ok mon host "$HOST_ETH1_ADDR" "$PORT"
	expect_ok "$1: replies left with mark 0x101 (iptables' 0x100, our 0x1)" \
		eval '(($(nft_packets host probe both) > 0))'
	expect_eq "$1: no reply with another mark" 0 "$(nft_packets host probe other)"
}

# 1. iptables loaded before the daemon starts.
mangle -A || fail "iptables mangle"
rr_start
rr_started
traffic "iptables first"
stop_bg "$RR_PID" || fail "stop"
# Its base chains stay registered after -D: take its table whole, so that
# part 2 registers them after the daemon's.
in_ns host nft delete table ip mangle || fail "iptables' mangle table gone"

# 2. iptables loaded after the daemon started.
rr_start
rr_started
mangle -A || fail "iptables mangle"
traffic "iptables after"
stop_bg "$RR_PID" || fail "stop"
finish
