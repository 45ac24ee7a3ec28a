#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run-golden.sh CONF_PRINT SRCDIR good|bad|dropin
#
# For each SRCDIR/KIND/NAME.conf, run CONF_PRINT on it (from SRCDIR, with a
# relative path, so the file names in error messages are always KIND/NAME.conf)
# with SRCDIR/iproute2 as the rt_tables directory, and compare stdout with
# KIND/NAME.out. good cases must exit 0 and print a config that reads back to
# itself; bad cases must exit 78. stderr must stay empty (sanitizer reports).
#
# dropin: each SRCDIR/dropin/NAME/ holds replyroute.conf, its drop-ins in
# replyroute.conf.d/ and generated ones in run/replyroute.conf.d/ (run/ is the
# runtime directory); conf-print reads them all and its output is compared
# with dropin/NAME.out. NAME good-* must exit 0, bad-* 78. No read-back: the
# merged output of several files names them.
#
# RR_TEST_WRAPPER="valgrind -q --leak-check=full --error-exitcode=99" runs
# CONF_PRINT under valgrind; RR_GOLDEN_UPDATE=1 rewrites the .out files.
set -u

conf_print=$1
srcdir=$2
kind=$3

case $kind in
good) want_rc=0 ;;
bad) want_rc=78 ;;
dropin) ;;
*) echo "usage: $0 CONF_PRINT SRCDIR good|bad|dropin" >&2; exit 2 ;;
esac

case $conf_print in
/*) ;;
*) conf_print=$PWD/$conf_print ;;
esac

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$srcdir" || exit 1

# run INPUT [RUNTIME_DIR]: stdout to $tmp/out, fails on a wrong exit status or any stderr
run() {
	${RR_TEST_WRAPPER:-} "$conf_print" "$1" iproute2 ${2:+"$2"} >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want_rc" ]; then
		echo "FAIL $1: exit status $rc, expected $want_rc"
		cat "$tmp/out" "$tmp/err"
		return 1
	fi
	if [ -s "$tmp/err" ]; then
		echo "FAIL $1: unexpected output on stderr"
		cat "$tmp/err"
		return 1
	fi
	return 0
}

# golden CASE EXPECTED INPUT [RUNTIME_DIR]: run INPUT, compare with EXPECTED
golden() {
	run "$3" ${4:+"$4"} || return 1
	if [ "${RR_GOLDEN_UPDATE:-0}" = 1 ]; then
		cp "$tmp/out" "$2"
	fi
	if ! diff -u "$2" "$tmp/out"; then
		echo "FAIL $1: output differs from $2"
		return 1
	fi
}

failed=0
count=0
if [ "$kind" = dropin ]; then
	cases=$(ls -d dropin/*/ 2>/dev/null)
else
	cases=$(ls "$kind"/*.conf 2>/dev/null)
fi
for case in $cases; do
	count=$((count + 1))
	case $case in
	dropin/*)
		case=${case%/}
		case ${case##*/} in bad-*) want_rc=78 ;; *) want_rc=0 ;; esac
		golden "$case" "$case.out" "$case/replyroute.conf" "$case/run" ||
			{ failed=$((failed + 1)); continue; }
		;;
	*)
		golden "$case" "${case%.conf}.out" "$case" || { failed=$((failed + 1)); continue; }
		;;
	esac
	if [ "$kind" = good ]; then
		# The normalised form is itself a valid config that prints the same.
		cp "$tmp/out" "$tmp/roundtrip.conf"
		run "$tmp/roundtrip.conf" || { failed=$((failed + 1)); continue; }
		if ! diff -u "${case%.conf}.out" "$tmp/out"; then
			echo "FAIL $case: normalised output does not read back to itself"
			failed=$((failed + 1))
			continue
		fi
	fi
	echo "ok   $case"
done

if [ "$count" -eq 0 ]; then
	echo "no $kind cases in $srcdir"
	exit 1
fi
echo "$((count - failed))/$count $kind cases passed"
[ "$failed" -eq 0 ]
