#!/usr/bin/env bash
# replyrouted --explain on the seed topology with a LAN behind the host (the
# port-forward of it-router.sh): the kernel's answers before and after the
# daemon fixes the path (the verdict flips), every printed `ip route get`
# repeating its step, real traffic agreeing with the verdict, a shadowing
# rule named as the one that led the reply astray, and the DNAT'ed case.
#
#   mon 198.51.100.10 --- rtr --- eth0 192.0.2.2     host   (default via eth1,
#                             \-- eth1 203.0.113.2           198.51.100/24 via eth0)
#                                  lan1 198.18.10.1 --- lan0 198.18.10.2 (LAN)
#   DNAT eth1 tcp 8080 -> 198.18.10.2:80
#   IPv6 as well (topo_seed6): mon 2001:db8:100::10, eth1 2001:db8:113::2.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd jq
topo_seed
topo_seed6

LAN_ADDR=198.18.10.2
ns_add lan
sysctl_set lan net.ipv4.conf.all.rp_filter 1
veth lan lan0 host lan1
sysctl_set host net.ipv4.conf.lan1.rp_filter 1
ip -n "$(ns_name lan)" addr add "$LAN_ADDR/24" dev lan0 &&
	ip -n "$(ns_name lan)" route add default via 198.18.10.1 &&
	ip -n "$NS_HOST" addr add 198.18.10.1/24 dev lan1 || fail "LAN addresses"
in_ns host nft -f - <<EOF || fail "nat table"
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "eth1" tcp dport 8080 dnat to $LAN_ADDR:80
	}
}
EOF
rr_conf_seed

FLOW=(--from "$MON_ADDR" --to "$HOST_ETH1_ADDR" --proto tcp --sport 40000 --dport 22)
FWD=(--from "$MON_ADDR" --to "$HOST_ETH1_ADDR" --proto tcp --sport 40000 --dport 8080
	--forward-to "$LAN_ADDR")
verdict() { rr --explain "$@" | grep '^verdict: '; }
# expect_verdict DESC WANT: the verdict line of the explanation in $OUT is "verdict: WANT".
expect_verdict() {
	expect_eq "$1" "verdict: $2" "$(grep '^verdict: ' <<<"$OUT")"
}

# repeatable ARGS...: every lookup's printed command, run with ip in host,
# succeeds exactly when the lookup did, and names the same device.
# shellcheck disable=SC2317 # called through expect_ok
repeatable() {
	local json n i cmd err dev out bad=0
	json=$(rr --explain "$@" -j) || { echo "explain failed"; return 1; }
	n=$(jq '.lookups | length' <<<"$json")
	for ((i = 0; i < n; i++)); do
		cmd=$(jq -r ".lookups[$i].command" <<<"$json")
		err=$(jq -r ".lookups[$i].error" <<<"$json")
		dev=$(jq -r ".lookups[$i].dev // \"\"" <<<"$json")
		# shellcheck disable=SC2086 # the command's words
		if out=$(in_ns host $cmd 2>&1); then
			if [[ $err != null ]]; then echo "$cmd: succeeded, explain said $err"; bad=1; fi
			if [[ -n $dev && $out != *"dev $dev "* ]]; then
				echo "$cmd: $out (explain: dev $dev)"; bad=1
			fi
		elif [[ $err == null ]]; then
			echo "$cmd: failed ($out), explain said it works"; bad=1
		fi
		echo "ran: $cmd"
	done
	((n >= 5)) || { echo "only $n lookups"; bad=1; }
	return "$bad"
}

# 1. Before replyroute: rp_filter drops the SYN on eth1; the verdict says so.
expect_eq "before: verdict" \
	"verdict: NOT symmetric: the packet arriving on eth1 is dropped by source validation (rp_filter): the route back leaves through eth0 (table main) (replyroute does not mark the interface's connections now: is replyrouted running?)" \
	"$(verdict "${FLOW[@]}")"
expect_eq "before: JSON verdict" false "$(rr --explain "${FLOW[@]}" -j | jq .verdict.symmetric)"
expect_ok "before: every printed ip route get repeats its step" repeatable "${FLOW[@]}"
expect_ok "before: real traffic agrees: TCP mon -> eth1 fails" tcp_fails mon host "$HOST_ETH1_ADDR" 22
FLOW6=(--from "$MON_ADDR6" --to "$HOST_ETH1_ADDR6" --proto udp --sport 40000 --dport 53)
expect_eq "before, IPv6 (no rp_filter: accepted, the reply goes astray): verdict" \
	"verdict: NOT symmetric: the reply leaves through eth0 (table main), not eth1 (replyroute does not mark the interface's connections now: is replyrouted running?)" \
	"$(verdict "${FLOW6[@]}")"
expect_ok "before, IPv6: every printed ip route get repeats its step" repeatable "${FLOW6[@]}"

# 2. replyrouted running: the verdict flips, the rule and route are named.
rr_start
poll 5 grep -q 'ready:' "$RR_LOG" || fail "daemon did not start"
OUT=$(rr --explain "${FLOW[@]}")
expect_eq "after: the whole explanation" \
"flow: tcp 198.51.100.10 port 40000 -> 203.0.113.2 port 22, arriving on eth1
eth1: tracked, mark 0x1/0xff, table 100, priority 1000; its new connections are marked
inbound, mark 0x1 (this flow): accepted: local delivery (table local)
  \$ ip route get 203.0.113.2 from 198.51.100.10 iif eth1 mark 0x1 ipproto tcp sport 40000 dport 22
inbound, no mark: rejected: source validation (rp_filter) failed (EINVAL)
  \$ ip route get 203.0.113.2 from 198.51.100.10 iif eth1 ipproto tcp sport 40000 dport 22
reply, mark 0x1 (this flow): dev eth1 via 203.0.113.1, table 100
  \$ ip route get 198.51.100.10 from 203.0.113.2 mark 0x1 ipproto tcp sport 22 dport 40000
  matched route default via 203.0.113.1 dev eth1 proto 205, table 100
  \$ ip route get 198.51.100.10 from 203.0.113.2 mark 0x1 ipproto tcp sport 22 dport 40000 fibmatch
  rules met:
    0: from all lookup local proto 2: no route, next rule
    1000: from all fwmark 0x1/0xff lookup 100 proto 205: default via 203.0.113.1 dev eth1 proto 205
  the rule walk agrees with the kernel: rule 1000 leads to table 100
reply, no mark: dev eth0 via 192.0.2.1, table main
  \$ ip route get 198.51.100.10 from 203.0.113.2 ipproto tcp sport 22 dport 40000
  matched route 198.51.100.0/24 via 192.0.2.1 dev eth0 proto 3, table main
  \$ ip route get 198.51.100.10 from 203.0.113.2 ipproto tcp sport 22 dport 40000 fibmatch
verdict: symmetric: the packet arriving on eth1 is accepted and the reply leaves through eth1 via 203.0.113.1 (table 100)" \
	"$OUT"
J=$(rr --explain "${FLOW[@]}" -j)
expect_eq "after: JSON verdict, rule walk and kernel agree on table 100" \
	"true 100 100 true 1000: from all fwmark 0x1/0xff lookup 100 proto 205" \
	"$(jq -r '"\(.verdict.symmetric) \(.rule_walk.table) \(.rule_walk.kernel_table) \(.rule_walk.agrees) \(.rule_walk.rule)"' <<<"$J")"
expect_eq "after: JSON, the flow's reply lookup" \
	"ip route get 198.51.100.10 from 203.0.113.2 mark 0x1 ipproto tcp sport 22 dport 40000 eth1 100" \
	"$(jq -r '.lookups[] | select(.lookup == "reply" and .effective and (.fibmatch | not)) | "\(.command) \(.dev) \(.table)"' <<<"$J")"
expect_ok "after: every printed ip route get repeats its step" repeatable "${FLOW[@]}"
expect_ok "after: real traffic agrees: TCP mon -> eth1 works" tcp_ok mon host "$HOST_ETH1_ADDR" 22
expect_eq "after, IPv6: verdict" \
	"verdict: symmetric: the packet arriving on eth1 is accepted and the reply leaves through eth1 via 2001:db8:113::1 (table 100)" \
	"$(verdict "${FLOW6[@]}")"
expect_ok "after, IPv6: every printed ip route get repeats its step" repeatable "${FLOW6[@]}"
expect_ok "after, IPv6: real traffic agrees: UDP mon -> eth1 works" udp_ok mon host "$HOST_ETH1_ADDR6" 53

# 3. A catch-all rule of someone else before replyroute's: the walk names it.
# Source validation follows it too (with the mark), so the SYN is dropped.
in_ns host ip route add default via 192.0.2.1 dev eth0 table 200
in_ns host ip rule add priority 900 lookup 200
OUT=$(rr --explain "${FLOW[@]}")
expect_verdict "shadowed: verdict" \
	"NOT symmetric: the packet arriving on eth1 is dropped by source validation (rp_filter): the route back leaves through eth0 (table 200)"
expect_ok "shadowed: the rule that led there" \
	grep -qxF "    900: from all lookup 200: default via 192.0.2.1 dev eth0 proto 3" <<<"$OUT"
expect_ok "shadowed: real traffic agrees: TCP mon -> eth1 fails" tcp_fails mon host "$HOST_ETH1_ADDR" 22
in_ns host ip rule del priority 900 lookup 200

# 4. The interface is not tracked (management, eth0): no mark, and that is fine.
OUT=$(rr --explain --from "$MON_ADDR" --to "$HOST_ETH0_ADDR")
expect_ok "eth0: not tracked" grep -qxF "eth0: not in replyroute's config: its connections get no mark" <<<"$OUT"
expect_verdict "eth0: symmetric without replyroute" \
	"symmetric: the packet arriving on eth0 is accepted and the reply leaves through eth0 via 192.0.2.1 (table main)"

# 5. The port-forward: forwarded to the LAN, the LAN host's reply back out eth1.
sysctl_set host net.ipv4.ip_forward 1
OUT=$(rr --explain "${FWD[@]}")
expect_verdict "DNAT: verdict" \
	"symmetric: the packet arriving on eth1 is accepted and the reply leaves through eth1 via 203.0.113.1 (table 100)"
expect_ok "DNAT: forwarded to the LAN through lan1" \
	grep -qxF "forwarded, mark 0x1 (this flow): dev lan1, table main" <<<"$OUT"
expect_ok "DNAT: the LAN host's reply, arriving on lan1 with the mark, leaves through eth1" \
	grep -qxF "reply from the LAN, mark 0x1 (this flow): dev eth1 via 203.0.113.1, table 100" <<<"$OUT"
expect_ok "DNAT: its command" \
	grep -qxF "  \$ ip route get 198.51.100.10 from 198.18.10.2 iif lan1 mark 0x1 ipproto tcp sport 8080 dport 40000" <<<"$OUT"
expect_ok "DNAT: every printed ip route get repeats its step" repeatable "${FWD[@]}"
expect_ok "DNAT: real traffic agrees" \
	tcp_from_ok mon "$MON_ADDR" lan "$HOST_ETH1_ADDR" 8080 "$LAN_ADDR" 80

# 6. Forwarding off: the forwarded packet is not routed.
sysctl_set host net.ipv4.ip_forward 0
expect_ok "DNAT, forwarding off: not symmetric" \
	eval "rr --explain ${FWD[*]} | grep '^verdict: NOT symmetric: the packet arriving on eth1 is not routed'"

# 7. Stopped: back to asymmetric.
stop_bg "$RR_PID" >/dev/null
sysctl_set host net.ipv4.ip_forward 1
OUT=$(rr --explain "${FWD[@]}")
expect_verdict "stopped: DNAT verdict" \
	"NOT symmetric: the packet arriving on eth1 is dropped by source validation (rp_filter): the route back leaves through eth0 (table main) (replyroute does not mark the interface's connections now: is replyrouted running?)"
expect_ok "stopped: the LAN host's reply still asked about, from lan1" \
	grep -qxF "reply from the LAN, no mark (this flow): dev eth0 via 192.0.2.1, table main" <<<"$OUT"

# 8. Usage errors.
rr --explain --from "$MON_ADDR" >/dev/null 2>&1
expect_eq "no --to: usage error (2)" 2 "$?"
rr --explain --from "$MON_ADDR" --to 2001:db8::1 >/dev/null 2>&1
expect_eq "mixed families: usage error (2)" 2 "$?"
rr --explain --from "$MON_ADDR" --to "$HOST_ETH1_ADDR" --sport 5 >/dev/null 2>&1
expect_eq "--sport without --proto: usage error (2)" 2 "$?"
finish
