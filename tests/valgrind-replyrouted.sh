#!/bin/sh
# Run replyrouted under valgrind: REPLYROUTED=tests/valgrind-replyrouted.sh tests/it-seed.sh
# Any error or leak makes it exit 99, which the tests see as a failed run.
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$here/../build}
case $build in /*) ;; *) build=$here/../$build ;; esac
exec valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--suppressions="$here/valgrind.supp" "$build/daemon/replyrouted" "$@"
