#!/usr/bin/env bash
# The daemon's life: READY with a per-interface STATUS, SIGHUP with a good and
# a bad config, the watchdog, SIGTERM, and crash safety (SIGKILL, restarts).
# A small listener stands in for the service manager's notify socket.
#
#   mon 198.51.100.10 --- rtr --- eth0 192.0.2.2    host  (default via eth1,
#                             \-- eth1 203.0.113.2         198.51.100/24 via eth0)
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd python3
topo_seed

write_conf() { # TABLE [extra line]
	printf '[Interface]\nName=eth1\nTable=%s\nMark=0x1\nGateway=%s\n%s\n' \
		"$1" "$HOST_ETH1_GW" "${2:-}" | rr_conf
}
write_conf 100
our_routes() { rr_table "$1" -4 | grep 'proto 205'; }
notify_listen

STATUS1="STATUS=eth1: 203.0.113.2 via 203.0.113.1, table 100; nft table owned"
READY1="READY=1 | $STATUS1"

# 1. Start: READY=1 after the first apply, with the per-interface STATUS.
rr_start WATCHDOG_USEC=200000
expect_ok "READY=1 with STATUS per interface" poll 5 notified "$READY1"
expect_eq "state is there when READY is sent" \
	"$(rr_want_rules "eth1 0x1 100")" "$(rr_rules -4)"
expect_ok "traffic to eth1 works" tcp_ok mon host "$HOST_ETH1_ADDR" 21
expect_ok "WATCHDOG=1 sent when the manager asks for it" poll 3 notified "WATCHDOG=1"

# 2. SIGHUP with a valid new config: RELOADING=1 + MONOTONIC_USEC, apply, READY=1.
write_conf 200
notify_mark
kill -HUP "$RR_PID"
expect_ok "reload: RELOADING=1 with MONOTONIC_USEC" \
	poll 5 eval "notify_since | grep -qE '^RELOADING=1 \| MONOTONIC_USEC=[0-9]+$'"
expect_ok "reload: READY=1 again" poll 5 notified "READY=1"
expect_ok "reload: STATUS shows table 200" notified "via 203.0.113.1, table 200"
expect_eq "reload: the rule now looks up table 200" \
	"$(rr_want_rules "eth1 0x1 200")" "$(rr_rules -4)"
expect_eq "reload: table 100 emptied of our routes" "" "$(our_routes 100)"
expect_eq "reload: table 200 holds them: the default and eth1's prefix" \
	"$(rr_want_table4 eth1 203.0.113.2 203.0.113.1 203.0.113.0/24)" "$(our_routes 200)"
expect_ok "reload: traffic still works" tcp_ok mon host "$HOST_ETH1_ADDR" 21

# 3. SIGHUP with a bad config: keep serving the old one, say why, READY=1.
printf '[Interface]\nName=eth1\nTable=200\nMark=0\n' | rr_conf
notify_mark
kill -HUP "$RR_PID"
expect_ok "bad reload: STATUS=reload failed with FILE:LINE" \
	poll 5 eval "notify_since | grep -qE '^READY=1 \| STATUS=reload failed: $CONF:4: '"
expect_ok "bad reload: error logged with FILE:LINE" grep -q "$CONF:4:" "$RR_LOG"
expect_fail "bad reload: no RELOADING=1" notified "RELOADING=1"
expect_eq "bad reload: old state kept" \
	"$(rr_want_rules "eth1 0x1 200")" "$(rr_rules -4)"
expect_ok "bad reload: daemon alive" kill -0 "$RR_PID"
expect_ok "bad reload: traffic still works" ping_ok mon "$HOST_ETH1_ADDR"
# The failure stays in STATUS while the old config runs, whatever else changes.
ip -n "$NS_HOST" link set eth1 down
expect_ok "bad reload: STATUS keeps the failure when the interfaces change" \
	poll 5 notify_status_is "reload failed: $CONF:4: Mark=0: must not be zero; running: eth1: link down; nft table owned"
ip -n "$NS_HOST" link set eth1 up
ip -n "$NS_HOST" route replace default via "$HOST_ETH1_GW" dev eth1
poll 5 link_up host eth1 || fail "eth1 did not come back"
expect_ok "bad reload: back up, still says so" \
	poll 5 eval "notify_status | grep -q '^STATUS=reload failed: .*; running: eth1: 203.0.113.2 via'"

# 4. SIGTERM: STOPPING=1, everything removed, sysctl restored, exit 0.
write_conf 100
notify_mark
stop_bg "$RR_PID" TERM
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_ok "SIGTERM: STOPPING=1" notified "STOPPING=1"
expect_eq "SIGTERM: no rule left" "" "$(rr_rules -4)"
expect_eq "SIGTERM: no route left in table 200" "" "$(our_routes 200)"
expect_fail "SIGTERM: nft table removed" rr_nft
expect_eq "SIGTERM: src_valid_mark restored" 0 "$(sysctl_get host net.ipv4.conf.eth1.src_valid_mark)"

# 5. Crash safety: after SIGKILL a new start converges without touching what
#    is already right: no rtnetlink event. The nft table is owned by the
#    daemon's netlink socket: the kernel removes it with the process, and
#    each start installs it again.
rr_start
poll 5 notified "$READY1" || fail "daemon did not start"
stop_bg "$RR_PID" KILL >/dev/null
mon_start
mon_mark
for i in 1 2 3; do
	notify_mark
	rr_start
	expect_ok "restart $i after SIGKILL: READY" poll 5 notified "$READY1"
	expect_ok "restart $i: the nft table is back, owned" rr_nft_owned
	stop_bg "$RR_PID" KILL >/dev/null
	expect_fail "restart $i: SIGKILL took the owned nft table along" rr_nft
done
mon_sync
expect_eq "restarts: no rule or route deleted or added" "" "$(mon_ip_events)"
expect_eq "restarts: exactly the rules of eth1" \
	"$(rr_want_rules "eth1 0x1 100")" "$(rr_rules -4)"
notify_mark
rr_start
poll 5 notified "$READY1" || fail "daemon did not start again"
expect_ok "restarts: traffic works" tcp_ok mon host "$HOST_ETH1_ADDR" 21
stop_bg "$RR_PID" KILL >/dev/null

# 6. Leftovers of a run with another config are removed at start.
write_conf 300
rr_start
expect_ok "start with a new table: READY" poll 5 notified "table 300"
expect_eq "old table's leftovers removed" "" "$(our_routes 100)"
expect_eq "the rules of eth1, for the new table" \
	"$(rr_want_rules "eth1 0x1 300")" "$(rr_rules -4)"
stop_bg "$RR_PID" TERM
expect_eq "final SIGTERM: exit 0" 0 "$?"
expect_eq "final SIGTERM: src_valid_mark is the original 0" 0 \
	"$(sysctl_get host net.ipv4.conf.eth1.src_valid_mark)"

finish
