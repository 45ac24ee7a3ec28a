#!/usr/bin/env bash
# replyrouted --audit: each conflict staged for real in the host namespace of
# the seed topology, found with its table/chain/rule and its fix, and gone
# again once fixed; the exit status says whether there were warnings. The
# daemon logs the same warnings once, after its first reconcile.
#
#   mon --- rtr --- eth0 192.0.2.2/24        host   eth1, eth2 tracked:
#               \-- eth1 203.0.113.2/24             eth1 table 100 mark 0x1
#               \-- eth2 198.18.20.2/24             eth2 table 101 mark 0x2
#                   (later also 203.0.113.3/24: two NICs on one subnet)
#
# systemd-networkd and NetworkManager are stood in for by a process of that
# name (a copy of sleep) and their files under REPLYROUTE_AUDIT_ROOT.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd iptables-nft python3
topo_seed
veth rtr r_pub2 host eth2
ip -n "$NS_HOST" addr add 198.18.20.2/24 dev eth2 || fail "eth2 address"

printf '%s\n' '[Interface]' Name=eth1 Table=100 Mark=0x1 '[Interface]' Name=eth2 Table=101 Mark=0x2 |
	rr_conf
export REPLYROUTE_AUDIT_ROOT=$T/root
mkdir -p "$REPLYROUTE_AUDIT_ROOT"

# audit: run --audit in host; its output in $AUDIT, its exit status in $AUDIT_RC.
audit() {
	AUDIT=$(rr --audit "$@" 2>&1)
	AUDIT_RC=$?
}
# warnings CHECK: the warning lines of that check in the last audit.
warnings() {
	grep "^warning: $1: " <<<"$AUDIT"
}
# expect_warning DESC CHECK PATTERN: the audit exits 4 and has a CHECK warning matching PATTERN.
expect_warning() {
	audit
	if ((AUDIT_RC == 4)) && warnings "$2" | grep -qF -- "$3"; then
		pass "$1"
	else
		flunk "$1"
		diag "exit $AUDIT_RC, wanted 4 and a '$2' warning with: $3"
		diag "$AUDIT"
	fi
}
# expect_no_warning DESC CHECK: the audit has no CHECK warning.
expect_no_warning() {
	audit
	if ! warnings "$2" >/dev/null; then
		pass "$1"
	else
		flunk "$1"
		diag "$AUDIT"
	fi
}

# 1. The daemon running, nothing else on the host: no warning, exit 0.
rr_start
poll 5 grep -q 'ready:' "$RR_LOG" || fail "daemon did not start"
audit
expect_eq "clean host: exit status 0" 0 "$AUDIT_RC"
expect_eq "clean host: no warnings" "0 warning(s)" "$AUDIT"
audit -j
expect_eq "clean host, JSON: count 0" 0 "$(jq .count <<<"$AUDIT")"

# 2. A foreign whole-mark writer (nft), a masked one outside MarkMask, one inside.
in_ns host nft -f - <<EOF2 || fail "foreign nft table"
table inet foreign {
	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		meta mark set 0x10
		meta mark set meta mark & 0xffff00ff | 0x100
	}
}
EOF2
expect_warning "nft 'meta mark set 0x10': a whole-mark writer, with table and chain" mark-writer \
	"warning: mark-writer: inet foreign chain pre: handle 2: 'meta mark set 0x10' writes the whole mark, overwriting MarkMask 0xff"
expect_eq "the masked write outside MarkMask is not reported" 1 "$(warnings mark-writer | wc -l)"
expect_ok "the fix is named" grep -qF "fix: write only bits outside 0xff (meta mark set meta mark & 0xffffff00 | VALUE" <<<"$AUDIT"
audit -j
expect_eq "JSON: the warning's check and subject" "mark-writer inet foreign chain pre" \
	"$(jq -r '.warnings[] | select(.check == "mark-writer") | "\(.check) \(.subject)"' <<<"$AUDIT")"
in_ns host nft flush chain inet foreign pre
in_ns host nft add rule inet foreign pre ct mark set ct mark or 0x2
expect_warning "nft 'ct mark set ct mark | 0x2': a masked write inside MarkMask" mark-writer \
	"'ct mark set, changing bits 0x2' changes bits inside MarkMask 0xff"
in_ns host nft flush chain inet foreign pre
in_ns host nft add rule inet foreign pre ct mark set mark
expect_warning "nft 'ct mark set mark': a whole-mark writer" mark-writer \
	"'ct mark set meta mark' writes the whole mark"
in_ns host nft delete table inet foreign
expect_no_warning "foreign writer gone: no mark-writer warning" mark-writer

# 3. iptables-nft's MARK target.
in_ns host iptables-nft -t mangle -A PREROUTING -i eth1 -j MARK --set-mark 0x5 ||
	fail "iptables-nft"
expect_warning "iptables-nft MARK target: reported with its table and chain" mark-writer \
	"warning: mark-writer: ip mangle chain PREROUTING: handle"
expect_ok "... as an iptables target whose mask nft cannot show" \
	grep -qF "iptables target MARK may write mark bits inside MarkMask 0xff" <<<"$AUDIT"
in_ns host iptables-nft -t mangle -F PREROUTING
expect_no_warning "iptables rule gone: no mark-writer warning" mark-writer

# 4. Rules that shadow replyroute's: a catch-all before it, one at its priority.
in_ns host ip rule add priority 900 from 192.0.2.0/24 lookup 200 # selective: no shadow
expect_no_warning "a selective rule before ours does not shadow" shadowing-rule
# (a rule without from is "the same" as one with it to the kernel: another table)
in_ns host ip rule add priority 900 lookup 202
expect_warning "a catch-all before replyroute's rule" shadowing-rule \
	"IPv4 rule '900: from all lookup 202' is a catch-all rule before replyroute's"
expect_eq "... once per tracked interface" 2 "$(warnings shadowing-rule | wc -l)"
in_ns host ip rule del priority 900 lookup 202
in_ns host ip rule del priority 900 from 192.0.2.0/24 lookup 200
in_ns host ip rule add priority 1000 from 192.0.2.0/24 lookup 201
expect_warning "a rule at replyroute's own priority" shadowing-rule \
	"'1000: from 192.0.2.0/24 lookup 201' is a rule at replyroute's own priority"
in_ns host ip rule del priority 1000 from 192.0.2.0/24 lookup 201
if in_ns host ip rule add priority 500 l3mdev 2>/dev/null; then
	expect_warning "an l3mdev rule before replyroute's" shadowing-rule \
		"'500: from all l3mdev lookup"
	in_ns host ip rule del priority 500 l3mdev
fi
expect_no_warning "rules gone: no shadowing warning" shadowing-rule

# 5. A route of someone else in table 100.
in_ns host ip route add 198.18.99.0/24 via 192.0.2.1 table 100 proto static
expect_warning "a foreign route in replyroute's table" foreign-routes \
	"table 100, replyroute's, holds 1 route(s) it did not add, e.g. 198.18.99.0/24 via 192.0.2.1 dev eth0 table 100 proto 4"
in_ns host ip route del 198.18.99.0/24 table 100
expect_no_warning "foreign route gone" foreign-routes

# 6. A port-forward on eth1 with forwarding off (the seed's host has ip_forward=0).
in_ns host nft -f - <<EOF2 || fail "nat table"
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "eth1" tcp dport 8080 dnat to 198.18.10.2:80
	}
}
EOF2
expect_warning "DNAT on eth1 with forwarding off" forwarding \
	"IPv4 forwarding is off (net.ipv4.conf.eth1.forwarding=0) but ip nat chain prerouting (handle 2) has dnat"
expect_eq "... only for eth1, the interface the DNAT names" "warning: forwarding: eth1: " \
	"$(warnings forwarding | cut -c1-27)"
sysctl_set host net.ipv4.ip_forward 1
expect_no_warning "forwarding on: no warning" forwarding
sysctl_set host net.ipv4.ip_forward 0
in_ns host nft delete table ip nat

# 7. Two tracked NICs on one subnet with arp_ignore/arp_announce at 0.
ip -n "$NS_HOST" addr add 203.0.113.3/24 dev eth2 || fail "eth2 second address"
expect_warning "eth1 and eth2 on one subnet, ARP defaults" arp \
	"eth1 and eth2 share 203.0.113.0/24 with arp_ignore=0/0 and arp_announce=0/0"
for k in eth1 eth2; do
	sysctl_set host "net.ipv4.conf.$k.arp_ignore" 1
	sysctl_set host "net.ipv4.conf.$k.arp_announce" 2
done
expect_no_warning "arp_ignore=1 arp_announce=2: no warning" arp
ip -n "$NS_HOST" addr del 203.0.113.3/24 dev eth2

# 8. A UDP socket bound to the wildcard address, and one bound to an address.
udp_listen() { # ADDR PORT
	start_bg host python3 -c "import socket,time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$1', $2)); print('bound', flush=True); time.sleep(60)"
	poll 3 grep -q bound "$BG_LOG" || fail "UDP listener on $1:$2"
}
udp_listen 203.0.113.2 5300
UDP_BOUND=$BG_PID
expect_no_warning "a UDP socket bound to an address: no warning" udp-wildcard
udp_listen 0.0.0.0 5353
expect_warning "a wildcard UDP listener, and the process holding it" udp-wildcard \
	"warning: udp-wildcard: udp 0.0.0.0:5353: a UDP socket (inode"
expect_ok "... named" grep -qF ", python3[$BG_PID]) is bound to the wildcard address" <<<"$AUDIT"
stop_bg "$BG_PID" KILL >/dev/null
stop_bg "$UDP_BOUND" KILL >/dev/null
expect_no_warning "listener gone: no warning" udp-wildcard

# 9. notrack on a tracked interface (nft), and on another one.
in_ns host nft -f - <<EOF2 || fail "notrack table"
table inet raw2 {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		iifname "eth0" notrack
	}
}
EOF2
expect_no_warning "notrack on eth0 (not tracked): no warning" notrack
in_ns host nft add rule inet raw2 pre iifname eth1 udp dport 53 notrack
expect_warning "notrack on eth1" notrack "warning: notrack: eth1: inet raw2 chain pre (handle 3): notrack applies to eth1"
in_ns host nft delete table inet raw2
in_ns host iptables-nft -t raw -A PREROUTING -i eth2 -j NOTRACK
expect_warning "iptables NOTRACK on eth2" notrack "warning: notrack: eth2: ip raw chain PREROUTING"
in_ns host iptables-nft -t raw -F PREROUTING

# 9b. nft's reverse path filter (what IPv6 hosts use): with the mark it is fine.
in_ns host nft -f - <<EOF2 || fail "rpf table"
table inet rpf {
	chain prerouting {
		type filter hook prerouting priority filter; policy accept;
		fib saddr . mark . iif oif missing drop
	}
}
EOF2
expect_no_warning "fib saddr . mark . iif: no warning" nft-rpfilter
in_ns host nft add rule inet rpf prerouting fib saddr . iif oif missing drop
expect_warning "fib saddr . iif without the mark" nft-rpfilter \
	"warning: nft-rpfilter: eth1: inet rpf chain prerouting (handle 3): a reverse path check (fib saddr . iif) without the mark"
in_ns host nft delete table inet rpf

# 10. systemd-networkd managing eth1 with the defaults; then the settings that fix it.
cp "$(command -v sleep)" "$T/systemd-networkd" || fail "fake networkd"
start_bg host "$T/systemd-networkd" 60
FAKE_ND=$BG_PID
IDX=$(in_ns host cat /sys/class/net/eth1/ifindex)
mkdir -p "$REPLYROUTE_AUDIT_ROOT/run/systemd/netif/links"
printf 'ADMIN_STATE=configured\nOPER_STATE=routable\n' >"$REPLYROUTE_AUDIT_ROOT/run/systemd/netif/links/$IDX"
expect_warning "networkd manages eth1, ManageForeignRoutingPolicyRules= at its default" networkd \
	"systemd-networkd manages eth1 and ManageForeignRoutingPolicyRules=yes (the default)"
expect_ok "... and ManageForeignRoutes= too, with the setting that fixes it" \
	grep -qF "fix: ManageForeignRoutes=no in the [Network] section" <<<"$AUDIT"
mkdir -p "$REPLYROUTE_AUDIT_ROOT/etc/systemd/networkd.conf.d"
printf '[Network]\nManageForeignRoutingPolicyRules=no\n' >"$REPLYROUTE_AUDIT_ROOT/etc/systemd/networkd.conf"
expect_warning "networkd.conf sets the rules: only routes remain" networkd "ManageForeignRoutes=yes (the default)"
expect_eq "... one warning" 1 "$(warnings networkd | wc -l)"
printf '[Network]\nManageForeignRoutes=no\n' >"$REPLYROUTE_AUDIT_ROOT/etc/systemd/networkd.conf.d/50-rr.conf"
expect_no_warning "a drop-in sets the routes: no warning" networkd
printf '[Network]\nManageForeignRoutes=yes\n' >"$REPLYROUTE_AUDIT_ROOT/etc/systemd/networkd.conf.d/60-later.conf"
expect_warning "a later drop-in wins" networkd \
	"ManageForeignRoutes=yes (/etc/systemd/networkd.conf.d/60-later.conf)"
stop_bg "$FAKE_ND" KILL >/dev/null
expect_no_warning "networkd not running: no warning" networkd
# What the daemon sees under ProtectProc=invisible: networkd's state file, not its process.
touch "$REPLYROUTE_AUDIT_ROOT/run/systemd/netif/state"
expect_warning "networkd's state file without its process: still warned" networkd \
	"ManageForeignRoutes=yes (/etc/systemd/networkd.conf.d/60-later.conf)"
rm "$REPLYROUTE_AUDIT_ROOT/run/systemd/netif/state"

# 11. NetworkManager syncing table 101.
cp "$(command -v sleep)" "$T/NetworkManager" || fail "fake NetworkManager"
start_bg host "$T/NetworkManager" 60
FAKE_NM=$BG_PID
mkdir -p "$REPLYROUTE_AUDIT_ROOT/etc/NetworkManager/system-connections"
printf '[connection]\nid=wan2\ninterface-name=eth2\n[ipv4]\nmethod=auto\nroute-table=101\n' \
	>"$REPLYROUTE_AUDIT_ROOT/etc/NetworkManager/system-connections/wan2.nmconnection"
expect_warning "NetworkManager owns table 101" networkmanager \
	"warning: networkmanager: eth2: NetworkManager's connection /etc/NetworkManager/system-connections/wan2.nmconnection (interface eth2) has ipv4.route-table=101, table 101 of replyroute"
printf '[connection]\nipv6.route-table=100\n' >"$REPLYROUTE_AUDIT_ROOT/etc/NetworkManager/NetworkManager.conf"
expect_warning "NetworkManager's default for every connection: table 100" networkmanager \
	"warning: networkmanager: eth1: NetworkManager's default for every connection (/etc/NetworkManager/NetworkManager.conf) is ipv6.route-table=100"
stop_bg "$FAKE_NM" KILL >/dev/null
expect_no_warning "NetworkManager not running: no warning" networkmanager

# 12. The daemon logged its audit once at start: nothing was staged then.
expect_eq "daemon: no audit line at start on a clean host" 0 "$(grep -c 'audit:' "$RR_LOG")"

# 13. Stopped, src_valid_mark is back to 0 under strict rp_filter; a daemon
# started with a conflict staged logs it, once.
stop_bg "$RR_PID" >/dev/null
expect_warning "strict rp_filter without src_valid_mark (daemon stopped)" rp_filter \
	"warning: rp_filter: eth1: strict rp_filter (all=1, eth1=1) without src_valid_mark (all=0, eth1=0)"
in_ns host nft add table inet foreign
in_ns host nft add chain inet foreign pre '{ type filter hook prerouting priority mangle; }'
in_ns host nft add rule inet foreign pre meta mark set 0x10
rr_start
poll 5 grep -q 'ready:' "$RR_LOG" || fail "daemon did not start"
poll 5 grep -q 'audit: mark-writer' "$RR_LOG"
expect_eq "daemon: the warning logged once at start" 1 "$(grep -c 'audit: mark-writer: inet foreign chain pre' "$RR_LOG")"
expect_eq "daemon: no rp_filter warning (it set src_valid_mark first)" 0 "$(grep -c 'audit: rp_filter' "$RR_LOG")"
# The reload's log line, then a barrier: the reload has run to its end.
kill -HUP "$RR_PID"
poll 5 grep -q 'reloading ' "$RR_LOG" || fail "the daemon did not reload"
rr_barrier
expect_eq "daemon: not logged again on reload" 1 "$(grep -c 'audit: mark-writer' "$RR_LOG")"
stop_bg "$RR_PID" >/dev/null
finish
