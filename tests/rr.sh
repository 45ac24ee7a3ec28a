# shellcheck shell=bash
#
# tests/rr.sh - helpers for the tests of replyrouted on the seed topology.
# lib.sh stays generic (namespaces, TAP, traffic); what knows replyroute is
# here. Source it after lib.sh; it brings in topo-seed.sh and bails out unless
# the daemon is built:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   . "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
#   topo_seed
#
# The daemon runs in the namespace host, with the config $CONF (write it with
# rr_conf or rr_conf_seed) and its runtime directory in $T.

. "$(dirname "${BASH_SOURCE[0]}")/topo-seed.sh"
need_daemon

CONF=$T/replyroute.conf
export RUNTIME_DIRECTORY=$T/run
# The nft table for the seed's config (eth1, mark 0x1).
RR_SEED_NFT=$(cat "$(dirname "${BASH_SOURCE[0]}")/expected/seed.nft") ||
	fail "no tests/expected/seed.nft"

# ---------------------------------------------------------------------------
# Config and daemon

# rr_conf: write $CONF from stdin.
rr_conf() {
	cat >"$CONF" || fail "cannot write $CONF"
}

# rr_conf_seed [LINE...]: write the seed's config to $CONF: eth1, table 100,
# mark 0x1, and the LINEs in its section (e.g. "Gateway=203.0.113.1").
# shellcheck disable=SC2120 # the arguments are optional
rr_conf_seed() {
	printf '%s\n' '[Interface]' Name=eth1 Table=100 Mark=0x1 "$@" | rr_conf
}

# rr ARG...: run replyrouted once in host with $CONF (--once, --dry-run, ...).
rr() {
	in_ns host "$REPLYROUTED" -c "$CONF" "$@"
}

# rr_start [VAR=VALUE...] [ARG...]: start replyrouted in host with $CONF, the
# ARGs and the VARs in its environment (and NOTIFY_SOCKET if notify_listen
# ran); its PID in RR_PID, its log in RR_LOG.
# shellcheck disable=SC2120 # the arguments are optional
rr_start() {
	local env=()
	[[ -n ${NOTIFY_SOCKET:-} ]] && env+=("NOTIFY_SOCKET=$NOTIFY_SOCKET")
	while (($#)) && [[ $1 == *=* ]]; do
		env+=("$1")
		shift
	done
	start_bg host env "${env[@]}" "$REPLYROUTED" -c "$CONF" "$@"
	RR_PID=$BG_PID
	# shellcheck disable=SC2034 # for the tests
	RR_LOG=$BG_LOG
}

# rr_started: wait until the daemon has an IPv4 rule in host (rules go in
# last: its nft table and routes are there too); bail out after 5s.
rr_started() {
	poll 5 eval '[[ -n $(rr_rules -4) ]]' >/dev/null || fail "the daemon did not start"
}

# ---------------------------------------------------------------------------
# Kernel state in host, for exact assertions

# rr_norm: filter ip's output: "proto replyroute" (iproute2 with an
# rt_protos entry for 205) as "proto 205", a route's remaining lifetime
# ("expires 1794sec") as "expires Nsec", trailing blanks dropped.
rr_norm() {
	sed -E 's/proto replyroute/proto 205/g; s/ expires -?[0-9]+sec/ expires Nsec/g; s/[[:space:]]+$//'
}

# rr_sort_rules: sort "ip rule" lines by priority, then by text: the kernel
# lists rules of equal priority in the order they were added, which a repair
# or a reload can change.
rr_sort_rules() {
	sort -t: -k1,1n -k2
}

# rr_rules [-4|-6]: replyroute's rules in host (proto 205), IPv4 then IPv6
# unless a family is given, each family sorted with rr_sort_rules.
# shellcheck disable=SC2120 # the arguments are optional
rr_rules() {
	local fam fams=(-4 -6)
	(($#)) && fams=("$1")
	for fam in "${fams[@]}"; do
		in_ns host ip "$fam" rule show | rr_norm | grep 'proto 205' | rr_sort_rules
	done
}

# rr_want_rules [-k MASK] SPEC...: the rules replyroute installs for one
# family, as rr_rules prints them, for the interfaces of that family that are
# tracked and active. One SPEC an interface, a single argument
# "IFACE MARK TABLE [PRIORITY [SOURCE...]]" (PRIORITY 1000 unless given;
# SOURCEs: its usable addresses of the family, with SourceRules=yes). MASK is
# MarkMask (0xff unless given). Per interface I (mark M, table T, priority P):
#   P-1     fwmark M/K iif I lookup main   the original direction of a
#                                          forwarded connection goes by main
#   P       fwmark M/K lookup T            replies go by I's table
# and once for the family (Pmin, Pmax over the SPECs):
#   Pmin-2  fwmark 0/K goto Pmax+1         unmarked packets jump over them all
#   Pmax+1  nop                            the anchor the gate jumps to
#   Pmax+1  from SOURCE lookup T           source rules, after the anchor
# No SPEC: nothing.
rr_want_rules() {
	_rr_want_rules "$@" | rr_sort_rules
}

# _rr_fwmark MARK MASK: as ip prints them: "fwmark M/K", or "fwmark M" when K
# is all ones; M and K in %#x (0 is "0").
_rr_fwmark() {
	if (($2 == 0xffffffff)); then
		printf 'fwmark %#x' "$1"
	else
		printf 'fwmark %#x/%#x' "$1" "$2"
	fi
}

_rr_want_rules() {
	local mask=0xff spec lo=0xffffffff hi=0 i m t p a
	local -a w src=()
	if [[ ${1:-} == -k ]]; then
		mask=$2
		shift 2
	fi
	(($#)) || return 0
	for spec; do
		read -ra w <<<"$spec"
		i=${w[0]} m=${w[1]} t=${w[2]} p=${w[3]:-1000}
		printf '%s:\tfrom all %s iif %s lookup main proto 205\n' \
			$((p - 1)) "$(_rr_fwmark "$m" "$mask")" "$i"
		printf '%s:\tfrom all %s lookup %s proto 205\n' "$p" "$(_rr_fwmark "$m" "$mask")" "$t"
		((p < lo)) && lo=$p
		((p > hi)) && hi=$p
		for a in "${w[@]:4}"; do
			src+=("$a $t")
		done
	done
	printf '%s:\tfrom all %s goto %s proto 205\n' $((lo - 2)) "$(_rr_fwmark 0 "$mask")" $((hi + 1))
	printf '%s:\tfrom all nop proto 205\n' $((hi + 1))
	for a in "${src[@]}"; do
		printf '%s:\tfrom %s lookup %s proto 205\n' $((hi + 1)) "${a% *}" "${a#* }"
	done
}

# rr_want_table4 IFACE SOURCE GATEWAY [PREFIX...]: replyroute's IPv4 routes
# in IFACE's table, as ip lists them: the default via GATEWAY ("" for none),
# then IFACE's on-link PREFIXes (from main), each with SOURCE. Nothing of
# another interface.
rr_want_table4() {
	local i=$1 s=$2 gw=$3 p
	shift 3
	[[ -z $gw ]] || printf 'default via %s dev %s proto 205 src %s\n' "$gw" "$i" "$s"
	for p; do
		printf '%s dev %s proto 205 scope link src %s\n' "$p" "$i" "$s"
	done
}

# rr_table TABLE [-4|-6]: all routes of TABLE in host (ours and foreign ones).
rr_table() {
	routes host "$@" | rr_norm
}

# rr_nft [NFT-OPTS...]: replyroute's nft table in host (e.g. -a for handles),
# without what depends on the run rather than the config: the counters'
# values (-s), the owner ("flags
# owner" and its "# progname" comment: the daemon's table is owned, --once's
# is not; rr_nft_owned tells) and the local addresses the daemon keeps in the
# maps addr_mark4/6 (they follow the topology; rr_nft_addrs lists them).
# shellcheck disable=SC2120 # the arguments are optional
rr_nft() {
	local out
	out=$(in_ns host nft -s "$@" list table inet replyroute) || return
	awk '
		/^\tmap addr_mark[46] \{/ { inmap = 1 }
		inmap && /^\t\telements = / { skip = 1 }
		/^\t}$/ { inmap = skip = 0 }
		/^\tflags owner$/ { owned = 1; next }
		owned && !gap && /^$/ { gap = 1; next }  # nft adds one after the comment then
		skip { next }
		{ sub(/ # progname .*$/, ""); print }' <<<"$out"
}

# rr_nft_owned: host's table inet replyroute is declared with "flags owner".
rr_nft_owned() {
	in_ns host nft list table inet replyroute | grep -qx $'\tflags owner'
}

# rr_nft_addrs: the elements of addr_mark4 and addr_mark6, one per line
# ("203.0.113.2 : jump ct_0x1"), sorted.
rr_nft_addrs() {
	local m
	for m in addr_mark4 addr_mark6; do
		in_ns host nft -j list map inet replyroute "$m" |
			jq -r '.nftables[].map.elem // empty | .[] |
				"\(.[0]) : jump \(.[1].jump.target)"'
	done | sort
}

# rr_converged TABLE100: replyrouted ($RR_PID) runs and host holds exactly the
# seed's design: eth1's rules (rr_want_rules), table 100 exactly TABLE100, the
# seed's nft table, src_valid_mark=1 on eth1. Prints what differs.
rr_converged() {
	local want got bad=0
	_rr_alive "$RR_PID" || { echo "daemon is not running"; return 1; }
	want=$(rr_want_rules "eth1 0x1 100")
	got=$(rr_rules)
	[[ $got == "$want" ]] || { echo "rules:"; diff <(echo "$want") <(echo "$got"); bad=1; }
	got=$(rr_table 100)
	[[ $got == "$1" ]] || { echo "table 100:"; diff <(echo "$1") <(echo "$got"); bad=1; }
	got=$(rr_nft 2>&1)
	[[ $got == "$RR_SEED_NFT" ]] ||
		{ echo "nft:"; diff <(echo "$RR_SEED_NFT") <(echo "$got"); bad=1; }
	got=$(sysctl_get host net.ipv4.conf.eth1.src_valid_mark 2>&1)
	[[ $got == 1 ]] || { echo "eth1 src_valid_mark: $got"; bad=1; }
	return "$bad"
}

# rr_settle: a barrier for the daemon $RR_PID, started with -v: SIGHUP, then
# wait for that reload's reconcile, which reads everything again (every event
# sent before is in its view). It logs "reloading FILE" and changes nothing
# when the config did not change.
rr_settle() {
	local n
	n=$(grep -c 'reloading ' "$RR_LOG")
	kill -HUP "$RR_PID" || return
	poll 5 _rr_reloaded "$((n + 1))" >/dev/null
}

# _rr_reloaded N: the daemon logged the reconcile of its Nth reload.
_rr_reloaded() {
	awk -v n="$1" '/reloading /{ c++ } c >= n && /reconcile \(dirty/{ f = 1 } END { exit !f }' \
		"$RR_LOG"
}

# Running downloads from host to mon through eth1 (mon -> 203.0.113.2 arrives
# on eth1): dl_serve starts a server on host's eth1 address that sends each
# client DL_CHUNKS chunks of 64 KiB, DL_PACE seconds apart (a download that is
# still running while the test disturbs it); dl_start N starts N clients in
# mon; dl_done TIMEOUT waits for them and prints one line per download that
# did not get every byte. DL_PORT is the server's port.
DL_CHUNKS=30 DL_PACE=0.1 DL_PORT=8021
dl_serve() {
	start_bg host socat "TCP4-LISTEN:$DL_PORT,bind=$HOST_ETH1_ADDR,reuseaddr,fork" \
		SYSTEM:"for i in \$(seq $DL_CHUNKS); do head -c 65536 /dev/zero; sleep $DL_PACE; done"
	poll 3 _rr_listening host tcp "$DL_PORT" "$BG_PID" >/dev/null || fail "download server"
}

dl_start() {
	local i
	_rr_dl=()
	for ((i = 0; i < $1; i++)); do
		start_bg mon sh -c "socat -u TCP4:$HOST_ETH1_ADDR:$DL_PORT STDOUT | wc -c"
		_rr_dl+=("$BG_PID:$BG_LOG")
	done
	# Running: every client has its connection.
	poll 5 _rr_dl_running "$1" >/dev/null || fail "downloads did not start"
}

_rr_dl_running() {
	(($(in_ns mon ss -H -t -n state established "dport = :$DL_PORT" | wc -l) >= $1))
}

dl_done() {
	local d pid log got want=$((DL_CHUNKS * 65536)) bad=0 end=$((SECONDS + $1))
	for d in "${_rr_dl[@]}"; do
		pid=${d%%:*} log=${d#*:}
		wait_bg "$pid" "$((end > SECONDS ? end - SECONDS : 1))" >/dev/null
		got=$(tail -n 1 "$log")
		[[ $got == "$want" ]] || { echo "download $pid: $got of $want bytes"; bad=1; }
	done
	return "$bad"
}

# rr_count_at_rtr MATCH: count in rtr, before its rp_filter, the packets from
# host's eth1 address that match MATCH (nft, e.g. "tcp dport 21"), by the link
# they come in on: counters from_pub (r_pub) and from_mgmt (r_mgmt) of its
# table inet count; read them with nft_packets rtr count from_pub.
rr_count_at_rtr() {
	in_ns rtr nft -f - <<-EOF || fail "rtr nft table inet count"
		table inet count {
			counter from_pub { }
			counter from_mgmt { }
			chain prerouting {
				type filter hook prerouting priority raw; policy accept;
				iifname "r_pub" ip saddr $HOST_ETH1_ADDR $1 counter name from_pub
				iifname "r_mgmt" ip saddr $HOST_ETH1_ADDR $1 counter name from_mgmt
			}
		}
	EOF
}

# rr_barrier: make sure the running daemon has handled every event so far. An
# on-link prefix through eth1 in main is copied to table 100; once it is
# there, the daemon has read the kernel after everything that came before.
# The route goes again, and so does its copy.
_rr_barrier=10
rr_barrier() {
	_rr_barrier=$((_rr_barrier + 1))
	local net=198.18.$_rr_barrier
	ip -n "$NS_HOST" route add "$net.0/24" dev eth1 || fail "barrier route"
	poll 5 eval "rr_table 100 -4 | grep -q '^$net.0/24 dev eth1 proto 205 '" ||
		fail "barrier: the daemon did not react"
	ip -n "$NS_HOST" route del "$net.0/24" dev eth1
	poll 5 eval "! rr_table 100 -4 | grep -q '^$net.0/24 '" ||
		fail "barrier: route not withdrawn"
}

# ---------------------------------------------------------------------------
# Watching what changes: ip monitor (rules, routes) and nft monitor in host.
#
#   mon_start [nft]     start the monitors
#   mon_mark            remember where their logs end
#   ...                 what must not (or must) change anything
#   mon_sync            a sentinel every monitor sees: all before it is logged
#   mon_ip_events       the rule and route events since mon_mark
#   mon_nft_events      the nft events since mon_mark
#   mon_stop            stop the monitors, remove probes and sentinels
#
# Probes and sentinels are host routes in table 300 via 192.0.2.1 (and
# elements of the set s of a table inet probe): 198.19.2.N probes, 198.19.3.N
# sentinels. The event lists leave them out, nothing else.

MON_NFT=
_rr_mon_pids=()
_rr_mon_probe=0
_rr_mon_sentinel=0
_RR_MON_OURS='^(Deleted )?198\.19\.[23]\.[0-9]+ via 192\.0\.2\.1 dev eth0 table 300$'

# _rr_mon_add NET N: add the route NET.N in table 300 and, with nft, the
# element NET.N to the probe set.
_rr_mon_add() {
	ip -n "$NS_HOST" route add "$1.$2/32" via 192.0.2.1 table 300 || return 1
	[[ -z $MON_NFT ]] || in_ns host nft add element inet probe s "{ $1.$2 }"
}

# _rr_mon_seen NET N: every monitor has logged NET.N (N: a regex).
_rr_mon_seen() {
	local re="${1//./\\.}\\.$2([^0-9]|$)"
	grep -qE "$re" "$MON_IP" && { [[ -z $MON_NFT ]] || grep -qE "$re" "$MON_NFT"; }
}

# _rr_mon_probe: add one more probe; true once the monitors have logged one.
_rr_mon_probe() {
	_rr_mon_probe=$((_rr_mon_probe + 1))
	_rr_mon_add 198.19.2 "$_rr_mon_probe" && _rr_mon_seen 198.19.2 '[0-9]+'
}

# mon_start [nft]: start ip monitor for rules and routes in host (its log:
# $MON_IP), and nft monitor with "nft" ($MON_NFT), through a pty each, so
# that they print every event at once. Returns once they see events (probes
# until they do); the probe routes are gone again then, and their deletion
# logged.
# shellcheck disable=SC2120 # the arguments are optional
mon_start() {
	MON_NFT=
	start_bg host script -qfec "ip monitor rule route" /dev/null
	MON_IP=$BG_LOG
	_rr_mon_pids+=("$BG_PID")
	if [[ ${1:-} == nft ]]; then
		in_ns host nft add table inet probe &&
			in_ns host nft add set inet probe s '{ type ipv4_addr; }' ||
			fail "nft probe set"
		start_bg host script -qfec "nft monitor" /dev/null
		MON_NFT=$BG_LOG
		_rr_mon_pids+=("$BG_PID")
	fi
	poll 3 _rr_mon_probe || fail "the monitors see nothing"
	ip -n "$NS_HOST" route flush table 300 root 198.19.2.0/24
	poll 3 grep -q "Deleted 198.19.2.$_rr_mon_probe " "$MON_IP" ||
		fail "ip monitor missed the delete"
}

# mon_mark: the events from now on are the ones mon_*_events show.
mon_mark() {
	_rr_mon_ip_mark=$(wc -l <"$MON_IP")
	[[ -z $MON_NFT ]] || _rr_mon_nft_mark=$(wc -l <"$MON_NFT")
}

# mon_sync: a change every monitor sees; once it is in their logs, every
# earlier event is too.
mon_sync() {
	_rr_mon_sentinel=$((_rr_mon_sentinel + 1))
	_rr_mon_add 198.19.3 "$_rr_mon_sentinel" || fail "sentinel"
	poll 3 _rr_mon_seen 198.19.3 "$_rr_mon_sentinel" || fail "the monitors stopped"
}

# _rr_mon_since LOG MARK: the lines of LOG after line MARK, without the
# pty's carriage returns; and a complaint, that makes any check on them fail,
# if the last sentinel is not among them (no mon_sync after mon_mark).
_rr_mon_since() {
	local ev
	ev=$(tail -n +$(($2 + 1)) "$1" | tr -d '\r')
	grep -qE "198\.19\.3\.$_rr_mon_sentinel([^0-9]|$)" <<<"$ev" ||
		echo "(sentinel 198.19.3.$_rr_mon_sentinel not logged since mon_mark: mon_sync missing)"
	printf '%s\n' "$ev"
}

# mon_ip_events: the rule and route events since mon_mark, normalised, one a
# line, probes and sentinels left out. Call mon_sync first.
mon_ip_events() {
	_rr_mon_since "$MON_IP" "$_rr_mon_ip_mark" | rr_norm | grep -vE "$_RR_MON_OURS"
}

# mon_nft_events: the nft events since mon_mark, the probe table's and the
# generation lines left out. Call mon_sync first.
mon_nft_events() {
	_rr_mon_since "$MON_NFT" "$_rr_mon_nft_mark" |
		grep -v -e 'inet probe' -e '^# new generation'
}

# mon_stop: stop the monitors; remove the probe table and the sentinel routes.
mon_stop() {
	local pid
	for pid in "${_rr_mon_pids[@]}"; do
		stop_bg "$pid" >/dev/null
	done
	_rr_mon_pids=()
	ip -n "$NS_HOST" route flush table 300 root 198.19.2.0/23
	[[ -z $MON_NFT ]] || in_ns host nft delete table inet probe
}
