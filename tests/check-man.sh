#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check-man.sh REPLYROUTED SRCDIR: every long option `replyrouted --help`
# prints appears in doc/replyrouted.8.scd as *--OPTION, and every config key
# lib/config.c knows (its key_known() lists) appears in
# doc/replyroute.conf.5.scd as *KEY=*. Reads the scdoc sources, so it runs
# without scdoc. TAP output.
set -u
daemon=$1
src=$2
man8=$src/doc/replyrouted.8.scd
man5=$src/doc/replyroute.conf.5.scd
n=0
failed=0

check() { # DESCRIPTION FILE FIXED-STRING
	n=$((n + 1))
	if grep -qF -- "$3" "$2"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1: no '$3' in ${2##*/}"
		failed=$((failed + 1))
	fi
}

options=$("$daemon" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
keys=$(sed -n '/^static bool key_known/,/^}/p' "$src/lib/config.c" |
	grep -oE '"[A-Za-z]+"' | tr -d '"' | sort -u)
[ -n "$options" ] || { echo "Bail out! no long option in --help"; exit 1; }
[ -n "$keys" ] || { echo "Bail out! no key found in key_known() of lib/config.c"; exit 1; }

for o in $options; do
	check "option $o in replyrouted(8)" "$man8" "*$o"
done
for k in $keys; do
	check "key $k= in replyroute.conf(5)" "$man5" "*$k=*"
done
echo "1..$n"
[ "$failed" -eq 0 ]
