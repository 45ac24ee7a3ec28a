#!/bin/bash
#
# tests/selftest-topology.sh - the seed topology reproduces the asymmetric
# reply problem, and the manual fix of DESIGN.md (conntrack mark, fwmark rule,
# table 100, src_valid_mark) repairs it. No replyroute involved: this checks
# the test harness and the topology, with real traffic, IPv4 and IPv6.
#
# Topology: see topo-seed.sh (mon -- rtr -- host eth0 management / eth1 public).

set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/topo-seed.sh"
need_cmd python3

topo_seed
topo_seed6

# Kernel state the topology promises.
expect_eq "rtr forwards" 1 "$(sysctl_get rtr net.ipv4.ip_forward)"
expect_eq "host does not forward" 0 "$(sysctl_get host net.ipv4.ip_forward)"
for k in all default r_mon r_mgmt r_pub; do
	expect_eq "rtr rp_filter $k strict" 1 "$(sysctl_get rtr "net.ipv4.conf.$k.rp_filter")"
done
for k in all default eth0 eth1; do
	expect_eq "host rp_filter $k strict" 1 "$(sysctl_get host "net.ipv4.conf.$k.rp_filter")"
done

# (a) The problem: the public address does not answer mon, management does.
expect_ok "ping mon -> host management" ping_ok mon "$HOST_ETH0_ADDR"
expect_ok "TCP mon -> host management" tcp_ok mon host "$HOST_ETH0_ADDR" 8000
expect_ok "UDP mon -> host management" udp_ok mon host "$HOST_ETH0_ADDR" 8001
expect_ok "ping mon -> host public fails" ping_fails mon "$HOST_ETH1_ADDR"
expect_ok "TCP mon -> host public fails" tcp_fails mon host "$HOST_ETH1_ADDR" 8000
expect_ok "UDP mon -> host public fails" udp_fails mon host "$HOST_ETH1_ADDR" 8001

expect_ok "ping6 mon -> host management" ping_ok mon "$HOST_ETH0_ADDR6"
expect_ok "TCP6 mon -> host management" tcp_ok mon host "$HOST_ETH0_ADDR6" 8000
expect_ok "UDP6 mon -> host management" udp_ok mon host "$HOST_ETH0_ADDR6" 8001
expect_ok "ping6 mon -> host public fails" ping_fails mon "$HOST_ETH1_ADDR6"
expect_ok "TCP6 mon -> host public fails" tcp_fails mon host "$HOST_ETH1_ADDR6" 8000
expect_ok "UDP6 mon -> host public fails" udp_fails mon host "$HOST_ETH1_ADDR6" 8001

# The negative checks must fail because of routing, not because they cannot
# work at all: from rtr, which is on the public link, everything answers.
expect_ok "ping rtr -> host public" ping_ok rtr "$HOST_ETH1_ADDR"
expect_ok "TCP rtr -> host public" tcp_ok rtr host "$HOST_ETH1_ADDR" 8000
expect_ok "UDP6 rtr -> host public" udp_ok rtr host "$HOST_ETH1_ADDR6" 8001

# (b) The manual fix, in host.
in_ns host nft -f - <<'EOF' || fail "cannot load the nft fix"
table inet manualfix {
	chain prerouting {
		type filter hook prerouting priority mangle; policy accept;
		ct state new iifname "eth1" ct mark set 0x1
		ct mark & 0xff != 0 meta mark set ct mark
	}
	chain output {
		type route hook output priority mangle; policy accept;
		ct mark & 0xff != 0 meta mark set ct mark
	}
}
EOF
for fam in -4 -6; do
	in_ns host ip "$fam" rule add fwmark 0x1/0xff lookup 100 priority 1000 ||
		fail "cannot add the $fam rule"
done
if ! { in_ns host ip route add default via "$HOST_ETH1_GW" dev eth1 src "$HOST_ETH1_ADDR" table 100 &&
	in_ns host ip route add "$PUB_NET" dev eth1 scope link src "$HOST_ETH1_ADDR" table 100 &&
	in_ns host ip -6 route add default via "$HOST_ETH1_GW6" dev eth1 src "$HOST_ETH1_ADDR6" table 100 &&
	in_ns host ip -6 route add "$PUB_NET6" dev eth1 src "$HOST_ETH1_ADDR6" table 100; }; then
	fail "cannot fill table 100"
fi
sysctl_set host net.ipv4.conf.eth1.src_valid_mark 1

# The assertion helpers see exactly that.
expect_eq "fwmark rules installed" \
	"0:	from all lookup local
1000:	from all fwmark 0x1/0xff lookup 100
32766:	from all lookup main
32767:	from all lookup default
0:	from all lookup local
1000:	from all fwmark 0x1/0xff lookup 100
32766:	from all lookup main" \
	"$(rules host)"
expect_eq "table 100 (IPv4)" \
	"default via $HOST_ETH1_GW dev eth1 src $HOST_ETH1_ADDR 
$PUB_NET dev eth1 scope link src $HOST_ETH1_ADDR " \
	"$(routes host 100 -4)"
expect_eq "table 100 (IPv6)" \
	"$PUB_NET6 dev eth1 src $HOST_ETH1_ADDR6 metric 1024 pref medium
default via $HOST_ETH1_GW6 dev eth1 src $HOST_ETH1_ADDR6 metric 1024 pref medium" \
	"$(routes host 100 -6)"
expect_eq "table 101 does not exist: no routes" "" "$(routes host 101)"
expect_eq "src_valid_mark on eth1" 1 "$(sysctl_get host net.ipv4.conf.eth1.src_valid_mark)"
expect_eq "src_valid_mark not on all" 0 "$(sysctl_get host net.ipv4.conf.all.src_valid_mark)"
expect_ok "nft table visible" eval 'nft_ruleset host | grep -q "table inet manualfix"'

# (c) Fixed: the public address answers, management still works.
expect_ok "ping mon -> host public" ping_ok mon "$HOST_ETH1_ADDR"
expect_ok "TCP mon -> host public" tcp_ok mon host "$HOST_ETH1_ADDR" 8000
expect_ok "UDP mon -> host public" udp_ok mon host "$HOST_ETH1_ADDR" 8001
expect_ok "ping mon -> host management" ping_ok mon "$HOST_ETH0_ADDR"
expect_ok "TCP mon -> host management" tcp_ok mon host "$HOST_ETH0_ADDR" 8000
expect_ok "UDP mon -> host management" udp_ok mon host "$HOST_ETH0_ADDR" 8001

expect_ok "ping6 mon -> host public" ping_ok mon "$HOST_ETH1_ADDR6"
expect_ok "TCP6 mon -> host public" tcp_ok mon host "$HOST_ETH1_ADDR6" 8000
expect_ok "UDP6 mon -> host public" udp_ok mon host "$HOST_ETH1_ADDR6" 8001
expect_ok "ping6 mon -> host management" ping_ok mon "$HOST_ETH0_ADDR6"
expect_ok "TCP6 mon -> host management" tcp_ok mon host "$HOST_ETH0_ADDR6" 8000
expect_ok "UDP6 mon -> host management" udp_ok mon host "$HOST_ETH0_ADDR6" 8001

# A UDP server on the wildcard address answers from the source address of
# the main table's route back (eth0's), which the fix does not change: the
# reply is rerouted out of eth1 with the wrong source and dropped by rtr.
expect_ok "UDP mon -> host public, wildcard server, fails" \
	udp_fails mon host "$HOST_ETH1_ADDR" 8001 '*'
expect_ok "TCP mon -> host public, wildcard server" \
	tcp_ok mon host "$HOST_ETH1_ADDR" 8000 '*'

# Background processes are tracked and reaped.
start_bg host sleep 30
pid=$BG_PID
expect_ok "start_bg runs in the namespace" \
	poll 2 eval "ip netns pids $NS_HOST | grep -qx $pid"
stop_bg "$pid"
expect_eq "stop_bg returns the exit status" 143 "$?"

# sd_notify messages are received across namespaces, one message apart from
# the next, one a line.
notify_listen
for m in "READY=1
STATUS=eth1: waiting for link" "STOPPING=1"; do
	printf '%s' "$m" | in_ns host socat -u - "UNIX-SENDTO:$NOTIFY_SOCKET"
done
expect_ok "notify: STOPPING=1 received" poll 2 notified_exactly STOPPING=1
expect_eq "notify: messages apart" "READY=1 | STATUS=eth1: waiting for link
STOPPING=1" "$(notify_since)"
expect_eq "notify: the last STATUS" "STATUS=eth1: waiting for link" "$(notify_status)"
notify_mark
expect_fail "notify: nothing since the mark" notified STOPPING=1

finish
