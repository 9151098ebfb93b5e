#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The admin socket is never open to others, not even between bind and chmod:
# a shim records the mode the socket file has right after bind (it must give
# others nothing), and the socket ends up 0660.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

shim="$top_builddir/tests/.libs/libbindmode.so"
[ -f "$shim" ] || fail "no $shim"
# The sanitizer build's runtime must otherwise come first in the preload list.
start_host "$work/host" "$top_srcdir/licenses/reference-authority.pem" \
  LD_PRELOAD="$shim" VOLACT_TEST_BIND_MODES="$work/modes" \
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
stop_host
line=$(grep "/admin.sock " "$work/modes") || fail "the shim saw no bind of the admin socket"
mode=${line##* }
[ $((8#$mode & 8#007)) = 0 ] || fail "the admin socket was born mode $mode: open to others until the chmod"
echo "admin socket born mode $mode: ok"
