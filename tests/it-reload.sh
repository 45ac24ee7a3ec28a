#!/usr/bin/env bash
# Firewall reloads under running downloads: 20 times `nft -f FILE` with a
# ruleset that starts with `flush ruleset`, as the stock nftables.service
# reload does. The daemon's table is declared with `flags owner`: the flush
# passes it by, so it is there throughout, never re-installed, and no
# download stalls on a missing table. Topology: tests/topo-seed.sh
#
#   mon 198.51.100.10 --- rtr --- eth0 192.0.2.2    host  (default via eth1,
#                             \-- eth1 203.0.113.2         198.51.100/24 via eth0)
#
# Downloads mon <- host:8021 arrive through eth1 (see it-pickup.sh).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
topo_seed
rr_conf_seed "Gateway=$HOST_ETH1_GW"

# As /etc/nftables.conf is shipped, with a filter table of its own.
cat >"$T/nftables.conf" <<'EOF2' || fail "nftables.conf"
#!/usr/sbin/nft -f
flush ruleset

table inet filter {
	chain input { type filter hook input priority filter; }
	chain forward { type filter hook forward priority filter; }
	chain output { type filter hook output priority filter; }
}
EOF2

installs() { grep -c 'nft: installed' "$RR_LOG"; }

rr_start -v
rr_started
expect_ok "the table is owned" rr_nft_owned
N=$(installs)
DL_CHUNKS=40
dl_serve
dl_start 5
MISSING=0
for i in $(seq 20); do
	in_ns host nft -f "$T/nftables.conf" || fail "reload $i"
	rr_nft_owned || MISSING=$((MISSING + 1))
	sleep 0.1
done
expect_eq "20 reloads: our table there after each" 0 "$MISSING"
expect_eq "20 reloads: our table never removed (not installed again)" "$N" "$(installs)"
expect_eq "20 reloads: the seed's table, as installed" "$RR_SEED_NFT" "$(rr_nft)"
expect_ok "20 reloads: the reload's own table is there" in_ns host nft list table inet filter
expect_ok "20 reloads: 5 downloads complete" dl_done 30
expect_ok "traffic after the reloads" tcp_ok mon host "$HOST_ETH1_ADDR" 21

# Another process cannot change the owned table (the kernel says EPERM)...
expect_fail "a foreign change is refused" \
	in_ns host nft add chain inet replyroute intruder
expect_ok "...and the refusal says so" eval \
	"in_ns host nft delete table inet replyroute 2>&1 | grep -q 'Operation not permitted'"
expect_eq "no error logged" "" "$(grep -E '^<[0-3]>' "$RR_LOG")"
# It goes with the daemon: SIGTERM deletes it, as before.
stop_bg "$RR_PID"
expect_fail "SIGTERM: the table is gone" rr_nft
finish
