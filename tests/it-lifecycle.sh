#!/usr/bin/env bash
# The daemon's life: READY with a per-interface STATUS, SIGHUP with a good and
# a bad config, the watchdog, SIGTERM, and crash safety (SIGKILL, restarts).
# A small listener stands in for the service manager's notify socket.
#
#   mon 198.51.100.10 --- rtr --- eth0 192.0.2.2    host  (default via eth1,
#                             \-- eth1 203.0.113.2         198.51.100/24 via eth0)
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/topo-seed.sh"
need_daemon
need_cmd python3
topo_seed

CONF=$T/replyroute.conf
write_conf() { # TABLE [extra line]
	printf '[Interface]\nName=eth1\nTable=%s\nMark=0x1\nGateway=%s\n%s\n' \
		"$1" "$HOST_ETH1_GW" "${2:-}" >"$CONF"
}
write_conf 100
export RUNTIME_DIRECTORY=$T/run
norm() { sed -E 's/proto replyroute/proto 205/; s/[[:space:]]+$//'; }
our_rules() { in_ns host ip rule show | norm | grep 'proto 205'; }
our_routes() { routes host "$1" -4 | norm | grep 'proto 205'; }
nft_has_table() { in_ns host nft list table inet replyroute >/dev/null 2>&1; }

NOTIFY=$T/notify.sock
start_bg host "$(dirname "$0")/notify-listen.py" "$NOTIFY"
NLOG=$BG_LOG
poll 3 test -S "$NOTIFY" || fail "notify listener did not start"
# Notifications since the last mark (the listener's log only grows).
NMARK=0
mark_notify() { NMARK=$(wc -l <"$NLOG"); }
since_mark() { tail -n +$((NMARK + 1)) "$NLOG"; }
notified() { since_mark | grep -qF -- "$1"; }

start_daemon() {
	local env=(NOTIFY_SOCKET="$NOTIFY")
	[[ -n ${WATCHDOG_USEC:-} ]] && env+=(WATCHDOG_USEC="$WATCHDOG_USEC")
	start_bg host env "${env[@]}" "$REPLYROUTED" -c "$CONF"
	DPID=$BG_PID
	DLOG=$BG_LOG
}

STATUS1="STATUS=eth1: 203.0.113.2 via 203.0.113.1, table 100"
READY1="READY=1 | $STATUS1"

# 1. Start: READY=1 after the first apply, with the per-interface STATUS.
WATCHDOG_USEC=200000 start_daemon
expect_ok "READY=1 with STATUS per interface" poll 5 notified "$READY1"
expect_eq "state is there when READY is sent" \
	"1000:	from all fwmark 0x1/0xff lookup 100 proto 205" "$(our_rules)"
expect_ok "traffic to eth1 works" tcp_ok mon host "$HOST_ETH1_ADDR" 21
expect_ok "WATCHDOG=1 sent when the manager asks for it" poll 3 notified "WATCHDOG=1"

# 2. SIGHUP with a valid new config: RELOADING=1 + MONOTONIC_USEC, apply, READY=1.
write_conf 200
mark_notify
kill -HUP "$DPID"
expect_ok "reload: RELOADING=1 with MONOTONIC_USEC" \
	poll 5 eval "since_mark | grep -qE '^RELOADING=1 \| MONOTONIC_USEC=[0-9]+$'"
expect_ok "reload: READY=1 again" poll 5 notified "READY=1"
expect_ok "reload: STATUS shows table 200" notified "via 203.0.113.1, table 200"
expect_eq "reload: the rule now looks up table 200" \
	"1000:	from all fwmark 0x1/0xff lookup 200 proto 205" "$(our_rules)"
expect_eq "reload: table 100 emptied of our routes" "" "$(our_routes 100)"
expect_eq "reload: table 200 holds them" 3 "$(our_routes 200 | wc -l)"
expect_ok "reload: traffic still works" tcp_ok mon host "$HOST_ETH1_ADDR" 21

# 3. SIGHUP with a bad config: keep serving the old one, say why, READY=1.
printf '[Interface]\nName=eth1\nTable=200\nMark=0\n' >"$CONF"
mark_notify
kill -HUP "$DPID"
expect_ok "bad reload: STATUS=reload failed with FILE:LINE" \
	poll 5 eval "since_mark | grep -qE '^READY=1 \| STATUS=reload failed: $CONF:4: '"
expect_ok "bad reload: error logged with FILE:LINE" grep -q "$CONF:4:" "$DLOG"
expect_fail "bad reload: no RELOADING=1" notified "RELOADING=1"
expect_eq "bad reload: old state kept" \
	"1000:	from all fwmark 0x1/0xff lookup 200 proto 205" "$(our_rules)"
expect_ok "bad reload: daemon alive" kill -0 "$DPID"
expect_ok "bad reload: traffic still works" ping_ok mon "$HOST_ETH1_ADDR"

# 4. SIGTERM: STOPPING=1, everything removed, sysctl restored, exit 0.
write_conf 100
mark_notify
stop_bg "$DPID" TERM
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_ok "SIGTERM: STOPPING=1" notified "STOPPING=1"
expect_eq "SIGTERM: no rule left" "" "$(our_rules)"
expect_eq "SIGTERM: no route left in table 200" "" "$(our_routes 200)"
expect_fail "SIGTERM: nft table removed" nft_has_table
expect_eq "SIGTERM: src_valid_mark restored" 0 "$(sysctl_get host net.ipv4.conf.eth1.src_valid_mark)"

# 5. Crash safety: after SIGKILL a new start converges without touching what
#    is already right: no rtnetlink event, nft table not replaced.
start_daemon
poll 5 notified "$READY1" || fail "daemon did not start"
stop_bg "$DPID" KILL >/dev/null
HANDLES=$(in_ns host nft -a list table inet replyroute)
start_bg host script -qfec "ip monitor rule route" /dev/null
MON_LOG=$BG_LOG
PROBE=0
mon_probe() {
	PROBE=$((PROBE + 1))
	ip -n "$NS_HOST" route add 198.19.2.$PROBE/32 via 192.0.2.1 table 300 &&
		grep -q 198.19.2. "$MON_LOG"
}
poll 3 mon_probe || fail "ip monitor sees nothing"
ip -n "$NS_HOST" route flush table 300 root 198.19.2.0/24
poll 3 grep -q "Deleted 198.19.2.$PROBE" "$MON_LOG" || fail "ip monitor missed the delete"
LINES=$(wc -l <"$MON_LOG")
for i in 1 2 3; do
	mark_notify
	start_daemon
	expect_ok "restart $i after SIGKILL: READY" poll 5 notified "$READY1"
	stop_bg "$DPID" KILL >/dev/null
done
ip -n "$NS_HOST" route add 198.19.3.0/24 via 192.0.2.1 table 300
poll 3 grep -q 198.19.3.0 "$MON_LOG" || fail "ip monitor stopped"
expect_eq "restarts: no rule or route deleted or added" \
	"198.19.3.0/24 via 192.0.2.1 dev eth0 table 300" \
	"$(tail -n +$((LINES + 1)) "$MON_LOG" | tr -d '\r' | norm)"
expect_eq "restarts: nft table not replaced" "$HANDLES" "$(in_ns host nft -a list table inet replyroute)"
expect_eq "restarts: exactly one rule" \
	"1000:	from all fwmark 0x1/0xff lookup 100 proto 205" "$(our_rules)"
expect_ok "restarts: traffic works" tcp_ok mon host "$HOST_ETH1_ADDR" 21

# 6. Leftovers of a run with another config are removed at start.
write_conf 300
start_daemon
expect_ok "start with a new table: READY" poll 5 notified "table 300"
expect_eq "old table's leftovers removed" "" "$(our_routes 100)"
expect_eq "one rule, for the new table" \
	"1000:	from all fwmark 0x1/0xff lookup 300 proto 205" "$(our_rules)"
stop_bg "$DPID" TERM
expect_eq "final SIGTERM: exit 0" 0 "$?"
expect_eq "final SIGTERM: src_valid_mark is the original 0" 0 \
	"$(sysctl_get host net.ipv4.conf.eth1.src_valid_mark)"

finish
