#!/bin/bash
# Assertions against the replyroute package and its unit under a real
# systemd.  Run as root inside a throw-away container/VM with a private
# network namespace (run.sh does that), with the packages in $DEBS
# (replyroute_*.deb, upgrade/replyroute_*.deb).  It installs the package,
# configures it with one drop-in, reloads, checks traffic, exercises the unit
# (reload, failed reload, stop, watchdog, config error, security), upgrades
# and purges, checking the kernel state at each step.  Prints "ok - ..." /
# "not ok - ..." and a closing "N passed, N failed" line; exits non-zero when
# anything failed.
#
#   rrwrong            container                          rrpeer
#   peer0 192.0.2.1 -- eth0 192.0.2.2                     198.51.100.10/32 (lo)
#                      198.51.100.0/24 via 192.0.2.1      default via 203.0.113.2
#                      eth1 203.0.113.2 (rp_filter=1) -- peer1 203.0.113.1
#
# The way back to the client 198.51.100.10 is eth0, a dead end: its pings to
# 203.0.113.2 (arriving on eth1) are answered only once replyroute tracks eth1.
# rrpeer stands for a router: it asks ARP from its interface address
# (arp_announce=2), or strict rp_filter on eth1 would drop its ARP requests.
set -u
export LC_ALL=C SYSTEMD_PAGER='' SYSTEMD_COLORS=0

UNIT=replyroute.service
DEBS=${DEBS:-/mnt/replyroute-debs}
MAIN_CONF=/etc/replyroute/replyroute.conf
# The test's config is a drop-in: the shipped conffile stays as installed.
CONF=/etc/replyroute/replyroute.conf.d/test.conf
DROPIN_DIR=/run/systemd/system/$UNIT.d
SYSCTL=/proc/sys/net/ipv4/conf/eth1/src_valid_mark
MAX_EXPOSURE=2.0

# routing protocol number: from the shipped rt_protos.d entry, else meson's default
PROTO_NUM=$(awk '$2 == "replyroute" { print $1; exit }' /etc/iproute2/rt_protos.d/*.conf 2>/dev/null)
PROTO_NUM=${PROTO_NUM:-205}
PROTO_RE="proto (replyroute|$PROTO_NUM)( |\$)"

passed=0 failed=0
ok()    { passed=$((passed + 1)); echo "ok - $*"; }
notok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
not()   { ! "$@"; }
diag()  { sed 's/^/# /'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# wait_for SECONDS CMD...: poll CMD every 0.1s until it succeeds or time runs out
wait_for() {
	local deadline=$(( $(now_ms) + $1 * 1000 )); shift
	until "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}
sc() { timeout 90 systemctl "$@"; }
prop() { systemctl show -p "$1" --value "$UNIT"; }

is_active()   { [ "$(systemctl is-active "$UNIT")" = active ]; }
is_inactive() { [ "$(systemctl is-active "$UNIT")" = inactive ]; }
status_has()  { prop StatusText | grep -q -- "$1"; }
# rule_for MARK TABLE: our fwmark rule to TABLE, tagged with our protocol
rule_for()    { ip -4 rule show | grep -E "fwmark $1/0xff lookup $2( |\$)" | grep -Eq "$PROTO_RE"; }
no_rule_for() { ! ip -4 rule show | grep -Eq "lookup $1( |\$).*$PROTO_RE"; }
no_our_rules() { ! { ip -4 rule show; ip -6 rule show; } | grep -Eq "$PROTO_RE"; }
default_in()  { ip -4 route show table "$1" 2>/dev/null | grep -E '^default via 203\.0\.113\.1 dev eth1( |$)' | grep -Eq "$PROTO_RE"; }
# ours: filter ip's output: replyroute's lines, the protocol as a number
ours() { grep -E "$PROTO_RE" | sed -E "s/proto replyroute/proto $PROTO_NUM/; s/[[:space:]]+\$//"; }
# rules_exactly TABLE: exactly the designed IPv4 rules for eth1 (mark 0x1/0xff,
# TABLE, priority 1000): the gate for unmarked packets, the original direction
# of forwarded connections to main, the table rule, the anchor
rules_exactly() {
	[ "$(ip -4 rule show | ours | sort -t: -k1,1n)" = "$(printf '%s\n' \
		"998:	from all fwmark 0/0xff goto 1001 proto $PROTO_NUM" \
		"999:	from all fwmark 0x1/0xff iif eth1 lookup main proto $PROTO_NUM" \
		"1000:	from all fwmark 0x1/0xff lookup $1 proto $PROTO_NUM" \
		"1001:	from all nop proto $PROTO_NUM")" ]
}
# table_exactly TABLE: exactly the default via 203.0.113.1 and eth1's own prefix
table_exactly() {
	[ "$(ip -4 route show table "$1" 2>/dev/null | ours)" = "$(printf '%s\n' \
		"default via 203.0.113.1 dev eth1 proto $PROTO_NUM src 203.0.113.2" \
		"203.0.113.0/24 dev eth1 proto $PROTO_NUM scope link src 203.0.113.2")" ]
}
table_empty() { [ -z "$(ip -4 route show table "$1" 2>/dev/null)" ] && [ -z "$(ip -6 route show table "$1" 2>/dev/null)" ]; }
nft_table()   { nft list table inet replyroute >/dev/null 2>&1; }
no_nft_table() { ! nft_table; }
sysctl_is()   { [ "$(cat "$SYSCTL")" = "$1" ]; }
restarts()    { prop NRestarts; }
restarted_after() { [ "$(restarts)" -gt "$1" ] && is_active && [ "$(prop MainPID)" != "$2" ] && [ "$(prop MainPID)" != 0 ]; }

write_conf() { # TABLE MARK
	mkdir -p "${CONF%/*}"
	cat >"$CONF" <<-EOC
	# written by tests/systemd/inside.sh
	[Interface]
	Name=eth1
	Table=$1
	Mark=$2
	Gateway=203.0.113.1
	EOC
}

dump_state() {
	{
	echo "--- systemctl status"; systemctl status --no-pager -l "$UNIT" 2>&1 | tail -n 20
	echo "--- journal"; journalctl -b --no-pager -o short-monotonic -u "$UNIT" 2>&1 | tail -n 60
	echo "--- metrics"; journalctl -b --no-pager -o short-monotonic -u replyroute-metrics.service 2>&1 | tail -n 20
	echo "--- ip rule"; ip rule show; ip -6 rule show
	echo "--- nft"; nft list ruleset 2>&1 | head -n 40
	} 2>&1 | diag
}

cleanup() {
	rm -rf "$DROPIN_DIR"
	systemctl daemon-reload
	systemctl stop "$UNIT" 2>/dev/null
	ip link del eth1 2>/dev/null
	ip netns del rrpeer 2>/dev/null
	ip netns del rrwrong 2>/dev/null
}
trap cleanup EXIT

echo "# $(systemctl --version | head -n1)"
echo "# $(systemctl show -p ExecStart --value "$UNIT" | head -n1)"

# --- network (drawn above) -----------------------------------------------------------
ip link del eth1 2>/dev/null
ip netns del rrpeer 2>/dev/null
ip netns del rrwrong 2>/dev/null
if ! { ip netns add rrpeer && ip netns add rrwrong &&
	ip link add name eth1 type veth peer name peer1 netns rrpeer &&
	ip link add name eth0 type veth peer name peer0 netns rrwrong &&
	ip addr add 203.0.113.2/24 dev eth1 && ip addr add 192.0.2.2/24 dev eth0 &&
	ip link set eth1 up && ip link set eth0 up &&
	ip -n rrpeer link set lo up && ip -n rrpeer link set peer1 up &&
	ip -n rrpeer addr add 203.0.113.1/24 dev peer1 &&
	ip -n rrpeer addr add 198.51.100.10/32 dev lo &&
	ip -n rrpeer route add default via 203.0.113.2 &&
	ip netns exec rrpeer sysctl -qw net.ipv4.conf.all.arp_announce=2 &&
	ip -n rrwrong link set peer0 up && ip -n rrwrong addr add 192.0.2.1/24 dev peer0 &&
	wait_for 10 sh -c 'ip -4 route show dev eth0 | grep -q 192.0.2.0/24' &&
	ip route add 198.51.100.0/24 via 192.0.2.1 dev eth0 &&
	sysctl -qw net.ipv4.conf.eth1.rp_filter=1; }; then
	echo "Bail out! cannot build the network"
	exit 1
fi
wait_for 10 sh -c 'ip -4 route show dev eth1 | grep -q 203.0.113.0/24'
SYSCTL_ORIG=$(cat "$SYSCTL")
check "eth1 starts with src_valid_mark=0" [ "$SYSCTL_ORIG" = 0 ]

# traffic_ok: the client's pings from 198.51.100.10 to 203.0.113.2 are answered
traffic_ok()    { ip netns exec rrpeer ping -n -q -c 2 -i 0.2 -W 2 -I 198.51.100.10 203.0.113.2 >/dev/null 2>&1; }
traffic_fails() { ! ip netns exec rrpeer ping -n -q -c 2 -i 0.2 -W 1 -I 198.51.100.10 203.0.113.2 >/dev/null 2>&1; }
# untouched: nothing of replyroute's in the kernel, src_valid_mark as it was
untouched() { no_our_rules && no_nft_table && table_empty 100 && sysctl_is "$SYSCTL_ORIG"; }
check "before the package: the client's pings are not answered (way back via eth0)" traffic_fails

# --- install: changes nothing until an interface is configured --------------------------
debs=("$DEBS"/replyroute_*.deb "$DEBS"/upgrade/replyroute_*.deb)
DEB1=${debs[0]} DEB2=${debs[1]}
V1=$(dpkg-deb -f "$DEB1" Version)
V2=$(dpkg-deb -f "$DEB2" Version)
echo "# packages: $V1, upgrade to $V2"
if out=$(dpkg -i "$DEB1" 2>&1); then ok "dpkg -i replyroute $V1"; else notok "dpkg -i replyroute $V1"; printf '%s\n' "$out" | diag; fi
check "installed: version $V1" [ "$(dpkg-query -W -f '${Version}' replyroute)" = "$V1" ]
check "installed: unit enabled" [ "$(systemctl is-enabled "$UNIT")" = enabled ]
check "installed: unit active" wait_for 10 is_active
check "installed: StatusText 'no interfaces configured'" wait_for 5 status_has 'no interfaces configured'
check "installed: nothing in the kernel (rules, routes, nft, src_valid_mark)" untouched
check "installed: the client's pings still unanswered" traffic_fails
conffiles=$(dpkg-query -W -f '${Conffiles}' replyroute)
check "conffile: $MAIN_CONF" grep -q "^ $MAIN_CONF " <<<"$conffiles"
check "conffile: /etc/iproute2/rt_protos.d/replyroute.conf" grep -q "^ /etc/iproute2/rt_protos.d/replyroute.conf " <<<"$conffiles"
check "man pages replyrouted(8), replyroute.conf(5) installed" \
	test -s /usr/share/man/man8/replyrouted.8.gz -a -s /usr/share/man/man5/replyroute.conf.5.gz
check "ip names protocol 205 replyroute" grep -qx '205[[:space:]]*replyroute' /etc/iproute2/rt_protos.d/replyroute.conf
[ "$failed" = 0 ] || dump_state

DAEMON=$(systemctl show -p ExecStart --value "$UNIT" | sed -n 's/.*path=\([^ ;]*\).*/\1/p' | head -n1)
check "ExecStart is /usr/sbin/replyrouted" [ "$DAEMON" = /usr/sbin/replyrouted ]

# --- the unit file itself ------------------------------------------------------------
if out=$(systemd-analyze verify --man=no "$UNIT" 2>&1) && [ -z "$out" ]; then
	ok "systemd-analyze verify $UNIT is clean"
else
	notok "systemd-analyze verify $UNIT is clean"; printf '%s\n' "$out" | diag
fi

for u in replyroute-metrics.service replyroute-metrics.timer; do
	if out=$(systemd-analyze verify --man=no "$u" 2>&1) && [ -z "$out" ]; then
		ok "systemd-analyze verify $u is clean"
	else
		notok "systemd-analyze verify $u is clean"; printf '%s\n' "$out" | diag
	fi
done

# --- --check ---------------------------------------------------------------------
write_conf 100 0
"$DAEMON" --check >/dev/null 2>&1; rc=$?
check "replyrouted --check on Mark=0 exits 78 (EX_CONFIG), got $rc" [ "$rc" = 78 ]
write_conf 100 0x1
"$DAEMON" --check >/dev/null 2>&1; rc=$?
check "replyrouted --check on a valid config exits 0, got $rc" [ "$rc" = 0 ]

# --- configure: one drop-in, reload --------------------------------------------------
check "systemctl reload (one drop-in: eth1)" sc reload "$UNIT"
check "is-active = active" is_active
check "StatusText mentions eth1" wait_for 5 status_has eth1
echo "# StatusText: $(prop StatusText)"
check "ip rule: fwmark 0x1/0xff lookup 100 $PROTO_RE" wait_for 5 rule_for 0x1 100
check "table 100: default via 203.0.113.1 dev eth1, tagged" wait_for 5 default_in 100
check "ip rule: exactly gate, iif rule to main, table rule, anchor" wait_for 5 rules_exactly 100
check "table 100: exactly the default and eth1's prefix" wait_for 5 table_exactly 100
check "nft table inet replyroute exists" wait_for 5 nft_table
check "src_valid_mark(eth1) = 1" wait_for 5 sysctl_is 1
check "traffic: the client's pings are answered through eth1" traffic_ok
[ "$failed" = 0 ] || dump_state

# --- metrics: replyroute-metrics.service writes the textfile, the timer runs it --------
PROM=/var/lib/prometheus/node-exporter/replyroute.prom
prom_has() { grep -qxF "$1" "$PROM"; }
check "systemctl start replyroute-metrics.service" sc start replyroute-metrics.service
check "it wrote $PROM" [ -s "$PROM" ]
check "$PROM: replyroute_daemon_up 1" prom_has "replyroute_daemon_up 1"
check "$PROM: eth1 in sync" prom_has 'replyroute_interface_in_sync{interface="eth1"} 1'
check "$PROM: eth1 active" prom_has 'replyroute_interface_state{interface="eth1",state="active"} 1'
check "$PROM: the new-connections counter of eth1" \
	grep -qE '^replyroute_new_connections_marked_total\{interface="eth1"\} [0-9]+$' "$PROM"
check "no temporary file left beside it" [ ! -e "$PROM.tmp" ]
check "the daemon's runtime directory is still there" [ -s /run/replyroute/status ]
check "the daemon still runs, same pid" [ "$(prop MainPID)" = "$(sed -n 's/^pid //p' /run/replyroute/status)" ]
rm -f "$PROM"
check "systemctl enable --now replyroute-metrics.timer" sc enable --now replyroute-metrics.timer
check "the timer runs the service (the file is back)" wait_for 10 prom_has "replyroute_daemon_up 1"
check "systemctl disable --now replyroute-metrics.timer" sc disable --now replyroute-metrics.timer
write_conf 100 0
check "an invalid config on disk: the metrics service still runs" sc start replyroute-metrics.service
check "$PROM: replyroute_config_valid 0" prom_has "replyroute_config_valid 0"
check "$PROM: replyroute_daemon_up 1 (it runs the last good config)" prom_has "replyroute_daemon_up 1"
check "$PROM: replyroute_config_changed 1" prom_has "replyroute_config_changed 1"
write_conf 100 0x1
# --status failing outright (no netlink for it): the file goes, no stale metrics.
mkdir -p /run/systemd/system/replyroute-metrics.service.d
printf '[Service]\nRestrictAddressFamilies=\nRestrictAddressFamilies=AF_UNIX\n' \
	>/run/systemd/system/replyroute-metrics.service.d/test.conf
systemctl daemon-reload
check "--status failing (no netlink): the metrics service fails" \
	not sc start replyroute-metrics.service
check "and $PROM is gone (no stale metrics)" [ ! -e "$PROM" ]
check "no temporary file left either" [ ! -e "$PROM.tmp" ]
rm -rf /run/systemd/system/replyroute-metrics.service.d
systemctl daemon-reload
systemctl reset-failed replyroute-metrics.service 2>/dev/null
[ "$failed" = 0 ] || dump_state

# --- reload with a changed table -------------------------------------------------
PID_BEFORE=$(prop MainPID)
write_conf 200 0x1
check "systemctl reload (Table=100 -> 200)" sc reload "$UNIT"
check "rule now looks up 200" wait_for 10 rule_for 0x1 200
check "no rule to table 100 left" wait_for 10 no_rule_for 100
check "table 100 is empty" wait_for 10 table_empty 100
check "table 200: default via 203.0.113.1 dev eth1" wait_for 10 default_in 200
check "ip rule: exactly the designed rules, for table 200" wait_for 10 rules_exactly 200
check "table 200: exactly the default and eth1's prefix" wait_for 10 table_exactly 200
check "still active after reload" is_active
check "same main PID after reload" [ "$(prop MainPID)" = "$PID_BEFORE" ]

# --- reload with an invalid config fails and changes nothing --------------------
write_conf 200 0
check "systemctl reload with Mark=0 fails" not sc reload "$UNIT"
# Barrier instead of a wait: delete our rule and wait until the daemon has put
# it back; a SIGHUP sent by the failed reload would have been handled by then.
ip -4 rule del priority 1000 fwmark 0x1/0xff lookup 200
check "the daemon puts its rule back (barrier)" wait_for 10 rule_for 0x1 200
check "still active after the failed reload" is_active
check "same main PID after the failed reload" [ "$(prop MainPID)" = "$PID_BEFORE" ]
check "rule lookup 200 still installed" rule_for 0x1 200
check "table 200 default route still installed" default_in 200
check "nft table still installed" nft_table

# --- SIGHUP with an invalid config (bypassing ExecReload's --check): the daemon
# keeps running with the old config and says so in STATUS= (DESIGN 3) ---------------
kill -HUP "$PID_BEFORE"
check "SIGHUP with an invalid config: StatusText says 'reload failed'" wait_for 10 status_has 'reload failed'
echo "# StatusText: $(prop StatusText)"
check "still active after SIGHUP with an invalid config" is_active
check "same main PID after SIGHUP with an invalid config" [ "$(prop MainPID)" = "$PID_BEFORE" ]
check "rule lookup 200 still installed after the rejected SIGHUP" rule_for 0x1 200
check "table 200 default route still installed after the rejected SIGHUP" default_in 200
write_conf 200 0x1
[ "$failed" = 0 ] || dump_state

# --- stop removes everything -------------------------------------------------------
NR0=$(restarts)
check "systemctl stop" sc stop "$UNIT"
check "is-active = inactive" is_inactive
check "Result=success after stop" [ "$(prop Result)" = success ]
check "no rule with $PROTO_RE left" no_our_rules
check "table 200 is empty" table_empty 200
check "no nft table inet replyroute" no_nft_table
check "src_valid_mark(eth1) restored to $SYSCTL_ORIG" sysctl_is "$SYSCTL_ORIG"
[ "$failed" = 0 ] || dump_state

# --- watchdog: a hung daemon is killed and restarted ------------------------------
mkdir -p "$DROPIN_DIR"
cat >"$DROPIN_DIR/test.conf" <<EOC
[Service]
WatchdogSec=2s
TimeoutAbortSec=10s
LimitCORE=0
EOC
systemctl daemon-reload
check "start with WatchdogSec=2s" sc start "$UNIT"
check "watchdog armed (WatchdogUSec=2s)" [ "$(prop WatchdogUSec)" = 2s ]
wait_for 5 rule_for 0x1 200
NR0=$(restarts)
PID0=$(prop MainPID)
T_STOP=$(date '+%Y-%m-%d %H:%M:%S')
sleep 2.5   # the daemon must keep a 2s watchdog happy on its own
unchanged() { [ "$(restarts)" = "$1" ] && [ "$(prop MainPID)" = "$2" ] && is_active; }
check "still running after 2.5s with WatchdogSec=2s (the daemon pings)" unchanged "$NR0" "$PID0"
if [ "$PID0" -gt 1 ] 2>/dev/null && kill -STOP "$PID0"; then
	check "SIGSTOPped daemon is killed and restarted within 30s" wait_for 30 restarted_after "$NR0" "$PID0"
else
	notok "SIGSTOP the daemon (MainPID=$PID0)"
fi
check "journal reports the watchdog timeout" \
	wait_for 5 sh -c "journalctl -b --no-pager -u $UNIT --since '$T_STOP' | grep -qi 'watchdog timeout'"
check "after the restart: rule lookup 200 installed again" wait_for 10 rule_for 0x1 200
check "after the restart: table 200 default route" wait_for 10 default_in 200
check "after the restart: nft table" wait_for 10 nft_table
check "after the restart: src_valid_mark(eth1) = 1" wait_for 10 sysctl_is 1
rm -rf "$DROPIN_DIR"
systemctl daemon-reload
check "stop after the watchdog restart" sc stop "$UNIT"
check "no rule with $PROTO_RE left" no_our_rules
check "table 200 is empty" table_empty 200
check "no nft table inet replyroute" no_nft_table
check "src_valid_mark(eth1) restored to $SYSCTL_ORIG across the restart (RuntimeDirectoryPreserve)" sysctl_is "$SYSCTL_ORIG"
[ "$failed" = 0 ] || dump_state

# --- a bad config at start: fails, and no restart loop (RestartPreventExitStatus) ----
systemctl reset-failed "$UNIT" 2>/dev/null
write_conf 100 0
NR0=$(restarts)
check "systemctl start with Mark=0 fails" not sc start "$UNIT"
# A restart would be scheduled as the main process exits, before the start job
# fails: SubState "failed" (not "auto-restart") means none is coming.
check "unit is failed, not restarting" [ "$(prop ActiveState)/$(prop SubState)" = failed/failed ]
check "no automatic restart after a config error" [ "$(restarts)" = "$NR0" ]
check "nothing installed after the failed start" no_our_rules
systemctl reset-failed "$UNIT" 2>/dev/null
write_conf 100 0x1

# --- systemd-analyze security --------------------------------------------------------
for u in "$UNIT" replyroute-metrics.service; do
	sec=$(systemd-analyze security --no-pager "$u" 2>&1)
	score=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for [^:]*: *\([0-9.]*\).*/\1/p' | tail -n1)
	echo "# systemd-analyze security $u: ${score:-?}"
	if [ -n "$score" ] && awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then
		ok "systemd-analyze security $u: exposure $score <= $MAX_EXPOSURE"
	else
		notok "systemd-analyze security $u: exposure ${score:-?} <= $MAX_EXPOSURE"
		printf '%s\n' "$sec" | grep -v '^  ✓' | diag
	fi
done

[ "$failed" = 0 ] || dump_state

# --- upgrade: the daemon is restarted once the new files are in place ---------------
write_conf 100 0x1
check "start before the upgrade" sc start "$UNIT"
check "before the upgrade: rule lookup 100" wait_for 10 rule_for 0x1 100
check "before the upgrade: traffic" traffic_ok
# unrouted_ms CURSOR: for information only (timings are not asserted), from
# the old daemon's SIGTERM (it starts removing its state) to the new one's
# first apply, from the journal after CURSOR.
cursor() { journalctl -n 1 -o cat --show-cursor --no-pager | sed -n 's/^-- cursor: //p'; }
unrouted_ms() {
	journalctl --no-pager -o short-monotonic -u "$UNIT" --after-cursor "$1" |
		awk -F'[][]' '/stopping on/ { t0 = $2 } /ready:/ && t0 { printf "%.0f", ($2 - t0) * 1000; exit }'
}
C=$(cursor)
check "systemctl restart (for comparison)" sc restart "$UNIT"
wait_for 10 rule_for 0x1 100
echo "# systemctl restart: replies unrouted for $(unrouted_ms "$C") ms (SIGTERM to ready)"
PID_BEFORE=$(prop MainPID)
# The old package's prerm, as dpkg runs it first during the upgrade, leaves
# the daemon running: nothing is withdrawn during the unpack.
sh /var/lib/dpkg/info/replyroute.prerm upgrade "$V2" >/dev/null 2>&1
kept_running() { [ "$(prop MainPID)" = "$PID_BEFORE" ] && is_active && rule_for 0x1 100; }
check "prerm upgrade: the daemon keeps running (same PID, rule in place)" kept_running
CURSOR=$(cursor)
stops_since() { journalctl --no-pager -u "$UNIT" --after-cursor "$CURSOR" | grep -c 'stopping on'; }
stopped() { [ "$(stops_since)" -ge 1 ]; }
if out=$(dpkg -i "$DEB2" 2>&1); then ok "dpkg -i replyroute $V2 (upgrade)"; else notok "dpkg -i replyroute $V2 (upgrade)"; printf '%s\n' "$out" | diag; fi
check "upgraded: version $V2" [ "$(dpkg-query -W -f '${Version}' replyroute)" = "$V2" ]
check "upgraded: active" wait_for 10 is_active
check "upgraded: a new main PID (restarted)" [ "$(prop MainPID)" != "$PID_BEFORE" ]
wait_for 5 stopped # journald may not have the line yet when dpkg returns
check "upgraded: the old daemon stopped once (restart in postinst), got $(stops_since)" \
	[ "$(stops_since)" = 1 ]
echo "# upgrade: replies unrouted for $(unrouted_ms "$CURSOR") ms (SIGTERM to ready)"
check "upgraded: the drop-in is kept" test -s "$CONF"
check "upgraded: no .dpkg-* conffile leftovers" [ -z "$(find /etc/replyroute /etc/iproute2 -name '*.dpkg-*')" ]
check "upgraded: rule lookup 100" wait_for 10 rule_for 0x1 100
check "upgraded: table 100 default route" wait_for 10 default_in 100
check "upgraded: nft table" nft_table
check "upgraded: src_valid_mark(eth1) = 1" sysctl_is 1
check "upgraded: traffic" traffic_ok

# --- a hot-plug hook: one file in the runtime drop-in directory, then reload ---------
# (read by the sandboxed daemon and by ExecReload's --check, both with
# RUNTIME_DIRECTORY=/run/replyroute; sorts after test.conf, so its Table= wins)
mkdir -p /run/replyroute/replyroute.conf.d
printf '[Interface]\nName=eth1\nTable=300\n' >/run/replyroute/replyroute.conf.d/zz-hotplug.conf
check "hook: systemctl reload with a runtime drop-in" sc reload "$UNIT"
check "hook: rule now looks up 300" wait_for 10 rule_for 0x1 300
check "hook: table 300 default route" wait_for 10 default_in 300
check "hook: traffic" traffic_ok
check "hook: --check -v shows the merged config and where it came from" \
	sh -c "$DAEMON --check -v | grep -qx '# /etc/replyroute/replyroute.conf.d/test.conf:2, /run/replyroute/replyroute.conf.d/zz-hotplug.conf:1'"
rm /run/replyroute/replyroute.conf.d/zz-hotplug.conf
[ "$failed" = 0 ] || dump_state

# --- purge: nothing left behind -----------------------------------------------------
mkdir -p /run/replyroute/replyroute.conf.d
printf '[Interface]\nName=eth9\n' >/run/replyroute/replyroute.conf.d/50-eth9.conf
if out=$(dpkg --purge replyroute 2>&1); then ok "dpkg --purge replyroute"; else notok "dpkg --purge replyroute"; printf '%s\n' "$out" | diag; fi
check "purged: not installed" [ -z "$(dpkg-query -W -f '${db:Status-Status}' replyroute 2>/dev/null | grep -v not-installed)" ]
check "purged: no replyrouted process" not pgrep -x replyrouted
check "purged: no rule with $PROTO_RE" no_our_rules
tables_empty() { table_empty 100 && table_empty 300; }
check "purged: tables 100 and 300 empty" tables_empty
check "purged: no nft table inet replyroute" no_nft_table
check "purged: src_valid_mark(eth1) restored to $SYSCTL_ORIG" sysctl_is "$SYSCTL_ORIG"
for f in /etc/replyroute /run/replyroute /usr/sbin/replyrouted /lib/systemd/system/$UNIT \
	/etc/iproute2/rt_protos.d/replyroute.conf /etc/systemd/system/multi-user.target.wants/$UNIT \
	/var/lib/systemd/deb-systemd-helper-enabled/$UNIT.dsh-also; do
	check "purged: $f is gone" not test -e "$f"
done
check "purged: the unit is unknown to systemd" \
	[ "$(systemctl show -p LoadState --value "$UNIT")" = not-found ]
check "purged: the client's pings unanswered again" traffic_fails

[ "$failed" = 0 ] || dump_state
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
