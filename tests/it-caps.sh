#!/usr/bin/env bash
# Without CAP_NET_ADMIN (a container that lacks it): every netlink and nft
# failure names the kernel's errno and what it means, once, instead of
# "Input/output error". The daemon and --once run as root in host with
# CAP_NET_ADMIN dropped from the bounding set (capsh --drop). Topology:
# tests/topo-seed.sh (only host matters here).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rr.sh"
need_cmd capsh
topo_seed
rr_conf_seed "Gateway=$HOST_ETH1_GW"
WANT="Operation not permitted (EPERM: needs CAP_NET_ADMIN in this network namespace)"

# nocap ARG...: replyrouted without CAP_NET_ADMIN, its stderr in $T/err.
nocap() {
	# shellcheck disable=SC2016 # expanded by the shell capsh runs
	in_ns host capsh --drop=cap_net_admin -- -c 'exec "$0" "$@"' \
		"$REPLYROUTED" -c "$CONF" "$@" 2>"$T/err" >/dev/null
}

# said_once: our message is in $T/err exactly once, and no bare EIO.
said_once() {
	sed "s/^/# /" "$T/err" >&2
	(($(grep -cF "$WANT" "$T/err") == 1)) && ! grep -q 'Input/output error' "$T/err"
}

nocap
expect_eq "daemon: exit status 1" 1 "$?"
expect_ok "daemon: says EPERM and CAP_NET_ADMIN, once" said_once
nocap --once
expect_eq "--once: exit status 1" 1 "$?"
expect_ok "--once: says EPERM and CAP_NET_ADMIN, once" said_once
nocap --cleanup
expect_eq "--cleanup: exit status 1" 1 "$?"
expect_ok "--cleanup: says EPERM and CAP_NET_ADMIN, once" said_once
expect_eq "nothing was installed" "" "$(rr_rules)"
finish
