#!/usr/bin/env bash
# The demo: the seed topology in network namespaces, the broken reply path,
# replyrouted started as a daemon, the reply path fixed, and the fix surviving
# an address change and a firewall reload. Everything is removed at the end.
#
#   mon 198.51.100.10 --- rtr --- eth0 192.0.2.2    host  (default via eth1,
#                             \-- eth1 203.0.113.2         198.51.100/24 via eth0)
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
topo_seed

say() { printf '\n=== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }
try() { # DESC CMD...
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then echo "  $desc: works"; else echo "  $desc: FAILS"; fi
}
traffic() {
	try "ping mon -> host eth1 $1" ping_ok mon "$1"
	try "TCP  mon -> host eth1 $1:21" tcp_ok mon host "$1" 21
	try "ping mon -> host eth0 $HOST_ETH0_ADDR (management)" ping_ok mon "$HOST_ETH0_ADDR"
}

rr_conf_seed
explain() { show rr --explain --from "$MON_ADDR" --to "$1" --proto tcp --dport 21; }

say "Before replyroute: replies to eth1 leave through eth0 and are dropped"
traffic "$HOST_ETH1_ADDR"
explain "$HOST_ETH1_ADDR"

say "Start replyrouted (gateway learned from the main table)"
show cat "$CONF"
rr_start
poll 5 grep -q ready: "$RR_LOG" || fail "daemon did not start"
show cat "$RR_LOG"
traffic "$HOST_ETH1_ADDR"
explain "$HOST_ETH1_ADDR"
show in_ns host ip rule show
show in_ns host ip route show table 100
show in_ns host nft list table inet replyroute

say "Renumber eth1 to 203.0.113.7: the daemon follows"
sysctl_set host net.ipv4.conf.eth1.promote_secondaries 1
ip -n "$NS_HOST" addr add 203.0.113.7/24 dev eth1
ip -n "$NS_HOST" addr del "$HOST_ETH1_ADDR/24" dev eth1
ip -n "$NS_HOST" route replace default via "$HOST_ETH1_GW" dev eth1
poll 5 eval "in_ns host ip route show table 100 | grep -q 'src 203.0.113.7'" ||
	fail "did not follow the address"
traffic 203.0.113.7
show in_ns host ip route show table 100

say "A firewall reload (nft flush ruleset): the table comes back"
in_ns host nft flush ruleset
poll 5 rr_nft >/dev/null || fail "nft table not restored"
traffic 203.0.113.7

say "Stop (SIGTERM): everything replyroute installed is removed"
stop_bg "$RR_PID" TERM
show tail -n 12 "$RR_LOG"
show in_ns host ip rule show
traffic 203.0.113.7
pass "demo ran"
finish
