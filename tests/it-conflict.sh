#!/usr/bin/env bash
# "Never silently wrong": what the daemon does when something else works
# against it, and that it says so. Topology: tests/topo-seed.sh.
#
#   +---- mon ----+      +------------- rtr --------------+
#   | mon0        |      | r_mon 198.51.100.1/24          |
#   | .10/24      +------+ r_mgmt 192.0.2.1/24            |
#   | dflt via .1 |      |          r_pub 203.0.113.1/24  |
#   +-------------+      +------+-------------------+-----+
#                               |                   |
#                        +------+------ host -------+-----------------+
#                        | eth0 192.0.2.2/24   eth1 203.0.113.2/24    |
#                        | 198.51.100/24 via 192.0.2.1 dev eth0       |
#                        | default via 203.0.113.1 dev eth1 (learned) |
#                        | 203.0.113.9: nobody (a foreign gateway)    |
#                        +--------------------------------------------+
#
# Config: eth1, table 100, mark 0x1, no Gateway= (learned from main).
# A daemon of its own for each part (a fresh STATUS and removal count):
#   1. src_valid_mark reset behind the daemon's back (no netlink event for
#      that): set again on the watchdog tick, logged as drift; WATCHDOG=1.
#   2. Our rule deleted in a loop by another process: named in the log with
#      the known fix, re-adds held back (few "rule added" lines), in STATUS;
#      back once the loop stops; traffic works.
#   3. A foreign route with our key in table 100: left alone, warned once, in
#      STATUS; once it is gone, ours is back and STATUS clean.
#   4. One instance: a second daemon, --once, --cleanup exit 3 and change
#      nothing; --dry-run and --check still work beside it.
#   5. Netlink messages from a process, not the kernel, sent to rtnetlink's
#      multicast groups: ignored (debug log), no reconcile, no removal counted.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd python3
topo_seed
rr_conf_seed
notify_listen

# Polls that wait for the daemon get generous timeouts: CI also runs this with
# the daemon under valgrind, on a loaded machine.
WAIT=15
PORT=21
RULE="priority 1000 fwmark 0x1/0xff lookup 100 proto 205"
TABLE100=$(rr_want_table4 eth1 203.0.113.2 203.0.113.1 203.0.113.0/24)
STATUS_OK="eth1: 203.0.113.2 via 203.0.113.1, table 100; nft table owned"

converged() { rr_converged "$TABLE100"; }

# start [VAR=VALUE...] [ARG...]: a fresh daemon, ready and converged.
start() {
	notify_mark
	rr_start "$@"
	poll "$WAIT" notified READY=1 || fail "the daemon did not get ready"
	poll "$WAIT" converged || fail "the daemon did not converge"
	# The log lines of this daemon only, from here on.
	LOG_MARK=0
}

# stop WHAT: SIGTERM; exit status 0 (under valgrind: no error, no leak), and
# nothing of ours left in host.
stop() {
	stop_bg "$RR_PID" TERM 20
	expect_eq "$1: SIGTERM: exit status 0" 0 "$?"
	expect_eq "$1: nothing of ours left" "" \
		"$(rr_rules; rr_table 100 | grep 'proto 205'; rr_nft 2>/dev/null)"
	expect_eq "$1: src_valid_mark restored to 0" 0 "$(svm)"
}

# log_mark: log_since shows the daemon's lines after this point.
log_mark() { LOG_MARK=$(wc -l <"$RR_LOG"); }
log_since() { tail -n +$((LOG_MARK + 1)) "$RR_LOG"; }

# traffic WHAT: mon reaches eth1's address with ping and TCP (the replies
# must leave through eth1: only replyroute's rule and table make that so).
traffic() {
	expect_ok "$1: ping mon -> $HOST_ETH1_ADDR" ping_ok mon "$HOST_ETH1_ADDR"
	expect_ok "$1: TCP mon -> $HOST_ETH1_ADDR" tcp_ok mon host "$HOST_ETH1_ADDR" "$PORT"
}

svm() { sysctl_get host net.ipv4.conf.eth1.src_valid_mark; }
svm_is() { [[ $(svm) == "$1" ]]; }

# ---------------------------------------------------------------------------
# 1. Drift of src_valid_mark. WATCHDOG_USEC=1000000 without WATCHDOG_PID: the
# watchdog is on, the tick every 0.5 s; it pings and looks at the sysctl.
start WATCHDOG_USEC=1000000
# shellcheck disable=SC2016 # expanded by eval
expect_ok "1: WATCHDOG=1 sent, again and again" \
	poll "$WAIT" eval '[ "$(notify_since | grep -cxF WATCHDOG=1)" -ge 2 ]'
log_mark
in_ns host sysctl -q -w net.ipv4.conf.eth1.src_valid_mark=0 || fail "1: sysctl -w"
# Nothing notifies that write: without the tick it would stay 0 for 30 s.
expect_ok "1: src_valid_mark reset to 0 behind its back: 1 again" poll "$WAIT" svm_is 1
expect_ok "1: logged as drift, at warning level" \
	poll "$WAIT" eval "log_since | grep -qxF '<4>sysctl net.ipv4.conf.eth1.src_valid_mark was reset to 0 by someone else (drift), set to 1 again'"
expect_ok "1: converged after the drift" converged
stop 1

# ---------------------------------------------------------------------------
# 2. Someone deletes our rule in a loop. The first two removals are answered
# at once, then the re-add is held back 100 ms, doubling (30 s at most): the
# removals come at 0, 0, 0.1, 0.3, 0.7, 1.5, 3.1 s, so a storm of ~2 s makes
# 6 of them and the hold after the last is 0.8 s (7 and 1.6 s if it runs
# past 2.3 s on a slow machine). Measured: 6-7 removals, the rule back 0.15-
# 2.3 s after the storm; the poll allows 35 s, past the 30 s maximum.
#
# The remover is one "ip -force -batch -" that lives through the storm and
# the checks, like a network manager would: the daemon names a remover by
# /proc/PID/comm when the notification arrives, and a process that has exited
# by then can only be named "netlink port N". With one short-lived "ip rule
# del" per deletion that race is lost now and then (seen with the daemon
# under valgrind: "was removed by netlink port 14265 (1 time)"), which would
# make the naming checks flaky. The storm stops by itself: rounds of 200
# deletions written to the remover, at most 2000 rounds, until 2 s have passed
# (a full pipe holds the writer back to ip's pace).
start
log_mark
mkfifo "$T/remover" || fail "2: mkfifo"
ip -n "$NS_HOST" -force -batch - <"$T/remover" >/dev/null 2>&1 &
REMOVER=$!
_rr_pids+=("$REMOVER")
exec 7>"$T/remover"
storm() {
	local round t0=${EPOCHREALTIME/./}
	for round in $(seq 2000); do
		printf 'rule del priority 1000 fwmark 0x1/0xff lookup 100\n%.0s' $(seq 200) >&7 ||
			fail "2: the remover is gone"
		((${EPOCHREALTIME/./} - t0 >= 2000000)) && break
	done
	STORM_ROUNDS=$round
	STORM_USEC=$((${EPOCHREALTIME/./} - t0))
}
storm
STORM_END=${EPOCHREALTIME/./}
diag "storm: $STORM_ROUNDS rounds of 200 deletions in $((STORM_USEC / 1000)) ms"
expect_ok "2: rule back after the storm (within the hold, at most 30 s)" poll 35 converged
BACK_MS=$(((${EPOCHREALTIME/./} - STORM_END) / 1000))
diag "the rule was back $BACK_MS ms after the storm"
expect_ok "2: the remover is named in a warning, with the known fix" \
	eval "log_since | grep -qE '^<4>rule $RULE of replyroute was removed by ip\[$REMOVER\] \(.*ManageForeignRoutingPolicyRules=no'"
expect_eq "2: every removal warning names ip[$REMOVER]" "" \
	"$(log_since | grep 'was removed by' | grep -vF "was removed by ip[$REMOVER] (")"
ADDED=$(log_since | grep -c "rule added: $RULE")
diag "\"rule added\" lines during the storm: $ADDED"
expect_ok "2: re-adds held back: few \"rule added\" lines (2 <= $ADDED < 30)" \
	test "$ADDED" -ge 2 -a "$ADDED" -lt 30
expect_ok "2: STATUS names the conflict, the count and the remover" \
	poll "$WAIT" eval "notify_status | grep -qE '; conflict: rule $RULE removed [0-9]+ times by ip\[$REMOVER\]'"
diag "removals: $(notify_status | sed -nE 's/.* removed ([0-9]+) times .*/\1/p')"
exec 7>&-
wait_bg "$REMOVER" 5 >/dev/null
expect_ok "2: the remover has ended" _rr_gone "$REMOVER"
traffic 2
stop 2

# ---------------------------------------------------------------------------
# 3. A foreign route (proto static) replaces ours in table 100: same key
# (default, metric 0), another gateway. replyroute leaves foreign routes
# alone: it says so once, and keeps it in STATUS while it stands.
start
log_mark
ip -n "$NS_HOST" route replace default via 203.0.113.9 dev eth1 table 100 proto static ||
	fail "3: foreign route"
FOREIGN="default via 203.0.113.9 dev eth1 proto static"
WARN="conflict: route default via 203.0.113.9"
expect_ok "3: warned: $WARN ..." poll "$WAIT" eval "log_since | grep -q '^<4>$WARN '"
expect_ok "3: STATUS: conflict: foreign route default via 203.0.113.9" \
	poll "$WAIT" eval "notify_status | grep -qF '; conflict: foreign route default via 203.0.113.9 '"
# Unrelated reconciles: each barrier adds and removes a route of ours.
rr_barrier
rr_barrier
rr_barrier
expect_eq "3: warned once, not on every reconcile" 1 "$(log_since | grep -c "$WARN")"
expect_eq "3: the foreign route is left alone" "$FOREIGN" \
	"$(rr_table 100 -4 | grep '^default')"
expect_ok "3: STATUS still names it" \
	eval "notify_status | grep -qF 'conflict: foreign route default via 203.0.113.9 '"
ip -n "$NS_HOST" route del default table 100 proto static || fail "3: route del"
expect_ok "3: foreign route gone: ours is back" poll "$WAIT" converged
expect_ok "3: STATUS without the conflict" poll "$WAIT" notify_status_is "$STATUS_OK"
expect_ok "3: the end of the conflict is logged" \
	eval "log_since | grep -q 'conflict resolved'"
traffic 3

# ---------------------------------------------------------------------------
# 4. One instance per runtime directory ($RUNTIME_DIRECTORY, exported by
# rr.sh): with the daemon of part 3 running, another daemon, --once and
# --cleanup refuse with exit status 3 and touch nothing.
mon_start
mon_mark
HANDLES=$(rr_nft -a)
second() { # WHAT ARG...: run replyrouted beside the daemon, at most 30 s
	local what=$1 rc out=$T/second.out t0=${EPOCHREALTIME/./}
	shift
	in_ns host timeout 30 "$REPLYROUTED" -c "$CONF" "$@" >"$out" 2>&1
	rc=$?
	diag "$what: exit status $rc after $(((${EPOCHREALTIME/./} - t0) / 1000)) ms"
	expect_eq "4: $what beside the daemon: exit status 3" 3 "$rc"
	expect_ok "4: $what says another replyrouted is running" \
		grep -q "another replyrouted is running (pid $RR_PID," "$out"
}
second daemon
second --once --once
second --cleanup --cleanup
mon_sync
expect_eq "4: no rule or route changed" "" "$(mon_ip_events)"
expect_eq "4: nft table not replaced" "$HANDLES" "$(rr_nft -a)"
expect_ok "4: the daemon's state is untouched (rule, table, nft, src_valid_mark=1)" converged
expect_ok "4: --dry-run beside the daemon: exit 0" rr --dry-run
expect_ok "4: --check beside the daemon: exit 0" rr --check
mon_sync
expect_eq "4: --dry-run and --check changed nothing" "" "$(mon_ip_events)"
mon_stop
expect_ok "4: the daemon still runs" _rr_alive "$RR_PID"
traffic 4
stop 3-4

# ---------------------------------------------------------------------------
# 5. A process with CAP_NET_ADMIN may send to rtnetlink's multicast groups:
# 50 RTM_NEWLINK (claiming port 0 in the header) and 50 RTM_DELRULE of our
# rule (protocol 205, claiming the sender's port as the remover). Flags 0: the
# kernel, which gets a copy, ignores them (no NLM_F_REQUEST).
start -v
log_mark
R0=$(grep -c 'reconcile (dirty' "$RR_LOG")
FORGER=$(in_ns host python3 - "$(ip -n "$NS_HOST" -o link show dev eth1 | cut -d: -f1)" <<-'EOF'
	import socket, struct, sys
	RTM_NEWLINK, RTM_DELRULE = 16, 33
	RTNLGRP_LINK, RTNLGRP_IPV4_RULE = 1, 8
	def attr(t, payload):
	    a = struct.pack("=HH", 4 + len(payload), t) + payload
	    return a + b"\0" * (-len(a) % 4)
	def msg(t, body, pid):
	    return struct.pack("=IHHII", 16 + len(body), t, 0, 0, pid) + body
	s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
	s.bind((0, 0))
	port = s.getsockname()[0]
	# ifinfomsg: family, type, index, flags IFF_UP|IFF_LOWER_UP, change
	link = msg(RTM_NEWLINK, struct.pack("=BxHiII", 0, 1, int(sys.argv[1]), 0x10001, 0), 0)
	# fib_rule_hdr: AF_INET, dst_len, src_len, tos, table, res1, res2, FR_ACT_TO_TBL, flags
	rule = msg(RTM_DELRULE, struct.pack("=BBBBBBBBI", 2, 0, 0, 0, 100, 0, 0, 1, 0)
	           + attr(6, struct.pack("=I", 1000)) + attr(10, struct.pack("=I", 1))
	           + attr(16, struct.pack("=I", 0xff)) + attr(15, struct.pack("=I", 100))
	           + attr(21, struct.pack("=B", 205)), port)
	for i in range(50):
	    s.sendto(link, (0, 1 << (RTNLGRP_LINK - 1)))
	    s.sendto(rule, (0, 1 << (RTNLGRP_IPV4_RULE - 1)))
	print(port)
EOF
) || fail "5: cannot send the forged messages"
ignored() { log_since | grep -c "ignoring a netlink message from port $FORGER\$"; }
# shellcheck disable=SC2016 # expanded by eval
expect_ok "5: all 100 forged messages ignored, the sender's port logged" \
	poll "$WAIT" eval '[ "$(ignored)" -eq 100 ]'
# A real event after them: whatever the forged messages caused comes before
# its "route added" line in the log (events are read in order).
rr_barrier
FORGED_RECONCILES=$(log_since |
	sed -n "/ignoring a netlink message from port $FORGER\$/,/route added: 198\.18\./p" |
	grep 'reconcile (dirty')
# Ignored messages wake the loop but schedule nothing (before that fix a batch of
# them still ran one empty reconcile: this check caught it).
expect_eq "5: no reconcile between the forged messages and the next real event" "" \
	"$FORGED_RECONCILES"
expect_eq "5: the forged messages marked nothing dirty (no reconcile that reads the kernel)" "" \
	"$(grep -v 'reconcile (dirty 0)' <<<"$FORGED_RECONCILES")"
diag "reconciles: $R0 before, $(grep -c 'reconcile (dirty' "$RR_LOG") after the forged messages and one barrier"
expect_fail "5: no removal counted from a forged RTM_DELRULE" \
	eval "log_since | grep -q 'was removed by'"
expect_ok "5: STATUS as before, no conflict" notify_status_is "$STATUS_OK"
expect_ok "5: still converged" converged
traffic 5
stop 5

finish
