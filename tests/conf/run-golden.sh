#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run-golden.sh CONF_PRINT SRCDIR good|bad
#
# For each SRCDIR/KIND/NAME.conf, run CONF_PRINT on it (from SRCDIR, with a
# relative path, so the file names in error messages are always KIND/NAME.conf)
# with SRCDIR/iproute2 as the rt_tables directory, and compare stdout with
# KIND/NAME.out. good cases must exit 0 and print a config that reads back to
# itself; bad cases must exit 78. stderr must stay empty (sanitizer reports).
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
*) echo "usage: $0 CONF_PRINT SRCDIR good|bad" >&2; exit 2 ;;
esac

case $conf_print in
/*) ;;
*) conf_print=$PWD/$conf_print ;;
esac

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$srcdir" || exit 1

# run INPUT: stdout to $tmp/out, fails on a wrong exit status or any stderr
run() {
	${RR_TEST_WRAPPER:-} "$conf_print" "$1" iproute2 >"$tmp/out" 2>"$tmp/err"
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

failed=0
count=0
for conf in "$kind"/*.conf; do
	[ -e "$conf" ] || continue
	count=$((count + 1))
	expected=${conf%.conf}.out

	run "$conf" || { failed=$((failed + 1)); continue; }
	if [ "${RR_GOLDEN_UPDATE:-0}" = 1 ]; then
		cp "$tmp/out" "$expected"
	fi
	if ! diff -u "$expected" "$tmp/out"; then
		echo "FAIL $conf: output differs from $expected"
		failed=$((failed + 1))
		continue
	fi
	if [ "$kind" = good ]; then
		# The normalised form is itself a valid config that prints the same.
		cp "$tmp/out" "$tmp/roundtrip.conf"
		run "$tmp/roundtrip.conf" || { failed=$((failed + 1)); continue; }
		if ! diff -u "$expected" "$tmp/out"; then
			echo "FAIL $conf: normalised output does not read back to itself"
			failed=$((failed + 1))
			continue
		fi
	fi
	echo "ok   $conf"
done

if [ "$count" -eq 0 ]; then
	echo "no $kind/*.conf cases in $srcdir"
	exit 1
fi
echo "$((count - failed))/$count $kind cases passed"
[ "$failed" -eq 0 ]
