# shellcheck shell=bash
#
# tests/lib.sh - shared helpers for replyroute's integration tests.
#
# Source it first:   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# It knows nothing of replyrouted: the helpers that do are in rr.sh.
#
# Every test runs in network namespaces of its own, named "rr<PID>-NAME", and
# never touches the init namespace. Everything the test creates (namespaces,
# background processes, the temp dir $T) is removed by an EXIT trap, also on
# failure and on Ctrl-C. Nothing sleeps for a fixed time: wait with poll.
#
# Output is TAP: "ok N - DESC" / "not ok N - DESC", diagnostics as "# ...",
# and finish prints the plan "1..N". Exit status: 0 all passed (or skipped:
# not root, missing tool), 1 something failed, 130/143 interrupted.
#
# Namespace arguments (NS) are short names as given to ns_add ("host"); the
# full names ("rr1234-host", also exported by topologies as $NS_HOST) work too.
#
# The lib does not set -e; it works with set -u. Helpers meant as checks
# (ping_ok, tcp_ok, ...) are predicates: they return a status and print
# diagnostics, and are meant to be wrapped: expect_ok "DESC" tcp_ok mon host ...

RR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
[[ $BUILD_DIR == /* ]] || BUILD_DIR=$RR_ROOT/$BUILD_DIR
REPLYROUTED=${REPLYROUTED:-$BUILD_DIR/daemon/replyrouted}
RR_PREFIX="rr$$-"

# Seconds a positive traffic check waits for an answer, and a negative one
# waits before it concludes that nothing comes back.
RR_OK_TIMEOUT=${RR_OK_TIMEOUT:-2}
RR_FAIL_TIMEOUT=${RR_FAIL_TIMEOUT:-1}

_rr_ns=()       # full names of the namespaces we created
_rr_pids=()     # background processes we started
_rr_defer=()    # extra cleanup commands, run last-in first-out
_rr_logs=()     # logs of background processes, shown when the test fails
_rr_ntests=0
_rr_nfailed=0
_rr_seq=0
_rr_finished=0
T=

# ---------------------------------------------------------------------------
# Results

# fail MSG: abort the test (TAP "Bail out!"); cleanup runs from the EXIT trap.
fail() {
	printf 'Bail out! %s\n' "$*"
	exit 1
}

# skip MSG: the test cannot run here. TAP's "1..0 # SKIP" and exit 0: meson
# runs these tests with protocol 'tap', which counts any non-zero exit
# status (77 too) as an error.
skip() {
	printf '1..0 # SKIP %s\n' "$*"
	_rr_finished=1
	exit 0
}

# pass DESC / flunk DESC: record one passed / failed check.
pass() {
	_rr_ntests=$((_rr_ntests + 1))
	printf 'ok %d - %s\n' "$_rr_ntests" "$*"
}

flunk() {
	_rr_ntests=$((_rr_ntests + 1))
	_rr_nfailed=$((_rr_nfailed + 1))
	printf 'not ok %d - %s\n' "$_rr_ntests" "$*"
}

# diag [TEXT]: print TEXT (or stdin) as TAP diagnostics.
diag() {
	if (($#)); then
		printf '%s\n' "$*" | sed 's/^/#   /'
	else
		sed 's/^/#   /'
	fi
}

# expect_ok DESC CMD...: check that CMD succeeds; its output is shown only if
# it does not.
expect_ok() {
	local desc=$1 out=$T/expect.${#FUNCNAME[@]}.out
	shift
	if "$@" >"$out" 2>&1; then
		pass "$desc"
	else
		flunk "$desc"
		diag "command: $*"
		diag <"$out"
	fi
}

# expect_fail DESC CMD...: check that CMD fails.
expect_fail() {
	local desc=$1 out=$T/expect.${#FUNCNAME[@]}.out
	shift
	if "$@" >"$out" 2>&1; then
		flunk "$desc"
		diag "command succeeded, expected failure: $*"
		diag <"$out"
	else
		pass "$desc"
	fi
}

# expect_eq DESC EXPECTED ACTUAL: check two strings are equal, diff if not.
expect_eq() {
	if [[ $2 == "$3" ]]; then
		pass "$1"
	else
		flunk "$1"
		diff -u --label expected --label actual <(printf '%s\n' "$2") \
			<(printf '%s\n' "$3") | diag
	fi
}

# prints WANT CMD...: CMD prints exactly WANT (a predicate, for poll).
prints() {
	local want=$1
	shift
	[[ $("$@") == "$want" ]]
}

# converge DESC WANT CMD...: wait up to 5s until CMD prints WANT, then check
# that it does (expect_eq, with a diff if not).
converge() {
	local desc=$1 want=$2
	shift 2
	poll 5 prints "$want" "$@" >/dev/null
	expect_eq "$desc" "$want" "$("$@")"
}

# finish: print the plan and a summary; exit 1 if any check failed or none ran.
finish() {
	_rr_finished=1
	printf '1..%d\n' "$_rr_ntests"
	if ((_rr_ntests == 0)); then
		printf '# no checks ran\n'
		exit 1
	fi
	if ((_rr_nfailed)); then
		printf '# %d of %d checks FAILED\n' "$_rr_nfailed" "$_rr_ntests"
		exit 1
	fi
	printf '# all %d checks passed\n' "$_rr_ntests"
	exit 0
}

# ---------------------------------------------------------------------------
# Requirements

# need_cmd CMD...: skip the test unless every CMD is installed.
need_cmd() {
	local c
	for c; do
		command -v "$c" >/dev/null || skip "$c not installed"
	done
}

# need_daemon: bail out unless $REPLYROUTED is an executable.
need_daemon() {
	[[ -x $REPLYROUTED ]] ||
		fail "replyrouted not found at $REPLYROUTED (set REPLYROUTED or BUILD_DIR)"
}

# ---------------------------------------------------------------------------
# Waiting

# _rr_usec SECONDS: convert "1", "0.5", "2.25" to microseconds in _rr_us.
_rr_usec() {
	local i=${1%%.*} f
	f=${1#"$i"}
	f=${f#.}000000
	_rr_us=$((10#${i:-0} * 1000000 + 10#${f:0:6}))
}

# _rr_now: microseconds since the epoch in _rr_us_now.
_rr_now() {
	_rr_us_now=${EPOCHREALTIME/./}
}

# poll TIMEOUT CMD...: run CMD every 20ms until it succeeds (return 0) or
# TIMEOUT seconds (decimals allowed) have passed (print CMD and its last
# output as diagnostics, return 1). Use "poll ... || fail MSG" to abort.
poll() {
	local out=$T/poll.${#FUNCNAME[@]}.out deadline
	_rr_usec "$1"
	shift
	_rr_now
	deadline=$((_rr_us_now + _rr_us))
	while :; do
		"$@" >"$out" 2>&1 && return 0
		_rr_now
		((_rr_us_now < deadline)) || break
		sleep 0.02
	done
	printf '# timed out waiting for: %s\n' "$*"
	diag <"$out"
	return 1
}

# ---------------------------------------------------------------------------
# Namespaces

# _rr_nsname NS: the full name of NS in _rr_n.
_rr_nsname() {
	if [[ $1 == "$RR_PREFIX"* ]]; then
		_rr_n=$1
	else
		_rr_n=$RR_PREFIX$1
	fi
}

# ns_name NS: print the full name of NS (for "ip -n", "ip netns pids" ...).
ns_name() {
	_rr_nsname "$1"
	printf '%s\n' "$_rr_n"
}

# ns_add NAME: create namespace "rr<PID>-NAME", bring lo up, disable IPv6 DAD
# for interfaces created later; it is deleted on exit.
ns_add() {
	_rr_nsname "$1"
	ip netns add "$_rr_n" || fail "cannot create namespace $_rr_n"
	_rr_ns+=("$_rr_n")
	ip -n "$_rr_n" link set lo up || fail "cannot bring up lo in $_rr_n"
	sysctl_set "$_rr_n" net.ipv6.conf.all.accept_dad 0
	sysctl_set "$_rr_n" net.ipv6.conf.default.accept_dad 0
}

# in_ns NS CMD...: run CMD inside NS (ip netns exec; it execs CMD, no fork).
# ("in" itself cannot be a bash function name: it is a reserved word.)
in_ns() {
	_rr_nsname "$1"
	shift
	ip netns exec "$_rr_n" "$@"
}

# link_up NS IF: true if IF in NS is up with carrier and operstate UP (IPv6
# addresses on a link stay tentative until then).
link_up() {
	_rr_nsname "$1"
	ip -n "$_rr_n" -o link show dev "$2" 2>/dev/null | grep -q 'LOWER_UP.* state UP '
}

# veth NS1 IF1 NS2 IF2: create a veth pair IF1 (in NS1) -- IF2 (in NS2), both
# created inside the namespaces, bring both ends up and wait for them.
veth() {
	local ns1 ns2
	_rr_nsname "$1"
	ns1=$_rr_n
	_rr_nsname "$3"
	ns2=$_rr_n
	ip -n "$ns1" link add name "$2" type veth peer name "$4" netns "$ns2" ||
		fail "cannot create veth $1/$2 -- $3/$4"
	ip -n "$ns1" link set "$2" up || fail "cannot bring up $1/$2"
	ip -n "$ns2" link set "$4" up || fail "cannot bring up $3/$4"
	poll 5 link_up "$ns1" "$2" || fail "$1/$2 did not come up"
	poll 5 link_up "$ns2" "$4" || fail "$3/$4 did not come up"
}

# bridge_add NS BRIDGE: a Linux bridge in NS, up: a switch. No multicast
# snooping (it would only add MLD timing to a test).
bridge_add() {
	_rr_nsname "$1"
	ip -n "$_rr_n" link add "$2" type bridge mcast_snooping 0 &&
		ip -n "$_rr_n" link set "$2" up || fail "cannot create bridge $1/$2"
}

# bridge_port NS IF BRNS BRIDGE PORT: a veth from IF (in NS) to PORT, a port
# of BRIDGE (in BRNS), both ends up.
bridge_port() {
	veth "$1" "$2" "$3" "$5"
	_rr_nsname "$3"
	ip -n "$_rr_n" link set "$5" master "$4" || fail "cannot add $3/$5 to $4"
}

# addrs_add: add the addresses read from stdin, one "NS DEV ADDR/LEN" a line.
addrs_add() {
	local ns dev addr
	while read -r ns dev addr; do
		_rr_nsname "$ns"
		ip -n "$_rr_n" addr add "$addr" dev "$dev" || fail "cannot add $addr to $ns/$dev"
	done
}

# addr_ready NS ADDR: true if ADDR is configured in NS and usable (not
# tentative, not dadfailed).
addr_ready() {
	_rr_nsname "$1"
	ip -n "$_rr_n" -o addr show to "$2" 2>/dev/null | grep -q . &&
		! ip -n "$_rr_n" -o addr show to "$2" | grep -Eq 'tentative|dadfailed'
}

# ---------------------------------------------------------------------------
# Kernel state, for exact assertions

# _rr_sysctl_path KEY: /proc/sys path of KEY in _rr_p. KEY is dotted
# (net.ipv4.ip_forward) or, for interface names with dots, slashed
# (net/ipv4/conf/eth0.100/rp_filter).
_rr_sysctl_path() {
	if [[ $1 == */* ]]; then
		_rr_p=/proc/sys/$1
	else
		_rr_p=/proc/sys/${1//.//}
	fi
}

# sysctl_get NS KEY: print the value of KEY inside NS.
sysctl_get() {
	_rr_sysctl_path "$2"
	in_ns "$1" cat "$_rr_p"
}

# sysctl_set NS KEY VALUE: set KEY inside NS; bail out if that fails.
sysctl_set() {
	_rr_sysctl_path "$2"
	printf '%s\n' "$3" | in_ns "$1" tee "$_rr_p" >/dev/null ||
		fail "cannot set $2=$3 in $1"
}

# rules NS: "ip -4 rule show" then "ip -6 rule show" inside NS.
rules() {
	in_ns "$1" ip -4 rule show && in_ns "$1" ip -6 rule show
}

# routes NS TABLE [-4|-6]: the routes of TABLE inside NS, IPv4 then IPv6
# unless a family is given. A table that does not exist prints nothing (the
# kernel answers "FIB table does not exist" to a dump of an absent table).
routes() {
	local fam err=$T/routes.err
	local fams=(-4 -6)
	(($# > 2)) && fams=("$3")
	for fam in "${fams[@]}"; do
		if ! in_ns "$1" ip "$fam" route show table "$2" 2>"$err"; then
			grep -q 'FIB table does not exist' "$err" || { cat "$err" >&2; return 1; }
		fi
	done
}

# nft_ruleset NS [NFT-OPTS...]: "nft list ruleset" inside NS (e.g. -j, -a).
nft_ruleset() {
	local ns=$1
	shift
	in_ns "$ns" nft "$@" list ruleset
}

# nft_packets NS TABLE COUNTER: the packets counted by COUNTER of table inet
# TABLE inside NS.
nft_packets() {
	in_ns "$1" nft list counter inet "$2" "$3" | sed -nE 's/.*packets ([0-9]+) .*/\1/p'
}

# ---------------------------------------------------------------------------
# Background processes

# _rr_alive PID: true while PID exists and is not a zombie.
_rr_alive() {
	local s
	{ read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
	s=${s##*) }
	[[ ${s:0:1} != Z ]]
}

# start_bg NS CMD...: start CMD in NS in the background; its stdout and stderr
# go to $BG_LOG, its PID is in $BG_PID. It is killed on exit. CMD may not be
# in NS yet when start_bg returns: poll for whatever shows it is ready.
start_bg() {
	_rr_nsname "$1"
	shift
	_rr_seq=$((_rr_seq + 1))
	BG_LOG=$T/bg.$_rr_seq.log
	# Not through in_ns: a function run with & is a subshell, and $! would
	# be that subshell, not CMD. "ip netns exec" execs CMD, keeping the PID.
	ip netns exec "$_rr_n" "$@" >"$BG_LOG" 2>&1 &
	BG_PID=$!
	_rr_pids+=("$BG_PID")
	_rr_logs+=("$BG_LOG")
}

# _rr_forget PID: drop a reaped PID from the cleanup list (its number may be
# reused by a process that is not ours).
_rr_forget() {
	local i
	for i in "${!_rr_pids[@]}"; do
		[[ ${_rr_pids[i]} == "$1" ]] && unset '_rr_pids[i]'
	done
}

# _rr_gone PID: true once PID has exited (zombie or reaped).
_rr_gone() {
	! _rr_alive "$1"
}

# wait_bg PID [TIMEOUT]: wait up to TIMEOUT seconds (default 5) for PID to
# exit; return its exit status (128+N if killed by signal N), 124 if it is
# still running.
wait_bg() {
	local rc
	poll "${2:-5}" _rr_gone "$1" >/dev/null || return 124
	wait "$1"
	rc=$?
	_rr_forget "$1"
	return "$rc"
}

# stop_bg PID [SIGNAL] [TIMEOUT]: send SIGNAL (default TERM), wait up to
# TIMEOUT seconds (default 5), return the exit status; if PID is still
# running then, kill it with SIGKILL and return 124.
stop_bg() {
	local rc
	kill -"${2:-TERM}" "$1" 2>/dev/null
	wait_bg "$1" "${3:-5}"
	rc=$?
	if ((rc == 124)); then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		_rr_forget "$1"
	fi
	return "$rc"
}

# notify_listen: stand in for the service manager: receive sd_notify messages
# on $T/notify.sock (a path, not an abstract socket: those are per network
# namespace) and set NOTIFY_SOCKET to it. It is not exported: hand it to the
# daemon only (start_bg NS env NOTIFY_SOCKET="$NOTIFY_SOCKET" CMD...). Each
# message is one line of $NOTIFY_LOG, its assignments joined by " | ":
# "READY=1 | STATUS=...". Needs python3.
notify_listen() {
	NOTIFY_SOCKET=$T/notify.sock
	NOTIFY_LOG=$T/notify.log
	_rr_notify_mark=0
	python3 "$RR_ROOT/tests/notify-listen.py" "$NOTIFY_SOCKET" >"$NOTIFY_LOG" 2>&1 &
	_rr_pids+=("$!")
	_rr_logs+=("$NOTIFY_LOG")
	poll 3 test -S "$NOTIFY_SOCKET" >/dev/null || fail "notify listener did not start"
}

# notify_mark: from now on, notify_since and notified look at the messages
# that come after this point only (at first: all of them).
notify_mark() {
	_rr_notify_mark=$(wc -l <"$NOTIFY_LOG")
}

# notify_since: the messages received since notify_mark, one a line.
notify_since() {
	tail -n +$((_rr_notify_mark + 1)) "$NOTIFY_LOG"
}

# notified TEXT: a message since notify_mark contains TEXT;
# poll-able: poll 5 notified READY=1
notified() {
	notify_since | grep -qF -- "$1"
}

# notified_exactly MESSAGE: a message since notify_mark is exactly MESSAGE.
notified_exactly() {
	notify_since | grep -qxF -- "$1"
}

# notified_reload: since notify_mark, a RELOADING=1 and a READY=1 after it
# (the reload is applied); poll-able.
notified_reload() {
	notify_since | sed -n '/^RELOADING=1/,$p' | tail -n +2 | grep -q '^READY=1'
}

# notify_status: the last STATUS= received ("STATUS=..."), mark or not.
notify_status() {
	grep -o 'STATUS=.*' "$NOTIFY_LOG" | tail -n 1
}

# notify_status_is TEXT: the last STATUS= received is STATUS=TEXT.
notify_status_is() {
	[[ $(notify_status) == "STATUS=$1" ]]
}

# at_cleanup CMD...: run CMD at exit, before processes and namespaces go.
at_cleanup() {
	_rr_defer+=("$(printf '%q ' "$@")")
}

# ---------------------------------------------------------------------------
# Traffic. These really send packets, IPv4 or IPv6 by the address given.

# ping_ok NS DST [PING-OPTS...]: at least one echo reply from DST to two pings
# (-I IFACE or -I SRC among PING-OPTS picks the source).
ping_ok() {
	local ns=$1 dst=$2
	shift 2
	in_ns "$ns" ping -n -q -c 2 -i 0.2 -W "$RR_OK_TIMEOUT" "$@" "$dst"
}

# ping_fails NS DST [PING-OPTS...]: no reply to two pings within ~1s.
ping_fails() {
	local ns=$1 dst=$2
	shift 2
	! in_ns "$ns" ping -n -q -c 2 -i 0.2 -W "$RR_FAIL_TIMEOUT" "$@" "$dst"
}

# _rr_listening NS PROTO PORT PID: process PID listens on PROTO (tcp/udp)
# PORT in NS.
_rr_listening() {
	local flag=-t
	[[ $2 == udp ]] && flag=-u
	in_ns "$1" ss -H -n -l -p "$flag" "sport = :$3" | grep -q "pid=$4,"
}

# _rr_server_settled NS PROTO PORT PID: PID listens, or has died trying.
_rr_server_settled() {
	_rr_gone "$4" || _rr_listening "$@"
}

# _rr_serve NS PROTO PORT LISTEN ANSWER: start a one-shot socat server in NS
# on LISTEN (a socat address for PROTO PORT) that answers with ANSWER (a socat
# address); its PID in _rr_spid, its output in the file $_rr_srv. Returns 2,
# with diagnostics, if it does not listen within 3s. Stop it with _rr_unserve.
_rr_serve() {
	_rr_seq=$((_rr_seq + 1))
	_rr_srv=$T/$2.$_rr_seq.server
	_rr_nsname "$1"
	# -T: a server that got no EOF (UDP) ends by itself after a while.
	ip netns exec "$_rr_n" socat -T 10 "$4" "$5" >"$_rr_srv" 2>&1 &
	_rr_spid=$!
	_rr_pids+=("$_rr_spid")
	if ! poll 3 _rr_server_settled "$1" "$2" "$3" "$_rr_spid" >/dev/null ||
		_rr_gone "$_rr_spid"; then
		echo "# $2 server on port $3 in $1 did not start:"
		diag <"$_rr_srv"
		_rr_unserve
		return 2
	fi
}

# _rr_unserve: stop the server _rr_serve started.
_rr_unserve() {
	kill "$_rr_spid" 2>/dev/null
	wait "$_rr_spid" 2>/dev/null
	_rr_forget "$_rr_spid"
}

# _rr_reply WHAT WANT GOT CLIENT_ERR: succeed if the reply GOT is WANT; if
# not, say so and show the client's errors and the server's output.
_rr_reply() {
	if [[ $3 == "$2" ]]; then
		echo "# $1: got '$3'"
		return 0
	fi
	echo "# $1: expected '$2', got '$3'"
	[[ -s $4 ]] && { echo "# client:"; diag <"$4"; }
	[[ -s $_rr_srv ]] && { echo "# server:"; diag <"$_rr_srv"; }
	return 1
}

# _rr_xfer PROTO TIMEOUT CLIENT_NS SERVER_NS ADDR PORT [BIND]: start a one-shot
# echo server for PROTO on PORT in SERVER_NS, bound to BIND (default ADDR,
# '*' for the wildcard: e.g. behind a DNAT), send a fresh token from
# CLIENT_NS to ADDR:PORT and succeed if the same token comes back within
# TIMEOUT seconds. Returns 1 if it did not, 2 if the server did not start.
# The server is bound to ADDR by default because a wildcard UDP server
# answers from the source address of the route back, not from ADDR.
_rr_xfer() {
	local proto=$1 to=$2 cns=$3 sns=$4 addr=$5 port=$6 bind=${7:-$5}
	local fam=4 peer=$5 listen cli res tok
	local P=${proto^^}

	if [[ $addr == *:* ]]; then
		fam=6
		peer="[$addr]"
	fi
	if [[ $proto == tcp ]]; then
		listen="TCP$fam-LISTEN:$port,reuseaddr"
	else
		# No reuseaddr: with it, UDP sockets share a port silently.
		listen="UDP$fam-RECVFROM:$port"
	fi
	if [[ $bind != '*' ]]; then
		[[ $bind == *:* ]] && bind="[$bind]"
		listen+=",bind=$bind"
	fi
	_rr_serve "$sns" "$proto" "$port" "$listen" EXEC:cat || return 2
	tok="rr$$-$_rr_seq-$RANDOM"
	cli=$T/$proto.$_rr_seq.client
	res=$T/$proto.$_rr_seq.reply

	if [[ $proto == tcp ]]; then
		printf '%s\n' "$tok" |
			in_ns "$cns" timeout $((${to%.*} + 2)) \
				socat -T "$to" - "TCP$fam:$peer:$port,connect-timeout=$to" \
				>"$res" 2>"$cli"
	else
		# Send the token, read one reply and return at once; -T ends
		# socat (and the read with it) when nothing comes back.
		: >"$res"
		in_ns "$cns" timeout $((${to%.*} + 2)) \
			socat -T "$to" -t 0 \
			"SYSTEM:echo $tok; read -r line && echo \"\$line\" >$res" \
			"UDP$fam:$peer:$port" 2>"$cli"
	fi
	_rr_unserve
	_rr_reply "$P $cns -> $addr:$port" "$tok" "$(cat "$res")" "$cli"
}

# _rr_tcp_from TIMEOUT CLIENT_NS SRC SERVER_NS DST PORT [SADDR SPORT]: IPv4.
# A one-shot server in SERVER_NS on SADDR:SPORT (default DST:PORT: differ
# behind a DNAT) answers a line with the address it sees the client at and
# the line; CLIENT_NS connects from SRC to DST:PORT and sends a fresh token.
# Succeeds if "SRC TOKEN" comes back within TIMEOUT seconds: the connection
# worked and the server saw SRC. Returns 1 if not, 2 if the server did not
# start.
_rr_tcp_from() {
	local to=$1 cns=$2 src=$3 sns=$4 dst=$5 port=$6 saddr=${7:-$5} sport=${8:-$6}
	local tok got cli
	# shellcheck disable=SC2016 # expanded by the server's shell
	_rr_serve "$sns" tcp "$sport" "TCP4-LISTEN:$sport,reuseaddr,bind=$saddr" \
		SYSTEM:'read -r l; echo "$SOCAT_PEERADDR $l"' || return 2
	tok="rr$$-$_rr_seq-$RANDOM"
	cli=$T/tcp.$_rr_seq.client
	got=$(printf '%s\n' "$tok" | in_ns "$cns" timeout $((${to%.*} + 2)) \
		socat -T "$to" - "TCP4:$dst:$port,bind=$src,connect-timeout=$to" 2>"$cli")
	_rr_unserve
	_rr_reply "TCP $cns $src -> $dst:$port ($sns $saddr:$sport)" "$src $tok" "$got" "$cli"
}

# tcp_ok CLIENT_NS SERVER_NS ADDR PORT [BIND]: a TCP echo through ADDR:PORT
# works (connect, token there and back) within $RR_OK_TIMEOUT (2s).
tcp_ok() {
	_rr_xfer tcp "$RR_OK_TIMEOUT" "$@"
}

# tcp_fails CLIENT_NS SERVER_NS ADDR PORT [BIND]: with the server listening,
# no token comes back within $RR_FAIL_TIMEOUT (1s). Fails if the server
# could not even start.
tcp_fails() {
	_rr_xfer tcp "$RR_FAIL_TIMEOUT" "$@"
	(($? == 1))
}

# udp_ok CLIENT_NS SERVER_NS ADDR PORT [BIND]: a UDP request gets its reply.
udp_ok() {
	_rr_xfer udp "$RR_OK_TIMEOUT" "$@"
}

# udp_fails CLIENT_NS SERVER_NS ADDR PORT [BIND]: no UDP reply within 1s.
udp_fails() {
	_rr_xfer udp "$RR_FAIL_TIMEOUT" "$@"
	(($? == 1))
}

# tcp_from_ok CLIENT_NS SRC SERVER_NS DST PORT [SADDR SPORT]: a TCP
# connection from SRC (in CLIENT_NS) to DST:PORT reaches the server in
# SERVER_NS (on SADDR:SPORT, by default DST:PORT), which sees it come from SRC,
# and the answer comes back within $RR_OK_TIMEOUT. IPv4.
tcp_from_ok() {
	_rr_tcp_from "$RR_OK_TIMEOUT" "$@"
}

# tcp_from_fails CLIENT_NS SRC SERVER_NS DST PORT [SADDR SPORT]: with the
# server listening, no answer within $RR_FAIL_TIMEOUT.
tcp_from_fails() {
	_rr_tcp_from "$RR_FAIL_TIMEOUT" "$@"
	(($? == 1))
}

# ---------------------------------------------------------------------------
# Cleanup

cleanup() {
	local rc=$? pid ns i deadline
	trap - EXIT INT TERM
	((rc == 0 && !_rr_finished && _rr_nfailed)) && rc=1

	for ((i = ${#_rr_defer[@]} - 1; i >= 0; i--)); do
		eval "${_rr_defer[i]}" || true
	done

	for pid in "${_rr_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	_rr_now
	deadline=$((_rr_us_now + 2000000))
	for pid in "${_rr_pids[@]}"; do
		while _rr_alive "$pid"; do
			_rr_now
			((_rr_us_now < deadline)) || { kill -KILL "$pid" 2>/dev/null; break; }
			sleep 0.02
		done
		wait "$pid" 2>/dev/null
	done

	if ((rc != 0)) && [[ -n $T ]]; then
		for i in "${_rr_logs[@]}"; do
			[[ -s $i ]] || continue
			printf '# last lines of %s:\n' "${i##*/}"
			tail -n 30 "$i" | diag
		done
	fi

	for ns in "${_rr_ns[@]}"; do
		# Anything still running in our namespaces is ours.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null ||
			printf '# could not delete namespace %s\n' "$ns" >&2
	done

	if [[ -n $T && -d $T ]]; then
		if [[ -n ${RR_KEEP_TMP:-} ]]; then
			printf '# kept %s\n' "$T" >&2
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

[[ $EUID -eq 0 ]] || skip "integration tests need root"
need_cmd ip nft ping socat ss timeout

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
T=$(mktemp -d "${TMPDIR:-/tmp}/rr$$.XXXXXX") || fail "cannot create a temp dir"
