#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions called through DISRUPT[] and poll
# No lost work under churn (issue "Never silently wrong", item 1; DESIGN §2:
# "a dirty part stays dirty until it has been applied"). While addresses and
# routes change hundreds of times a second, one disruption that the daemon
# must repair: a firewall reload (nft flush ruleset), its nft table deleted,
# eth1 renamed away and back with src_valid_mark reset, eth1's veth deleted
# and created again under the same name. Once the churn ends, the state must
# be exactly as designed again, every time, without a SIGHUP.
# Topology: tests/topo-seed.sh; the churn's addresses and routes in host:
#
#   +---- mon ----+      +------------------- rtr -------------------+
#   | mon0        |      | r_mon 198.51.100.1/24                     |
#   | .10/24      +------+ r_mgmt 192.0.2.1/24   r_pub 203.0.113.1/24|
#   | dflt via .1 |      +------+-----------------------+------------+
#   +-------------+             |                       |
#                        +------+------ host -----------+------------+
#                        | eth0 192.0.2.2/24    eth1 203.0.113.2/24  |
#                        |  churn: 198.18.128-255.1/24  churn:       |
#                        |   (one prefix each)   198.19.128-255.1/24 |
#                        | 198.51.100/24 via 192.0.2.1 dev eth0      |
#                        | default via 203.0.113.1 dev eth1 (learned)|
#                        | churn in main, proto static:              |
#                        |   198.19.64-127.0/24 via 192.0.2.1        |
#                        |   default via 203.0.113.1 metric 1128-1255|
#                        +-------------------------------------------+
#
# Each round: a churn starts in host (a loop of "ip -force -batch": adds then
# deletes K addresses on eth0, K on eth1, K routes and K higher-metric
# defaults in main; about 1000 changes a second); once it runs, one
# disruption, rotating through the four kinds; the churn goes on for
# RR_CHURN_TAIL_MS after the disruption is complete, removes whatever it
# left (eth1 renamed or deleted under it makes some of its deletes fail) and
# stops by itself (also after RR_CHURN_CAP_MS or RR_CHURN_MAX_BATCHES batches
# whatever happens). Then the state must converge within RR_CHURN_TIMEOUT
# seconds; a barrier (a prefix through eth1 that the daemon must see) shows that
# it stays so once the daemon has read everything. The time from the end of
# the churn to the converged state is printed ("# converged in N ms"), with
# the max and median at the end: a figure, not a pass/fail criterion (the
# benchmarks are for that); converging at all, in time, is.
#
# A round that does not converge is counted as a failure, and the daemon gets
# a SIGHUP so that the later rounds still test something.
#
# Log levels: the daemon must log nothing at error level or above (<0>..<3>)
# for the whole storm. Under churn the kernel answers some changes with
# EINVAL, ENODEV, ENETDOWN, EADDRNOTAVAIL, ... because the daemon's view was
# out of date an instant later; it logs those as warnings (<4>) and retries
# within milliseconds; interrupted dumps and netlink overruns are warnings or
# debug lines too: all accepted. An error line means the daemon thought
# something was really wrong, which churn alone is not.
#
# RR_CHURN_ROUNDS (default 20) rounds; RR_CHURN_TIMEOUT (default 5 s, 15 s
# when RR_OK_TIMEOUT is raised, as under valgrind).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd sysctl
topo_seed

ROUNDS=${RR_CHURN_ROUNDS:-20}
if [[ -n ${RR_CHURN_TIMEOUT:-} ]]; then
	TIMEOUT=$RR_CHURN_TIMEOUT
elif ((${RR_OK_TIMEOUT%.*} > 2)); then
	TIMEOUT=15
else
	TIMEOUT=5
fi
CHURN_K=${RR_CHURN_K:-5}            # changes of each kind per batch (8 kinds: 8K a batch)
CHURN_PAUSE=${RR_CHURN_PAUSE:-0.002} # seconds between batches
CHURN_MIN_MS=${RR_CHURN_MIN_MS:-300}
CHURN_TAIL_MS=${RR_CHURN_TAIL_MS:-300}
CHURN_CAP_MS=${RR_CHURN_CAP_MS:-10000}
CHURN_MAX_BATCHES=${RR_CHURN_MAX_BATCHES:-1000}
PORT=21

TABLE100=$(rr_want_table4 eth1 "$HOST_ETH1_ADDR" "$HOST_ETH1_GW" 203.0.113.0/24)

# A host with many addresses, as a real one may have: STANDING /32s on
# stand0, a link kept down (so none of them is a prefix of table 100). With
# them every dump of addresses takes several netlink messages, and an address
# change between two of them interrupts it (NLM_F_DUMP_INTR): the daemon's
# reads fail now and then under churn, as on a real host. With the few
# addresses of a bare namespace a dump is one message, which nothing can
# interrupt. (The kernel checks the consistency of link and address dumps,
# not of route dumps: many routes would not do.)
STANDING=${RR_CHURN_STANDING:-5000}
ip -n "$NS_HOST" link add stand0 type veth peer name stand1 || fail "stand0"
for ((i = 0; i < STANDING; i++)); do
	echo "addr add 198.19.$((i / 256)).$((i % 256))/32 dev stand0"
done >"$T/standing"
ip -n "$NS_HOST" -batch "$T/standing" || fail "standing addresses on stand0"

rr_conf_seed

# converged: rule, table 100, nft table and eth1's src_valid_mark exactly as
# designed, the daemon running (rr_converged).
converged() { rr_converged "$TABLE100"; }

# main_default: the default route via eth1 that DHCP would install again
# (the kernel drops it when eth1 goes down or away).
main_default() {
	ip -n "$NS_HOST" route replace default via "$HOST_ETH1_GW" dev eth1
}

# The churn, run in host: churn.sh OUT GO DONE. Writes "START END BATCHES
# COMMANDS" (ms since the epoch) to OUT as its very last act; creates GO after
# its first batch; stops RR_CHURN_TAIL_MS after DONE appears (and not before
# RR_CHURN_MIN_MS), or at the cap.
cat >"$T/churn.sh" <<EOF || fail "cannot write the churn script"
#!/usr/bin/env bash
out=\$1 go=\$2 done=\$3
k=$CHURN_K pause=$CHURN_PAUSE min=$CHURN_MIN_MS tail=$CHURN_TAIL_MS cap=$CHURN_CAP_MS maxb=$CHURN_MAX_BATCHES
EOF
cat >>"$T/churn.sh" <<'EOF' || fail "cannot write the churn script"
ms() { t=${EPOCHREALTIME/./}; now=$((t / 1000)); }
ms; start=$now
b=0 n=0 done_at=0
while :; do
	add= del=
	for ((i = 0; i < k; i++)); do
		x=$(((b * k + i) % 128 + 128))
		add+="addr add 198.18.$x.1/24 dev eth0
addr add 198.19.$x.1/24 dev eth1
route add 198.19.$((x - 64)).0/24 via 192.0.2.1 dev eth0 proto static
route add default via 203.0.113.1 dev eth1 metric $((1000 + x)) proto static
"
		del+="addr del 198.18.$x.1/24 dev eth0
addr del 198.19.$x.1/24 dev eth1
route del 198.19.$((x - 64)).0/24 via 192.0.2.1 dev eth0 proto static
route del default via 203.0.113.1 dev eth1 metric $((1000 + x)) proto static
"
	done
	ip -force -batch - <<<"$add$del" >/dev/null 2>&1
	b=$((b + 1)) n=$((n + 8 * k))
	((b == 1)) && : >"$go"
	ms
	((done_at == 0)) && [[ -e $done ]] && done_at=$now
	((now - start >= cap || b >= maxb)) && break
	((done_at && now - start >= min && now - done_at >= tail)) && break
	sleep "$pause"
done
# What a rename or a deleted link left behind (its deletes failed).
ip addr flush dev eth0 to 198.18.128.0/17 >/dev/null 2>&1
ip addr flush dev eth1 to 198.19.128.0/17 >/dev/null 2>&1
ip route flush table main proto static >/dev/null 2>&1
ms
echo "$start $now $b $n" >"$out.tmp" && mv "$out.tmp" "$out"
EOF

# The four disruptions; each returns non-zero if a step failed.
KINDS=("nft flush ruleset" "nft delete table (refused: owned)" "rename eth1 away and back" "eth1 deleted and created again")

disrupt_flush() {
	in_ns host nft flush ruleset
}

# The table is owned by the daemon: another process's delete is refused.
disrupt_delete() {
	! in_ns host nft delete table inet replyroute 2>/dev/null && rr_nft_owned
}

# src_valid_mark reset, then renamed away and back while down: its address
# stays, main's default route via eth1 goes with the link and is put back.
disrupt_rename() {
	local tmp=rrtmp$1
	in_ns host sysctl -qw net.ipv4.conf.eth1.src_valid_mark=0 &&
		ip -n "$NS_HOST" link set eth1 down &&
		ip -n "$NS_HOST" link set eth1 name "$tmp" &&
		ip -n "$NS_HOST" link set "$tmp" name eth1 &&
		ip -n "$NS_HOST" link set eth1 up &&
		poll 5 link_up host eth1 &&
		main_default
}

# eth1's veth deleted and created again (a new ifindex), then configured as
# topo_seed does: rp_filter on both ends, addresses, main's default route.
disrupt_recreate() {
	ip -n "$NS_HOST" link del eth1 || return 1
	veth host eth1 rtr r_pub
	sysctl_set host net.ipv4.conf.eth1.rp_filter 1
	sysctl_set rtr net.ipv4.conf.r_pub.rp_filter 1
	ip -n "$NS_RTR" addr add "$RTR_PUB_ADDR/24" dev r_pub &&
		ip -n "$NS_HOST" addr add "$HOST_ETH1_ADDR/24" dev eth1 &&
		main_default
}
DISRUPT=(disrupt_flush disrupt_delete disrupt_rename disrupt_recreate)

# errors_logged: the daemon's lines at error level or above (<0>..<3>).
errors_logged() { grep -E '^<[0-3]>' "$RR_LOG"; }

# ---------------------------------------------------------------------------
rr_start -v
expect_ok "start: converged" poll 5 converged

TIMES=()     # ms from the end of the churn to converged, per converged round
NOT_CONVERGED=0
SLOW=0       # rounds over the issue's 100 ms
FIRST_OK=0   # rounds already converged at the first check
for ((round = 1; round <= ROUNDS; round++)); do
	kind=$(((round - 1) % ${#DISRUPT[@]}))
	what="round $round (${KINDS[kind]})"
	out=$T/churn.$round.out go=$T/churn.$round.go done=$T/churn.$round.done

	start_bg host bash "$T/churn.sh" "$out" "$go" "$done"
	churn_pid=$BG_PID
	poll 5 test -e "$go" >/dev/null || fail "$what: the churn did not start"
	_rr_now
	d0=$((_rr_us_now / 1000))
	# (Its errors go to stderr, a helper's "Bail out!" to stdout.)
	"${DISRUPT[kind]}" "$round" || flunk "$what: the disruption failed"
	_rr_now
	d1=$((_rr_us_now / 1000))
	: >"$done"

	# Wait for the end of the churn as closely as we can (not poll's 20 ms).
	_rr_now
	deadline=$((_rr_us_now + (CHURN_CAP_MS + 10000) * 1000))
	while [[ ! -s $out ]] && ((_rr_us_now < deadline)); do
		sleep 0.002
		_rr_now
	done
	[[ -s $out ]] || fail "$what: the churn did not end"
	read -r c0 c1 batches cmds <"$out"
	log0=$(wc -l <"$RR_LOG")
	wait_bg "$churn_pid" || fail "$what: the churn failed"

	# Converged: measured from the end of the churn to the end of the
	# first check that finds everything right (a check reads rules, table
	# 100, the nft table and the sysctl: a few ip and nft runs, tens of ms
	# on a loaded machine; when the first check succeeds, that is all the
	# figure says: converged by then).
	ok=0 checks=0
	_rr_now
	first=$((_rr_us_now / 1000 - c1))
	deadline=$(((c1 + TIMEOUT * 1000) * 1000))
	while :; do
		checks=$((checks + 1))
		if converged >"$T/converged.out" 2>&1; then
			ok=1
			break
		fi
		_rr_now
		((_rr_us_now < deadline)) || break
		sleep 0.005
	done
	_rr_now
	ms=$((_rr_us_now / 1000 - c1))
	if ((!ok)); then
		NOT_CONVERGED=$((NOT_CONVERGED + 1))
		flunk "$what: converged within ${TIMEOUT}s of the end of the churn"
		diag <"$T/converged.out"
		printf '# not converged %d ms after the end of the churn; SIGHUP to go on\n' "$ms"
		kill -HUP "$RR_PID"
		poll "$TIMEOUT" converged >/dev/null || fail "$what: not even after a SIGHUP"
		continue
	fi
	TIMES+=("$ms")
	((checks == 1)) && FIRST_OK=$((FIRST_OK + 1))
	pass "$what: converged within ${TIMEOUT}s of the end of the churn"
	printf '# converged in %d ms (check %d, the first began at +%d ms; churn: %d commands in %d batches over %d ms, ~%d/s; disruption at +%d ms, %d ms long)\n' \
		"$ms" "$checks" "$first" "$cmds" "$batches" "$((c1 - c0))" "$((cmds * 1000 / (c1 - c0 + 1)))" \
		"$((d0 - c0))" "$((d1 - d0))"
	# Slower than the issue's 100 ms: what the daemon did meanwhile.
	if ((ms > 100)); then
		SLOW=$((SLOW + 1))
		printf '# (over 100 ms) the daemon, from the end of the churn to converged:\n'
		tail -n +$((log0 + 1)) "$RR_LOG" | head -n "$(($(wc -l <"$RR_LOG") - log0))" |
			grep -v -e '^<7>status' -e '^<6>route' | head -n 12 | diag
	fi
	# Still right once the daemon has read everything up to now.
	rr_barrier
	expect_ok "$what: still converged after a barrier" converged
done

# The figures: max and median of the converged rounds.
if ((${#TIMES[@]})); then
	mapfile -t SORTED < <(printf '%s\n' "${TIMES[@]}" | sort -n)
	n=${#SORTED[@]}
	if ((n % 2)); then
		median=${SORTED[n / 2]}
	else
		median=$(((SORTED[n / 2 - 1] + SORTED[n / 2]) / 2))
	fi
	printf '# convergence after the churn over %d rounds: median %d ms, max %d ms (min %d ms)\n' \
		"$n" "$median" "${SORTED[n - 1]}" "${SORTED[0]}"
	printf '# %d of %d rounds over 100 ms; %d converged at the first check, where the figure is only the time the check took\n' \
		"$SLOW" "$n" "$FIRST_OK"
fi
expect_eq "every round converged without a SIGHUP" 0 "$NOT_CONVERGED"

# After the storm: alive, no error line, eth1's rules, real traffic through eth1.
expect_ok "the daemon is still running" _rr_alive "$RR_PID"
expect_eq "no error-level line logged during the storm" "" "$(errors_logged)"
printf '# %d warning lines logged, the most frequent (numbers as N):\n' "$(grep -c '^<4>' "$RR_LOG")"
grep '^<4>' "$RR_LOG" | sed -E 's/^<4>//; s/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -n 8 | diag
expect_eq "exactly eth1's rules, no duplicate" "$(rr_want_rules "eth1 0x1 100")" "$(rr_rules)"

rr_count_at_rtr "tcp sport $PORT"
expect_ok "TCP mon -> $HOST_ETH1_ADDR:$PORT works" tcp_ok mon host "$HOST_ETH1_ADDR" "$PORT"
N=$(nft_packets rtr count from_pub)
expect_ok "rtr received the replies on r_pub, from eth1 ($N packets)" test "$N" -gt 0
expect_eq "rtr received no reply on r_mgmt" 0 "$(nft_packets rtr count from_mgmt)"
expect_ok "ping mon -> $HOST_ETH1_ADDR works" ping_ok mon "$HOST_ETH1_ADDR"

stop_bg "$RR_PID"
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_eq "stopped: nothing of replyroute's left" "" "$(rr_rules; routes host 100)"

finish
