#!/usr/bin/env bash
# Drop-in configs (issue 12 item 2): a NIC hot-plug hook writes one file into
# the runtime drop-in directory and reloads the daemon; the new interface is
# tracked and its replies are symmetric. A drop-in of the same name in the
# main file's CONF.d/ overrides the generated one; removing the files and
# reloading untracks the interface; a bad drop-in is refused by FILE:LINE and
# the running config stays. Topology: tests/topo-seed.sh plus eth2.
#
#   +---- mon ----+      +--------------- rtr ----------------+
#   | mon0        |      | r_mon 198.51.100.1/24               |
#   | .10/24      +------+ r_mgmt 192.0.2.1/24                 |
#   | dflt via .1 |      | r_pub 203.0.113.1/24                |
#   +-------------+      | r_pub2 198.18.2.1/24 (hot-plugged)  |
#                        +---+-----------+-----------+---------+
#                            |           |           |
#                        +---+---- host -+-----------+---------+
#                        | eth0 .2.2   eth1 .113.2  eth2 198.18.2.2
#                        | 198.51.100/24 via 192.0.2.1 dev eth0 |
#                        | default via 203.0.113.1 dev eth1     |
#                        | default via 198.18.2.1 dev eth2 metric 200
#                        +--------------------------------------+
#
# The main file tracks eth1 (table 100, mark 0x1). The hook's file names only
# eth2: its mark (0x2) and table (1000) are allocated.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd python3
topo_seed

PORT=21
RUN_D=$RUNTIME_DIRECTORY/replyroute.conf.d   # generated drop-ins
ETC_D=$CONF.d                                # the admin's drop-ins

reload() { # DESC: SIGHUP, wait for the reload to be applied
	notify_mark
	kill -HUP "$RR_PID"
	poll 5 notified_reload || fail "$1: no RELOADING=1 then READY=1"
}

# The hot-plug hook, as udev or cloud-init would run it for a new NIC: one
# file, then the reload (systemctl reload replyroute; here the daemon's PID).
hotplug_hook() { # IFACE
	mkdir -p "$RUN_D" &&
		printf '# generated for %s\n[Interface]\nName=%s\n' "$1" "$1" >"$RUN_D/50-$1.conf" ||
		fail "hook: cannot write $RUN_D/50-$1.conf"
	reload "hook for $1"
}

rule_for() { # MARK TABLE: our rule
	rr_rules -4 | grep -qx "1000:	from all fwmark $1/0xff lookup $2 proto 205"
}
no_rule_mark() { ! rr_rules -4 | grep -q "fwmark $1/"; }

traffic() { # ok|fails IFACE ADDR WHAT
	expect_ok "$4: ping mon -> $2 ($3) $1" "ping_$1" mon "$3"
	expect_ok "$4: TCP mon -> $2 ($3) $1" "tcp_$1" mon host "$3" "$PORT"
}

rr_conf_seed
notify_listen
rr_start
poll 5 notified READY=1 || fail "replyrouted did not become ready"
traffic ok eth1 203.0.113.2 "main file"

# 1. The NIC appears (veth created in rtr, its end moved into host), DHCP-like
#    address and default route, then the hook.
ip -n "$NS_RTR" link add r_pub2 type veth peer name eth2 netns "$NS_HOST" ||
	fail "veth r_pub2/eth2"
ip -n "$NS_RTR" addr add 198.18.2.1/24 dev r_pub2 &&
	ip -n "$NS_RTR" link set r_pub2 up &&
	ip -n "$NS_HOST" addr add 198.18.2.2/24 dev eth2 &&
	ip -n "$NS_HOST" link set eth2 up &&
	ip -n "$NS_HOST" route append default via 198.18.2.1 dev eth2 metric 200 ||
	fail "eth2 addresses and routes"
sysctl_set rtr net.ipv4.conf.r_pub2.rp_filter 1
sysctl_set host net.ipv4.conf.eth2.rp_filter 1
poll 5 link_up host eth2 || fail "eth2 did not come up"
traffic fails eth2 198.18.2.2 "hot-plugged, before the hook"

hotplug_hook eth2
expect_ok "hook: rule fwmark 0x2/0xff lookup 1000 (allocated mark and table)" poll 5 rule_for 0x2 1000
expect_ok "hook: eth1's rule untouched" rule_for 0x1 100
traffic ok eth2 198.18.2.2 "after the hook"
traffic ok eth1 203.0.113.2 "after the hook"
out=$(RUNTIME_DIRECTORY=$RUNTIME_DIRECTORY "$REPLYROUTED" -c "$CONF" --check -v 2>&1)
expect_ok "--check -v names the generated file as eth2's origin" \
	grep -qxF "# $RUN_D/50-eth2.conf:2" <<<"$out"
expect_ok "--check -v lists the files read" grep -qxF "# then $RUN_D/50-eth2.conf" <<<"$out"

# 2. The admin's drop-in of the same name overrides the generated one.
mkdir -p "$ETC_D"
printf '[Interface]\nName=eth2\nTable=202\nMark=0x12\n' >"$ETC_D/50-eth2.conf"
reload "CONF.d override"
expect_ok "override: rule fwmark 0x12/0xff lookup 202" poll 5 rule_for 0x12 202
expect_ok "override: the generated file's rule (mark 0x2) is gone" poll 5 no_rule_mark 0x2
traffic ok eth2 198.18.2.2 "override"

# 3. A later file overrides key by key: only the table changes.
printf '[Interface]\nName=eth2\nTable=203\n' >"$RUN_D/60-eth2-table.conf"
reload "key by key"
expect_ok "key by key: rule fwmark 0x12/0xff lookup 203" poll 5 rule_for 0x12 203
traffic ok eth2 198.18.2.2 "key by key"

# 4. A bad drop-in: refused with its FILE:LINE, the running config stays.
printf '[Interface]\nName=eth2\nMark=0\n' >"$RUN_D/70-bad.conf"
notify_mark
kill -HUP "$RR_PID"
expect_ok "bad drop-in: STATUS names $RUN_D/70-bad.conf:3" \
	poll 5 notified "reload failed: $RUN_D/70-bad.conf:3: Mark=0: must not be zero"
expect_ok "bad drop-in: rule lookup 203 stays" rule_for 0x12 203
traffic ok eth2 198.18.2.2 "bad drop-in refused"
rm -f "$RUN_D/70-bad.conf"

# 5. The NIC goes: the hook removes its files and reloads.
rm -f "$RUN_D/50-eth2.conf" "$RUN_D/60-eth2-table.conf" "$ETC_D/50-eth2.conf"
reload "files removed"
expect_ok "removed: no rule for eth2's mark left" poll 5 no_rule_mark 0x12
expect_eq "removed: table 203 is empty" "" "$(rr_table 203)"
traffic fails eth2 198.18.2.2 "untracked again"
traffic ok eth1 203.0.113.2 "untracked again"

# 6. A storm: 20 rounds of the hook adding and removing eth2's file, each
#    followed by a SIGHUP, none waited for; then one more add, waited for.
log_before=$(wc -l <"$RR_LOG")
for ((i = 0; i < 20; i++)); do
	printf '[Interface]\nName=eth2\n' >"$RUN_D/50-eth2.conf.tmp" &&
		mv -f "$RUN_D/50-eth2.conf.tmp" "$RUN_D/50-eth2.conf" && kill -HUP "$RR_PID"
	rm -f "$RUN_D/50-eth2.conf" && kill -HUP "$RR_PID"
done
hotplug_hook eth2
expect_ok "storm: daemon still running" _rr_alive "$RR_PID"
expect_ok "storm: rule fwmark 0x2/0xff lookup 1000 after the last add" poll 5 rule_for 0x2 1000
traffic ok eth2 198.18.2.2 "after the storm"
expect_eq "storm: no reload failed, no error" "" \
	"$(tail -n +$((log_before + 1)) "$RR_LOG" | grep -E '^<[0-3]>|reload failed')"

stop_bg "$RR_PID" || expect_ok "daemon exits 0 on SIGTERM" false
finish
