#!/usr/bin/env bash
# Two IPv6 routers on eth1 (issue 9, item 1): both advertise themselves with
# radvd, one with preference high, one low; the host accepts their router
# advertisements. Table 100 must carry both defaults, each with its preference
# and lifetime (distinct metrics, best first), so that when the preferred
# router dies silently, marked traffic fails over to the other one exactly as
# the kernel fails unmarked traffic over in main. Before, table 100 held one
# default only: marked connections stayed broken for the router's lifetime
# (seen here with that code: not within 30 s; and the host's own connections
# broke again too, as the marked packets still sent to r1 kept its neighbour
# entry from staying FAILED).
#
#          core 2001:db8:100::/64                 LAN 2001:db8:113::/64
#   mon ------ br1 --+-- r1_core ::1  r1  r1_lan ::1, fe80::1 --+-- br0 ------ eth1  host
#   ::10             |   radvd: pref high, lifetime 1800 s      |             ::2/64
#   default via ::2  +-- r2_core ::2  r2  r2_lan ::3, fe80::2 --+             accept_ra=1
#   (r2)                 radvd: pref low, lifetime 1800 s
#                    (the bridges br0 and br1: namespace sw)
#
# mon's packets to the host always come through r2 (mon's default). The
# host's answers go by its routes: marked ones (replies of connections that
# came in on eth1) by table 100, unmarked ones (the host's own connections
# to mon) by main; both prefer r1 (pref high) while it lives. Then r1 dies
# silently (it drops everything on its LAN side: no farewell advertisement,
# the host's link stays up), and connections of one kind are tried again and
# again until one works: the kernel gives up on r1 when its neighbour entry
# fails (router reachability, RFC 4191) and uses r2. First unmarked ones (the
# kernel alone, main), then, r1 alive and dead again, marked ones. The times
# are printed; the bound (30 s) is generous. The host's neighbour entries stay
# REACHABLE for 1-3 s after a confirmation (base_reachable_time 2 s instead of
# 30 s: 15-45 s would make the figures depend on chance), then the kernel's
# defaults: DELAY 5 s, 3 probes 1 s apart; about 9 s in all.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd radvd
BOUND=30
PORT=21         # mon -> host: marked
OUT_PORT=2121   # host -> mon: unmarked

HOST6=2001:db8:113::2
MON6=2001:db8:100::10
NS_HOST=$(ns_name host)
ns_add host
ns_add mon
ns_add r1
ns_add r2
ns_add sw

# The switch: two bridges, no IPv6 of its own.
sysctl_set sw net.ipv6.conf.all.disable_ipv6 1
sysctl_set sw net.ipv6.conf.default.disable_ipv6 1
bridge_add sw br0
bridge_add sw br1
# port NS IF SWPORT BRIDGE: a veth from NS's IF to the switch's SWPORT on BRIDGE.
port() { bridge_port "$1" "$2" sw "$4" "$3"; }

# Routers: forwarding; on the LAN side no automatic link-local address
# (radvd advertises from the one given, fe80::N); on the core side one (a
# router needs one to resolve its neighbours).
port host eth1 s_host br0
for n in 1 2; do
	sysctl_set "r$n" net.ipv6.conf.all.forwarding 1
	sysctl_set "r$n" net.ipv6.conf.default.addr_gen_mode 1
	port "r$n" "r${n}_lan" "s_r$n" br0
	sysctl_set "r$n" net.ipv6.conf.default.addr_gen_mode 0
done
port mon mon0 c_mon br1
port r1 r1_core c_r1 br1
port r2 r2_core c_r2 br1

# No DAD (ns_add): usable at once.
addrs_add <<EOF
host eth1    $HOST6/64
mon  mon0    $MON6/64
r1   r1_core 2001:db8:100::1/64
r1   r1_lan  2001:db8:113::1/64
r1   r1_lan  fe80::1/64
r2   r2_core 2001:db8:100::2/64
r2   r2_lan  2001:db8:113::3/64
r2   r2_lan  fe80::2/64
EOF
for a in "host $HOST6" "mon $MON6" "r1 fe80::1" "r2 fe80::2"; do
	# shellcheck disable=SC2086 # NS and ADDR
	poll 5 addr_ready $a || fail "$a not usable"
done
ip -n "$(ns_name mon)" -6 route add default via 2001:db8:100::2 || fail "mon's default via r2"
sysctl_set host net.ipv6.neigh.eth1.base_reachable_time_ms 2000
expect_eq "host accepts router advertisements on eth1 (not forwarding)" 1 \
	"$(sysctl_get host net.ipv6.conf.eth1.accept_ra)"

# radvd ROUTER PREF: advertise router ROUTER (r1, r2) with preference PREF,
# every 3-4 s, router lifetime 1800 s, no prefix (the host's address is
# static). Waits until host has its default route.
radvd_start() {
	cat >"$T/radvd-$1.conf" <<-EOF
		interface $1_lan {
			AdvSendAdvert on;
			MinRtrAdvInterval 3;
			MaxRtrAdvInterval 4;
			AdvDefaultLifetime 1800;
			AdvDefaultPreference $2;
		};
	EOF
	start_bg "$1" radvd -n -m stderr -C "$T/radvd-$1.conf" -p "$T/radvd-$1.pid"
	poll 10 eval "in_ns host ip -6 route show default | grep -q '^default via fe80::${1#r} dev eth1 proto ra '" ||
		fail "no default route from $1's advertisement"
}
# r1 first: a daemon that copies one default copies r1's, the one that dies.
radvd_start r1 high
radvd_start r2 low
defaults() { in_ns host ip -6 route show default | rr_norm | sed -E 's/ hoplimit [0-9]+//'; }
expect_eq "main: both advertised defaults, with their preference and lifetime" \
	"default via fe80::1 dev eth1 proto ra metric 1024 expires Nsec pref high
default via fe80::2 dev eth1 proto ra metric 1024 expires Nsec pref low" "$(defaults)"

# 1. replyroute: both routers in table 100, best first, distinct metrics.
rr_conf_seed
rr_start -v
TABLE6="2001:db8:113::/64 dev eth1 proto 205 src $HOST6 metric 1024 pref medium
default via fe80::1 dev eth1 proto 205 src $HOST6 metric 1024 expires Nsec pref high
default via fe80::2 dev eth1 proto 205 src $HOST6 metric 1025 expires Nsec pref low"
converge "table 100: eth1's prefix, both routers with pref and lifetime, high first" \
	"$TABLE6" rr_table 100 -6
expect_eq "IPv6 rules of eth1, no IPv4 rule (eth1 has no IPv4 address)" \
	"$(rr_want_rules "eth1 0x1 100")" "$(rr_rules)"
# route_get: the route a marked reply from eth1's address to mon takes.
route_get() { in_ns host ip -6 route get "$MON6" from "$HOST6" mark 0x1 | head -n 1 | rr_norm; }
expect_ok "marked replies go via r1 (pref high), table 100" \
	eval "route_get | grep -q ' via fe80::1 dev eth1 table 100 '"

marked() { tcp_ok mon host "$HOST6" "$PORT"; }
unmarked() { tcp_ok host mon "$MON6" "$OUT_PORT"; }
expect_ok "both routers up: TCP mon -> host (marked) works" marked
expect_ok "both routers up: TCP host -> mon (unmarked) works" unmarked

# r1_dies: r1 goes silent on the LAN: everything in or out of r1_lan dropped
# (advertisements, neighbour discovery, forwarding); the link stays up.
# r1_lives: back.
r1_dies() {
	in_ns r1 nft -f - <<-EOF || fail "r1's drop table"
		table inet dead {
			chain in { type filter hook prerouting priority raw; policy accept; iifname "r1_lan" drop; }
			chain out { type filter hook postrouting priority raw; policy accept; oifname "r1_lan" drop; }
		}
	EOF
}
r1_lives() { in_ns r1 nft delete table inet dead || fail "r1's drop table delete"; }

# failover KIND: r1 dies; then KIND connections are tried (1 s each) until
# one works, at most BOUND seconds. FAILOVER: when the first worked, counted
# from r1's death ("after N ms", or "not within BOUND s"). Only KIND is tried:
# the other kind would probe r1's neighbour entry too and blur the figure.
failover() {
	local t0
	r1_dies
	_rr_now
	t0=$_rr_us_now
	FAILOVER="not within $BOUND s"
	while _rr_now && (((_rr_us_now - t0) / 1000000 < BOUND)); do
		if RR_OK_TIMEOUT=1 "$1" >/dev/null; then
			_rr_now
			FAILOVER="after $(((_rr_us_now - t0) / 1000)) ms"
			return 0
		fi
	done
	return 1
}
# via_r1: marked replies (table 100) and unmarked packets (main) to mon both
# take r1 again.
via_r1() {
	route_get | grep -q ' via fe80::1 dev eth1 table 100 ' &&
		in_ns host ip -6 route get "$MON6" | grep -q ' via fe80::1 dev eth1 '
}

# 2. The kernel alone: r1 dies, the host's own (unmarked) connections to mon
# go by main, whose defaults the kernel installed itself.
expect_ok "r1 dead: unmarked connections (main) work again within ${BOUND}s" failover unmarked
diag <<<"r1 dead: unmarked connections (main, the kernel alone) worked again $FAILOVER"
expect_ok "r1 dead: unmarked packets go via r2" \
	eval "in_ns host ip -6 route get $MON6 | grep -q ' via fe80::2 dev eth1 '"
r1_lives
# Its next advertisement makes the host's neighbour entry usable again.
expect_ok "r1 back: marked and unmarked packets take r1 again" poll 15 via_r1
expect_ok "r1 back: TCP mon -> host (marked) works" marked

# 3. Marked connections: mon's connections to the host go by table 100.
expect_ok "r1 dead again: marked connections (table 100) work again within ${BOUND}s" \
	failover marked
diag <<<"r1 dead again: marked connections (table 100) worked again $FAILOVER"
expect_ok "r1 dead again: marked replies go via r2, table 100" \
	eval "route_get | grep -q ' via fe80::2 dev eth1 table 100 '"
expect_eq "r1 dead again: table 100 unchanged (the kernel keeps r1's route until its lifetime ends)" \
	"$TABLE6" "$(rr_table 100 -6)"
expect_ok "r1 dead again: TCP host -> mon (unmarked) works" unmarked

# 4. SIGTERM: everything goes.
stop_bg "$RR_PID" TERM
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_eq "SIGTERM: no rule left" "" "$(rr_rules)"
expect_eq "SIGTERM: table 100 empty" "" "$(rr_table 100)"
expect_eq "no error logged" "" "$(grep -E '^<[0-3]>' "$RR_LOG")"

finish
