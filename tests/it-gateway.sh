#!/usr/bin/env bash
# Learned gateways (no Gateway= in the config), IPv4: the daemon follows the
# lowest-metric default route of main through the tracked interface as DHCP or
# the admin change it, keeps the interface's own prefix only while there is none,
# uses onlink for a gateway outside a /32 lease, and a plain "default dev" on a
# point-to-point link. Topology: tests/topo-seed.sh, plus gateways and a link:
#
#   mon 198.51.100.10 --- rtr --- r_mgmt ------- eth0 192.0.2.2       host
#                          |  \-- r_pub  ------- eth1 203.0.113.2
#                          |      203.0.113.1, .254, .253 (three gateways)
#                          |----- r_p2p  ------- eth2 198.18.0.2 peer 198.18.0.1
#                          |      198.18.0.1 peer 198.18.0.2, proxy_arp (step 8)
#                          \----- r_tun  =relay= tun0 198.18.1.2/32 (step 9)
#                                 198.18.1.1 peer 198.18.1.2
#
# host routes mon's network over eth0 throughout; rp_filter=1 everywhere.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd python3
topo_seed
rr_conf_seed
notify_listen

table() { rr_table "$1" -4; }
defaults() { in_ns host ip -4 route show default | rr_norm; }
# route_get DST [ARGS...]: the route host picks for DST with ARGS, first line.
route_get() {
	local dst=$1
	shift
	in_ns host ip -4 route get "$dst" "$@" | head -n 1 | rr_norm
}
dry_status() { rr --dry-run 2>/dev/null | sed -n '/^# status$/{n;p;}'; }

# More gateways on rtr's public link, all of them really forwarding.
for gw in 203.0.113.254 203.0.113.253; do
	ip -n "$NS_RTR" addr add "$gw/24" dev r_pub || fail "rtr address $gw"
done

RULES1=$(rr_want_rules "eth1 0x1 100")
# eth1's own prefix, the only one in table 100 (no other interface's).
CONNECTED=$(rr_want_table4 eth1 203.0.113.2 "" 203.0.113.0/24)
# table100 GW: table 100 with the default via GW.
table100() { rr_want_table4 eth1 203.0.113.2 "$1" 203.0.113.0/24; }
# works DESC: ping and TCP from mon to eth1's address get their answers.
works() {
	expect_ok "$1: ping to eth1 works" ping_ok mon "$HOST_ETH1_ADDR"
	expect_ok "$1: TCP to eth1 works" tcp_ok mon host "$HOST_ETH1_ADDR" 21
}
# marked_via DESC GW: a marked reply from eth1's address to mon leaves via GW.
marked_via() {
	expect_ok "$1: marked replies leave via $2" eval \
		"route_get $MON_ADDR from $HOST_ETH1_ADDR mark 0x1 | grep -q ' via $2 dev eth1 table 100 '"
}

# 1. The problem is real; the daemon learns the gateway from main.
expect_ok "before: ping to eth1 fails" ping_fails mon "$HOST_ETH1_ADDR"
rr_start -v
expect_ok "READY=1, gateway learned from main" poll 5 notified_exactly \
	"READY=1 | STATUS=eth1: 203.0.113.2 via 203.0.113.1, table 100; nft table owned"
expect_eq "rules, exactly" "$RULES1" "$(rr_rules -4)"
expect_eq "table 100 with the learned gateway" "$(table100 203.0.113.1)" "$(table 100)"
works "learned gateway"

# 2. DHCP renews with another router.
ip -n "$NS_HOST" route del default via 203.0.113.1 dev eth1 || fail "delete old default"
ip -n "$NS_HOST" route replace default via 203.0.113.254 dev eth1 proto dhcp metric 100 ||
	fail "DHCP default"
converge "DHCP renew: table 100's default follows to .254" "$(table100 203.0.113.254)" table 100
expect_ok "DHCP renew: STATUS" poll 5 notify_status_is "eth1: 203.0.113.2 via 203.0.113.254, table 100; nft table owned"
marked_via "DHCP renew" 203.0.113.254
works "DHCP renew"
# The same in place: one RTM_NEWROUTE that replaces, no deletion.
ip -n "$NS_HOST" route replace default via 203.0.113.1 dev eth1 proto dhcp metric 100 ||
	fail "DHCP default in place"
expect_eq "(main: one default)" "default via 203.0.113.1 dev eth1 proto dhcp metric 100" "$(defaults)"
converge "DHCP renew in place: table 100's default follows to .1" "$(table100 203.0.113.1)" table 100
works "DHCP renew in place"
ip -n "$NS_HOST" route replace default via 203.0.113.254 dev eth1 proto dhcp metric 100 ||
	fail "DHCP default in place"
converge "DHCP renew in place: and back to .254" "$(table100 203.0.113.254)" table 100

# 3. Metrics: the lowest wins, whichever route carries it.
ip -n "$NS_HOST" route add default via 203.0.113.253 dev eth1 proto static metric 50 ||
	fail "default via .253 metric 50"
converge "lower metric appears (.253 50 < .254 100): it wins" \
	"$(table100 203.0.113.253)" table 100
marked_via "metric 50 via .253" 203.0.113.253
works "metric 50 via .253"
ip -n "$NS_HOST" route add default via 203.0.113.254 dev eth1 proto dhcp metric 10 ||
	fail "default via .254 metric 10"
ip -n "$NS_HOST" route del default via 203.0.113.254 dev eth1 metric 100 ||
	fail "delete default via .254 metric 100"
expect_eq "(main: .254 metric 10, .253 metric 50)" \
	"default via 203.0.113.254 dev eth1 proto dhcp metric 10
default via 203.0.113.253 dev eth1 proto static metric 50" "$(defaults)"
converge "metrics swapped (.254 10 < .253 50): .254 wins" "$(table100 203.0.113.254)" table 100
marked_via "metric 10 via .254" 203.0.113.254
works "metric 10 via .254"
ip -n "$NS_HOST" route del default via 203.0.113.254 dev eth1 metric 10 ||
	fail "delete default via .254 metric 10"
converge "winner deleted: the next lowest (.253) takes over" "$(table100 203.0.113.253)" table 100
works "back to .253"

# 4. Defaults that are not candidates: through another device, in another
#    table, not unicast. None of them changes table 100, even with metric 1.
ip -n "$NS_HOST" route add default via 192.0.2.1 dev eth0 metric 1 || fail "default via eth0"
ip -n "$NS_HOST" route add default via 203.0.113.254 dev eth1 table 300 metric 1 ||
	fail "default via eth1 in table 300"
ip -n "$NS_HOST" route add unreachable default metric 2 || fail "unreachable default"
rr_barrier
expect_eq "defaults via eth0, in table 300, unreachable: ignored" \
	"$(table100 203.0.113.253)" "$(table 100)"
expect_ok "ignored defaults: STATUS unchanged" \
	notify_status_is "eth1: 203.0.113.2 via 203.0.113.253, table 100; nft table owned"
works "ignored defaults"
ip -n "$NS_HOST" route del default via 192.0.2.1 dev eth0 metric 1
ip -n "$NS_HOST" route del default table 300
ip -n "$NS_HOST" route del unreachable default metric 2

# 5. No default route through eth1 at all: table 100 keeps eth1's prefix only
#    and STATUS says "no gateway". The rules stay (eth1 has its address),
#    so a marked reply to mon finds nothing in table 100 and falls through to
#    main, which sends it out eth0: ordinary routing, so mon gets no answer
#    (host's rp_filter already drops the request, which comes in on eth1).
ip -n "$NS_HOST" route del default via 203.0.113.253 dev eth1 metric 50 ||
	fail "delete the last default via eth1"
expect_eq "(no default left in main)" "" "$(defaults)"
converge "no gateway: table 100 holds eth1's prefix only" "$CONNECTED" table 100
expect_eq "no gateway: the rules stay" "$RULES1" "$(rr_rules -4)"
expect_ok "no gateway: STATUS says so" poll 5 notify_status_is "eth1: 203.0.113.2 no gateway, table 100; nft table owned"
expect_eq "no gateway: --dry-run's status says so" "eth1: 203.0.113.2 no gateway, table 100" \
	"$(dry_status)"
expect_ok "no gateway: a marked reply to mon falls through to main (eth0)" eval \
	"route_get $MON_ADDR from $HOST_ETH1_ADDR mark 0x1 | grep -v ' table ' | grep -q ' via 192.0.2.1 dev eth0 '"
expect_ok "no gateway: a marked reply on the link still uses table 100" eval \
	"route_get 203.0.113.254 from $HOST_ETH1_ADDR mark 0x1 | grep -q ' dev eth1 table 100 '"
expect_ok "no gateway: ping from mon fails" ping_fails mon "$HOST_ETH1_ADDR"
expect_ok "no gateway: TCP from mon fails" tcp_fails mon host "$HOST_ETH1_ADDR" 21
expect_ok "no gateway: management still works" tcp_ok mon host "$HOST_ETH0_ADDR" 22

# 6. The gateway returns.
ip -n "$NS_HOST" route add default via 203.0.113.1 dev eth1 proto dhcp metric 100 ||
	fail "default via .1 back"
converge "gateway back: table 100 converged" "$(table100 203.0.113.1)" table 100
expect_ok "gateway back: STATUS" poll 5 notify_status_is "eth1: 203.0.113.2 via 203.0.113.1, table 100; nft table owned"
works "gateway back"

# 7. A /32 lease with the gateway outside it: onlink. Deleting the /24 drops
#    main's default silently (and table 100's routes with that source).
ip -n "$NS_HOST" addr del 203.0.113.2/24 dev eth1 || fail "delete the /24"
ip -n "$NS_HOST" addr add 203.0.113.2/32 dev eth1 || fail "add the /32"
ip -n "$NS_HOST" route add default via 203.0.113.1 dev eth1 onlink proto dhcp metric 100 ||
	fail "onlink default"
converge "/32 lease: onlink default, no connected route for a /32" \
	"default via 203.0.113.1 dev eth1 proto 205 src 203.0.113.2 onlink" table 100
# The STATUS before the change already says this: a barrier first, so that
# it is the STATUS of the reconciles that followed the change.
rr_barrier
expect_ok "/32 lease: STATUS" poll 5 notify_status_is "eth1: 203.0.113.2 via 203.0.113.1, table 100; nft table owned"
marked_via "/32 lease" 203.0.113.1
works "/32 lease"
ip -n "$NS_HOST" addr del 203.0.113.2/32 dev eth1 || fail "delete the /32"
ip -n "$NS_HOST" addr add 203.0.113.2/24 dev eth1 || fail "the /24 back"
ip -n "$NS_HOST" route add default via 203.0.113.1 dev eth1 proto dhcp metric 100 ||
	fail "default via .1 back"
converge "/24 back: onlink dropped" "$(table100 203.0.113.1)" table 100

# 8. A point-to-point link without a gateway: eth2 has a peer address and no
#    default route in main. eth2 is a veth, so host ARPs for mon on it: rtr
#    answers (proxy_arp), as a p2p peer takes anything.
veth rtr r_p2p host eth2
sysctl_set rtr net.ipv4.conf.r_p2p.rp_filter 1
sysctl_set rtr net.ipv4.conf.r_p2p.proxy_arp 1
sysctl_set host net.ipv4.conf.eth2.rp_filter 1
ip -n "$NS_RTR" addr add 198.18.0.1 peer 198.18.0.2/32 dev r_p2p || fail "r_p2p address"
ip -n "$NS_HOST" addr add 198.18.0.2 peer 198.18.0.1/32 dev eth2 || fail "eth2 address"
expect_ok "p2p, untracked: ping to eth2 fails" ping_fails mon 198.18.0.2
cat >>"$CONF" <<EOF

[Interface]
Name=eth2
Table=101
Mark=0x2
EOF
notify_mark
kill -HUP "$RR_PID"
P2P_STATUS="eth1: 203.0.113.2 via 203.0.113.1, table 100; eth2: 198.18.0.2 point-to-point, table 101"
expect_ok "p2p: READY=1 after the reload, STATUS says point-to-point" poll 5 notified_exactly \
	"READY=1 | STATUS=$P2P_STATUS; nft table owned"
expect_eq "p2p: the rules of both" "$(rr_want_rules "eth1 0x1 100" "eth2 0x2 101")" "$(rr_rules -4)"
converge "p2p: table 101 has default dev eth2, scope link, and eth2's peer route" \
	"default dev eth2 proto 205 scope link src 198.18.0.2
198.18.0.1 dev eth2 proto 205 scope link src 198.18.0.2" table 101
expect_eq "p2p: table 100 unchanged (no route of eth2)" "$(table100 203.0.113.1)" "$(table 100)"
expect_eq "p2p: no default via eth2 in main" "default via 203.0.113.1 dev eth1 proto dhcp metric 100" \
	"$(defaults)"
expect_eq "p2p: src_valid_mark=1 on eth2" 1 "$(sysctl_get host net.ipv4.conf.eth2.src_valid_mark)"
# rtr routes 198.18.0.2 over r_p2p only and drops (rp_filter) a reply with that
# source on any other link: an answer proves the reply left through eth2.
expect_ok "p2p: ping to eth2 works" ping_ok mon 198.18.0.2
expect_ok "p2p: TCP to eth2 works" tcp_ok mon host 198.18.0.2 21
expect_ok "p2p: eth1 still works" tcp_ok mon host "$HOST_ETH1_ADDR" 21

# 9. A real point-to-point device: tun0 (POINTOPOINT, NOARP) with a /32 and no
#    peer address. A relay holds tun0 on host and r_tun on rtr open and copies
#    packets between them: a wire, with carrier while the relay runs.
cat >"$T/tun-relay.py" <<'PY'
import ctypes, fcntl, os, select, struct, sys

libc = ctypes.CDLL(None, use_errno=True)

def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    # TUNSETIFF, IFF_TUN | IFF_NO_PI
    fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH", name.encode(), 0x0001 | 0x1000))
    return fd

a = tun(sys.argv[1])  # in the namespace the relay was started in
ns = os.open("/run/netns/" + sys.argv[2], os.O_RDONLY)
if libc.setns(ns, 0x40000000) != 0:  # CLONE_NEWNET
    sys.exit("setns: " + os.strerror(ctypes.get_errno()))
b = tun(sys.argv[3])
print("ready", flush=True)
peer = {a: b, b: a}
while True:
    for fd in select.select([a, b], [], [])[0]:
        data = os.read(fd, 65535)
        try:
            os.write(peer[fd], data)
        except OSError:  # the other end is down: the packet is lost, as on a wire
            pass
PY
start_bg host python3 "$T/tun-relay.py" tun0 "$NS_RTR" r_tun
poll 5 grep -qx ready "$BG_LOG" || fail "tun relay did not start"
ip -n "$NS_HOST" link set tun0 up || fail "tun0 up"
ip -n "$NS_RTR" link set r_tun up || fail "r_tun up"
# No operstate on tun devices ("state UNKNOWN"): check the flags only.
tun_up() { ip -n "$(ns_name "$1")" -o link show dev "$2" | grep -q '[<,]UP,LOWER_UP[,>]'; }
poll 5 tun_up host tun0 || fail "tun0 has no carrier"
poll 5 tun_up rtr r_tun || fail "r_tun has no carrier"
sysctl_set rtr net.ipv4.conf.r_tun.rp_filter 1
sysctl_set host net.ipv4.conf.tun0.rp_filter 1
ip -n "$NS_RTR" addr add 198.18.1.1 peer 198.18.1.2/32 dev r_tun || fail "r_tun address"
ip -n "$NS_HOST" addr add 198.18.1.2/32 dev tun0 || fail "tun0 address"
expect_ok "tun, untracked: ping to tun0 fails" ping_fails mon 198.18.1.2
printf '\n[Interface]\nName=tun0\nTable=102\nMark=0x3\n' >>"$CONF"
notify_mark
kill -HUP "$RR_PID"
expect_ok "tun: READY=1 after the reload, STATUS says point-to-point" poll 5 notified_exactly \
	"READY=1 | STATUS=$P2P_STATUS; tun0: 198.18.1.2 point-to-point, table 102; nft table owned"
converge "tun: table 102 has default dev tun0, no connected route for the /32" \
	"default dev tun0 proto 205 scope link src 198.18.1.2" table 102
expect_eq "tun: the rules of all three" \
	"$(rr_want_rules "eth1 0x1 100" "eth2 0x2 101" "tun0 0x3 102")" "$(rr_rules -4)"
expect_ok "tun: ping to tun0 works" ping_ok mon 198.18.1.2
expect_ok "tun: TCP to tun0 works" tcp_ok mon host 198.18.1.2 21

# 10. SIGTERM: everything goes.
stop_bg "$RR_PID" TERM
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_eq "SIGTERM: no rule left" "" "$(rr_rules -4)"
expect_eq "SIGTERM: table 100 empty" "" "$(table 100)"
expect_eq "SIGTERM: table 101 empty" "" "$(table 101)"
expect_eq "SIGTERM: table 102 empty" "" "$(table 102)"
expect_fail "SIGTERM: nft table removed" rr_nft
expect_eq "SIGTERM: src_valid_mark restored on eth1, eth2, tun0" "0 0 0" "$(
	for i in eth1 eth2 tun0; do sysctl_get host "net.ipv4.conf.$i.src_valid_mark"; done | xargs)"
# Warnings may be: a change that raced with the one the daemon was applying.
expect_eq "no error logged" "" "$(grep -E '^<[0-3]>' "$RR_LOG")"

finish
