#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions called through expect_ok and poll
# replyrouted --status beside a running daemon, without one, and with a daemon
# that did not stop cleanly: human, JSON (jq) and Prometheus output (parsed
# by prometheus_client), real traffic counted, a staged remover of our rule,
# the interface down, rp_filter raised through "all", the config changed and
# reloaded, and a kernel that differs while the daemon is stopped (SIGSTOP).
# Topology: tests/topo-seed.sh.
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
#                        | default via 203.0.113.1 dev eth1           |
#                        +--------------------------------------------+
#
# Config: eth1, table 100, mark 0x1, Gateway=203.0.113.1. Assertions are on
# the fields --status reports, not on the exact route list of table 100.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd jq
if ! /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
	skip "python3-prometheus-client not installed"
fi
topo_seed
rr_conf_seed "Gateway=$HOST_ETH1_GW"
notify_listen

WAIT=15
STATE=$RUNTIME_DIRECTORY/status
RULE="priority 1000 fwmark 0x1/0xff lookup 100"

# st [ARG...]: replyrouted --status with ARGs; its output in $T/st.out, its
# exit status returned.
st() {
	rr --status "$@" >"$T/st.out" 2>"$T/st.err"
}
# js FILTER: jq -r FILTER on a fresh --status -j.
js() {
	st -j || return 1
	jq -r "$1" "$T/st.out"
}
# js_is FILTER WANT: a fresh --status -j gives WANT for FILTER (poll-able).
js_is() {
	[[ $(js "$1") == "$2" ]]
}
# json_ok: a fresh --status -j is valid JSON.
json_ok() {
	st -j && python3 -m json.tool "$T/st.out" >/dev/null
}
# prom: a fresh --status --format=prometheus, parsed; one sample a line.
prom() {
	st --format=prometheus || return 1
	/usr/bin/python3 "$RR_ROOT/tests/prom-check.py" <"$T/st.out"
}
prom_has() {
	prom | grep -qxF "$1"
}
svm() { sysctl_get host net.ipv4.conf.eth1.src_valid_mark; }

# ---------------------------------------------------------------------------
# 1. No daemon: it says so, reads the kernel all the same, writes nothing
# (not even the runtime directory), and nothing is in sync.
expect_ok "1: --status without a daemon: exit status 0" st
expect_ok "1: says: daemon not running" grep -qxF "replyrouted: daemon not running" "$T/st.out"
expect_ok "1: eth1 active but NOT in sync" grep -qxF "eth1: active, NOT in sync" "$T/st.out"
expect_ok "1: names the missing rule" grep -qF "missing: rule $RULE proto 205" "$T/st.out"
expect_ok "1: says src_valid_mark is not set" \
	grep -qxF "  src_valid_mark is 0, replyroute sets 1" "$T/st.out"
expect_ok "1: wrote nothing, not even $RUNTIME_DIRECTORY" test ! -e "$RUNTIME_DIRECTORY"
expect_ok "1: JSON is valid JSON" json_ok
expect_eq "1: JSON: not running, no pid, no state file, not in sync" "false null none false" \
	"$(js '"\(.daemon.running) \(.daemon.pid) \(.daemon.state_file) \(.in_sync)"')"
expect_ok "1: Prometheus: replyroute_daemon_up 0" prom_has "replyroute_daemon_up{} 0"
expect_ok "1: Prometheus: replyroute_in_sync 0" prom_has "replyroute_in_sync{} 0"

# ---------------------------------------------------------------------------
# 2. The daemon runs: everything in sync, published, and --status disturbs
# nothing (no lock, no event, no log line, no write).
notify_mark
rr_start
poll "$WAIT" notified READY=1 || fail "the daemon did not get ready"
expect_ok "2: the state file is there" poll "$WAIT" test -s "$STATE"
expect_ok "2: human: running, with the daemon's pid" \
	eval "st && grep -qE '^replyrouted: running, pid $RR_PID, up [0-9]+m [0-9]+s \(since [0-9T:-]+Z\)$' $T/st.out"
expect_ok "2: human: eth1 active, in sync" grep -qxF "eth1: active, in sync" "$T/st.out"
expect_ok "2: human: kernel state in sync" grep -qxF "kernel state: in sync" "$T/st.out"
expect_ok "2: human: mark, table, priority" \
	grep -qxF "  mark 0x1/0xff, table 100, rule priority 1000" "$T/st.out"
expect_ok "2: human: source and gateway" \
	grep -qxF "  IPv4: source 203.0.113.2, gateway 203.0.113.1" "$T/st.out"
expect_ok "2: human: rp_filter and src_valid_mark, effective and both parts" \
	grep -qxF "  rp_filter 1 (all 1, eth1 1); src_valid_mark 1 (all 0, eth1 1)" "$T/st.out"
expect_ok "2: human: no reload yet" grep -qxF "last reload: none since start" "$T/st.out"
expect_ok "2: human: nft table in sync, ours" \
	grep -qxF "nft table inet replyroute: present, in sync, installed by replyroute" "$T/st.out"
expect_ok "2: JSON is valid JSON" json_ok
expect_eq "2: JSON: daemon running, its pid, state file ok, nft ours" \
	"true $RR_PID ok true false" \
	"$(js '.daemon | "\(.running) \(.pid) \(.state_file) \(.nft_owned) \(.config_changed)"')"
expect_eq "2: JSON: eth1 fields" \
	"eth1 active true 1 255 100 1000 203.0.113.2 203.0.113.1 null 1 1 0" \
	"$(js '.interfaces[0] | "\(.name) \(.state) \(.in_sync) \(.mark) \(.mask) \(.table) \(.priority) \(.ipv4.source) \(.ipv4.gateway) \(.ipv6) \(.rp_filter.effective) \(.src_valid_mark.effective) \(.differences | length)"')"
expect_eq "2: JSON: all in sync, nft in sync, no leftovers" "true true 0" \
	"$(js '"\(.in_sync) \(.nft.in_sync) \(.differences | length)"')"
expect_eq "2: JSON: last change at the daemon's start (was: null)" "null" \
	"$(js '.interfaces[0].last_change.was')"
expect_ok "2: Prometheus parses; replyroute_daemon_up 1" prom_has "replyroute_daemon_up{} 1"
expect_ok "2: Prometheus: eth1 in sync" prom_has 'replyroute_interface_in_sync{interface="eth1"} 1'
expect_ok "2: Prometheus: eth1 state active" \
	prom_has 'replyroute_interface_state{interface="eth1",state="active"} 1'
expect_ok "2: Prometheus: eth1 table 100" prom_has 'replyroute_interface_table{interface="eth1"} 100'

# Beside the daemon: nothing changes, nothing is logged, the file stays.
mon_start nft
mon_mark
LOG_LINES=$(wc -l <"$RR_LOG")
STAT_BEFORE=$(stat -c '%i %Y %s' "$STATE")
for f in human json prometheus; do
	expect_ok "2: --status --format=$f beside the daemon: exit status 0" st --format="$f"
done
mon_sync
expect_eq "2: --status changed no rule or route" "" "$(mon_ip_events)"
expect_eq "2: --status changed nothing in nft" "" "$(mon_nft_events)"
mon_stop
expect_eq "2: the daemon logged nothing meanwhile" "$LOG_LINES" "$(wc -l <"$RR_LOG")"
expect_eq "2: the state file was not rewritten" "$STAT_BEFORE" "$(stat -c '%i %Y %s' "$STATE")"
expect_ok "2: the daemon still runs" _rr_alive "$RR_PID"

# ---------------------------------------------------------------------------
# 3. New connections marked: the counter of chain ct_0x1 counts each new
# connection that arrives on eth1 (a ping, a TCP connection), not packets.
BEFORE=$(js '.interfaces[0].new_connections_marked')
expect_ok "3: the counter is a number" test "$BEFORE" -ge 0
expect_ok "3: ping mon -> eth1" ping_ok mon "$HOST_ETH1_ADDR"
expect_ok "3: TCP mon -> eth1" tcp_ok mon host "$HOST_ETH1_ADDR" 21
expect_ok "3: ping mon -> eth0 (not tracked)" ping_ok mon "$HOST_ETH0_ADDR"
expect_eq "3: two new connections marked on eth1" "$((BEFORE + 2))" \
	"$(js '.interfaces[0].new_connections_marked')"
expect_ok "3: human: the same count" \
	eval "st && grep -qxF '  new connections marked: $((BEFORE + 2))' $T/st.out"
expect_ok "3: Prometheus: replyroute_new_connections_marked_total" \
	prom_has "replyroute_new_connections_marked_total{interface=\"eth1\"} $((BEFORE + 2))"

# ---------------------------------------------------------------------------
# 4. The kernel right now, not the daemon's word: with the daemon stopped
# (SIGSTOP) src_valid_mark of eth1 is reset (nothing notifies that) and a
# foreign rp_filter=2 comes through "all".
kill -STOP "$RR_PID" || fail "4: SIGSTOP"
sysctl_set host net.ipv4.conf.eth1.src_valid_mark 0
sysctl_set host net.ipv4.conf.all.rp_filter 2
expect_ok "4: --status beside a stopped daemon: exit status 0" st -j
expect_eq "4: JSON: eth1 NOT in sync, src_valid_mark named" \
	"false src_valid_mark is 0, replyroute sets 1" \
	"$(jq -r '.interfaces[0] | "\(.in_sync) \(.differences[0])"' "$T/st.out")"
expect_eq "4: JSON: effective rp_filter is the larger of all and eth1" "2 2 1" \
	"$(jq -r '.interfaces[0].rp_filter | "\(.effective) \(.all) \(.interface)"' "$T/st.out")"
expect_eq "4: JSON: effective src_valid_mark 0" "0 0 0" \
	"$(jq -r '.interfaces[0].src_valid_mark | "\(.effective) \(.all) \(.interface)"' "$T/st.out")"
expect_ok "4: Prometheus: eth1 not in sync" prom_has 'replyroute_interface_in_sync{interface="eth1"} 0'
expect_ok "4: Prometheus: effective rp_filter 2" prom_has 'replyroute_interface_rp_filter{interface="eth1"} 2'
sysctl_set host net.ipv4.conf.all.rp_filter 1
sysctl_set host net.ipv4.conf.eth1.src_valid_mark 1
kill -CONT "$RR_PID" || fail "4: SIGCONT"
expect_ok "4: in sync again" poll "$WAIT" js_is '.in_sync' true

# ---------------------------------------------------------------------------
# 5. eth1 down: withdrawn (in sync: nothing of it should be there), the last
# change and what it was; up again: active.
ip -n "$NS_HOST" link set eth1 down || fail "5: link down"
expect_ok "5: JSON: eth1 link-down" poll "$WAIT" js_is '.interfaces[0].state' link-down
expect_ok "5: JSON: in sync once withdrawn" poll "$WAIT" js_is '.interfaces[0].in_sync' true
expect_eq "5: JSON: the last change says what it was" "203.0.113.2 via 203.0.113.1, table 100" \
	"$(js '.interfaces[0].last_change.was')"
expect_ok "5: human: eth1: link down" eval "st && grep -qxF 'eth1: link down, in sync' $T/st.out"
expect_ok "5: human: last change, was" \
	grep -qE '^  last change: [0-9T:-]+Z, was: 203.0.113.2 via 203.0.113.1, table 100$' "$T/st.out"
ip -n "$NS_HOST" link set eth1 up || fail "5: link up"
poll 5 link_up host eth1 || fail "5: eth1 did not come up"
expect_ok "5: active again" poll "$WAIT" js_is '.interfaces[0].state' active
expect_eq "5: was: link down" "link down" "$(js '.interfaces[0].last_change.was')"
expect_ok "5: in sync again" poll "$WAIT" js_is '.in_sync' true

# ---------------------------------------------------------------------------
# 6. The config: changed on disk but not reloaded, reloaded, a failed reload.
rr_conf_seed "Gateway=$HOST_ETH1_GW" Priority=1001
expect_eq "6: JSON: config changed since the daemon loaded it" true \
	"$(js '.daemon.config_changed')"
expect_ok "6: human says: reload to apply" \
	eval "st && grep -qF '(changed since the daemon loaded it: reload to apply)' $T/st.out"
notify_mark
kill -HUP "$RR_PID"
poll "$WAIT" notified READY=1 >/dev/null || fail "6: reload"
expect_eq "6: after the reload: ok, config the same, priority 1001, in sync" "ok false 1001 true" \
	"$(js '"\(.daemon.last_reload.result) \(.daemon.config_changed) \(.interfaces[0].priority) \(.in_sync)"')"
printf '[Interface]\nName=eth1\nTabel=100\n' | rr_conf
notify_mark
kill -HUP "$RR_PID"
poll "$WAIT" notified READY=1 >/dev/null || fail "6: failed reload"
st
expect_eq "6: the invalid config on disk: --status exits 78" 78 "$?"
expect_ok "6: ... and still shows the daemon" \
	grep -qE "^replyrouted: running, pid $RR_PID, " "$T/st.out"
expect_ok "6: ... and says the config is not valid" \
	grep -qxF "config: $CONF is NOT valid (its errors are above): the daemon keeps the configuration it loaded last" "$T/st.out"
expect_ok "6: ... with the config's errors on stderr" \
	grep -qF "$CONF:3: unknown key Tabel= in [Interface]" "$T/st.err"
st -j
expect_eq "6: JSON: config not valid, daemon running, no interfaces" "false true 0" \
	"$(jq -r '"\(.config.valid) \(.daemon.running) \(.interfaces | length)"' "$T/st.out")"
st --format=prometheus
expect_eq "6: Prometheus: replyroute_config_valid 0, replyroute_daemon_up 1" \
	"replyroute_config_valid{} 0 replyroute_daemon_up{} 1" \
	"$(/usr/bin/python3 "$RR_ROOT/tests/prom-check.py" "$T/st.out" | grep -E '^replyroute_(config_valid|daemon_up)' | sort | xargs)"
rr_conf_seed "Gateway=$HOST_ETH1_GW" Priority=1001
expect_eq "6: a failed reload: its first error" "failed|$CONF:3: unknown key Tabel= in [Interface]" \
	"$(js '.daemon.last_reload | "\(.result)|\(.error)"')"
expect_ok "6: human: failed, the previous config keeps running" \
	eval "st && grep -qF 'failed: $CONF:3: unknown key Tabel= in [Interface] (the previous config keeps running)' $T/st.out"
expect_ok "6: Prometheus: replyroute_last_reload_success 0" prom_has "replyroute_last_reload_success{} 0"

# ---------------------------------------------------------------------------
# 7. A storm: eth1 flaps (down, up) while --status -j reads 20 times; every
# read finds a whole state file (written by rename) and valid JSON.
flap() {
	local n=0
	while [[ ! -e $T/flap.stop ]]; do
		ip -n "$NS_HOST" link set eth1 down && ip -n "$NS_HOST" link set eth1 up || return 1
		n=$((n + 1))
		sleep 0.02
	done
	echo "$n" >"$T/flap.rounds"
}
flap &
FLAPPER=$!
_rr_pids+=("$FLAPPER")
BAD=0
for i in $(seq 20); do
	if ! json_ok || [[ $(jq -r '.daemon.state_file' "$T/st.out") != ok ]]; then
		BAD=$((BAD + 1))
		diag <"$T/st.err"
	fi
done
touch "$T/flap.stop"
wait_bg "$FLAPPER" 5
expect_eq "7: the flapper ran through" 0 "$?"
diag "7: $(cat "$T/flap.rounds") flaps during 20 reads"
expect_ok "7: at least 20 flaps during the reads" test "$(cat "$T/flap.rounds")" -ge 20
expect_eq "7: every read: valid JSON and a whole state file" 0 "$BAD"
poll 5 link_up host eth1 || fail "7: eth1 did not come up"
expect_ok "7: in sync after the storm" poll "$WAIT" js_is '.in_sync' true

# ---------------------------------------------------------------------------
# 8. A staged conflict: another process deletes our rule (of part 6's config:
# priority 1001) three times; last, as eth1 is in conflict for a minute after.
# The remover is one long-lived "ip -batch" (the daemon names it by its pid,
# which a short-lived "ip rule del" may no longer have when it looks).
RULE="priority 1001 fwmark 0x1/0xff lookup 100"
mkfifo "$T/remover" || fail "8: mkfifo"
ip -n "$NS_HOST" -force -batch - <"$T/remover" >/dev/null 2>&1 &
REMOVER=$!
_rr_pids+=("$REMOVER")
exec 7>"$T/remover"
rule_back() { in_ns host ip -4 rule show | grep -q "lookup 100 proto"; }
for i in 1 2 3; do
	echo "rule del $RULE" >&7 || fail "8: the remover is gone"
	poll "$WAIT" js_is '.interfaces[0].readded[0].times' "$i" >/dev/null
	expect_eq "8: removal $i counted" "$i" "$(js '.interfaces[0].readded[0].times')"
	poll "$WAIT" rule_back >/dev/null || fail "8: the rule did not come back"
done
exec 7>&-
wait_bg "$REMOVER" 5 >/dev/null
expect_eq "8: JSON: the rule, 3 times in a row, by ip[$REMOVER]" \
	"rule $RULE proto 205|3|3|ip[$REMOVER]" \
	"$(js '.interfaces[0].readded[0] | "\(.object)|\(.times)|\(.current_run)|\(.removed_by)"')"
expect_eq "8: JSON: eth1 in conflict while the removals go on" "conflict" \
	"$(js '.interfaces[0].state')"
expect_ok "8: human: re-added 3 times, by the remover" \
	eval "st && grep -qE '^  re-added 3 times: rule $RULE proto 205; last removed [0-9T:-]+Z by ip\[$REMOVER\]$' $T/st.out"
expect_ok "8: Prometheus: replyroute_objects_readded_total 3" \
	prom_has 'replyroute_objects_readded_total{interface="eth1"} 3'
expect_ok "8: Prometheus: state conflict" \
	prom_has 'replyroute_interface_state{interface="eth1",state="conflict"} 1'
expect_ok "8: back in sync once the rule is back" poll "$WAIT" js_is '.interfaces[0].in_sync' true

# ---------------------------------------------------------------------------
# 9. A clean stop removes the state file; a daemon killed (SIGKILL) leaves
# one behind, and --status says so.
stop_bg "$RR_PID" TERM 20
expect_eq "9: SIGTERM: exit status 0" 0 "$?"
expect_ok "9: the state file is gone" test ! -e "$STATE"
expect_ok "9: says: daemon not running" \
	eval "st && grep -qxF 'replyrouted: daemon not running' $T/st.out"
notify_mark
rr_start
poll "$WAIT" notified READY=1 >/dev/null || fail "9: restart"
expect_ok "9: restarted: running" poll "$WAIT" js_is '.daemon.state_file' ok
kill -KILL "$RR_PID"
wait_bg "$RR_PID" 5
expect_ok "9: killed: says the state file was left behind" \
	eval "st && grep -qxF 'replyrouted: daemon not running (a state file was left behind: it did not stop cleanly)' $T/st.out"
expect_eq "9: JSON: not running, state file stale" "false stale" \
	"$(js '"\(.daemon.running) \(.daemon.state_file)"')"
expect_ok "9: --cleanup after the kill" rr --cleanup
expect_eq "9: src_valid_mark restored" 0 "$(svm)"

finish
