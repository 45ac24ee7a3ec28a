#!/usr/bin/env bash
# replyroute living with others (DESIGN §1.1, §1.2). Topology: tests/topo-seed.sh
#
#   mon 198.51.100.10 --- rtr --- eth0 192.0.2.2    host  (default via eth1,
#                             \-- eth1 203.0.113.2         198.51.100/24 via eth0)
#
# a. Another nft table ("inet other") uses mark bit 0x100, outside MarkMask
#    0xff: before replyroute's chains it sets the bit on packets and on the
#    connection (prerouting, mangle - 10) and on the replies (output, mangle
#    - 10); after them it counts. The connection replyroute marks keeps 0x100
#    next to 0x1, on packets both ways and on the connection; a connection
#    replyroute does not mark (management, eth0) keeps exactly 0x100.
# b. SourceRules=yes: traffic the host originates from eth1's address leaves
#    through eth1. Without it, it leaves through eth0 (host's route to mon)
#    with source 203.0.113.2, and rtr's rp_filter drops it.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
topo_seed

PORT=21         # the "other" table's traffic
OUT_PORT=2121   # host -> mon, part b

write_conf() { # SOURCERULES
	rr_conf <<-EOF
		[Global]
		MarkMask=0xff

		[Interface]
		Name=eth1
		Table=100
		Mark=0x1
		SourceRules=$1
	EOF
}
write_conf no

in_ns host nft -f - <<EOF || fail "host nft table inet other"
table inet other {
	counter in_total { }
	counter in_both { }
	counter out_total { }
	counter out_both { }
	counter mgmt_total { }
	counter mgmt_untouched { }
	chain pre_early {
		type filter hook prerouting priority mangle - 10; policy accept;
		tcp dport $PORT meta mark set meta mark | 0x100 ct mark set ct mark | 0x100
	}
	chain pre_late {
		type filter hook prerouting priority mangle + 10; policy accept;
		iifname "eth1" tcp dport $PORT counter name in_total
		iifname "eth1" tcp dport $PORT meta mark & 0x1ff == 0x101 ct mark & 0x1ff == 0x101 counter name in_both
		iifname "eth0" tcp dport $PORT counter name mgmt_total
		iifname "eth0" tcp dport $PORT meta mark & 0x1ff == 0x100 ct mark & 0x1ff == 0x100 counter name mgmt_untouched
	}
	chain out_early {
		type route hook output priority mangle - 10; policy accept;
		tcp sport $PORT meta mark set meta mark | 0x100
	}
	chain post_late {
		type filter hook postrouting priority mangle + 10; policy accept;
		ip saddr $HOST_ETH1_ADDR tcp sport $PORT counter name out_total
		ip saddr $HOST_ETH1_ADDR tcp sport $PORT oifname "eth1" meta mark & 0x1ff == 0x101 ct mark & 0x1ff == 0x101 counter name out_both
	}
}
EOF
OTHER=$(in_ns host nft list table inet other | grep -v packets)

# On rtr, before its rp_filter: where host's connections to mon come from.
rr_count_at_rtr "tcp dport $OUT_PORT"
reset_rtr() { in_ns rtr nft reset counters table inet count >/dev/null || fail "reset counters"; }

# out_ok / out_fails: host connects from 203.0.113.2 (bound) to a server on
# mon, which sees it come from 203.0.113.2 and answers.
out_ok() { tcp_from_ok host "$HOST_ETH1_ADDR" mon "$MON_ADDR" "$OUT_PORT"; }
out_fails() { tcp_from_fails host "$HOST_ETH1_ADDR" mon "$MON_ADDR" "$OUT_PORT"; }

# Without and with SourceRules: the source rule sits at the anchor's priority.
FWMARK_RULES=$(rr_want_rules "eth1 0x1 100")
BOTH_RULES=$(rr_want_rules "eth1 0x1 100 1000 $HOST_ETH1_ADDR")
rules_are() { [[ $(rr_rules) == "$1" ]]; }

expect_ok "before: TCP to eth1 fails" tcp_fails mon host "$HOST_ETH1_ADDR" "$PORT"
rr_start -v
poll 5 rules_are "$FWMARK_RULES" || fail "replyrouted did not install its rule"
expect_eq "nft table inet replyroute as designed" "$RR_SEED_NFT" "$(rr_nft)"

# a. Mark bits outside MarkMask survive.
in_ns host nft reset counters table inet other >/dev/null || fail "reset counters"
expect_ok "a: TCP mon -> eth1:$PORT works with the other table's marks" \
	tcp_ok mon host "$HOST_ETH1_ADDR" "$PORT"
N=$(nft_packets host other in_total)
expect_ok "a: packets of the connection arrived on eth1 ($N)" test "$N" -gt 0
expect_eq "a: every one of them has meta mark and ct mark 0x100|0x1" \
	"$N" "$(nft_packets host other in_both)"
N=$(nft_packets host other out_total)
expect_ok "a: replies sent ($N)" test "$N" -gt 0
expect_eq "a: every reply left eth1 with meta mark and ct mark 0x100|0x1" \
	"$N" "$(nft_packets host other out_both)"
expect_ok "a: TCP mon -> eth0:$PORT (management) works" \
	tcp_ok mon host "$HOST_ETH0_ADDR" "$PORT"
N=$(nft_packets host other mgmt_total)
expect_ok "a: packets of the management connection arrived ($N)" test "$N" -gt 0
expect_eq "a: connection not marked by replyroute untouched: marks exactly 0x100" \
	"$N" "$(nft_packets host other mgmt_untouched)"
expect_eq "a: the other table is untouched" "$OTHER" \
	"$(in_ns host nft list table inet other | grep -v packets)"

# b. SourceRules. Without: host's connection from 203.0.113.2 goes out eth0.
reset_rtr
expect_ok "b: SourceRules=no: TCP host (from $HOST_ETH1_ADDR) -> mon fails" out_fails
N=$(nft_packets rtr count from_mgmt)
expect_ok "b: SourceRules=no: it left through eth0 ($N packets at rtr's r_mgmt)" test "$N" -gt 0
expect_eq "b: SourceRules=no: nothing through eth1" 0 "$(nft_packets rtr count from_pub)"

write_conf yes
kill -HUP "$RR_PID"
expect_ok "b: SourceRules=yes: source rule added" poll 5 rules_are "$BOTH_RULES"
expect_eq "b: SourceRules=yes: exactly the fwmark rules and the source rule" \
	"$BOTH_RULES" "$(rr_rules)"
reset_rtr
expect_ok "b: SourceRules=yes: TCP host (from $HOST_ETH1_ADDR) -> mon works" out_ok
N=$(nft_packets rtr count from_pub)
expect_ok "b: SourceRules=yes: it left through eth1 ($N packets at rtr's r_pub)" test "$N" -gt 0
expect_eq "b: SourceRules=yes: nothing through eth0" 0 "$(nft_packets rtr count from_mgmt)"
expect_ok "b: SourceRules=yes: TCP mon -> eth1 still works" \
	tcp_ok mon host "$HOST_ETH1_ADDR" "$PORT"

write_conf no
kill -HUP "$RR_PID"
expect_ok "b: back to SourceRules=no: source rule removed" poll 5 rules_are "$FWMARK_RULES"
expect_ok "b: back to SourceRules=no: TCP host (from $HOST_ETH1_ADDR) -> mon fails again" out_fails

stop_bg "$RR_PID"
expect_eq "SIGTERM: exit status 0" 0 "$?"
expect_eq "SIGTERM: no replyroute rule left" "" "$(rr_rules)"
expect_fail "SIGTERM: nft table inet replyroute removed" rr_nft
expect_eq "SIGTERM: the other table is untouched" "$OTHER" \
	"$(in_ns host nft list table inet other | grep -v packets)"

finish
