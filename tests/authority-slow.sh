#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 10, finding 8: slow clients must not hold every worker of
# `volact-authority serve`. 24 connections from 127.0.0.2 that never send a
# request, then a real online activation through a host (from 127.0.0.1): it
# must succeed. Before the fix the 16 workers waited 15 s on each slow
# connection and the host's request timed out behind them.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"
flood="$top_builddir/tests/limits-flood"

start_keyed_host "$work/host"

"$flood" --host "$authority_url" --source 127.0.0.2 --idle 24 --silent --seconds 30 > "$work/slow" &
slow_pid=$!
for _ in $(seq 50); do grep -q '^holding' "$work/slow" && break; sleep 0.1; done
grep -q '^holding 24' "$work/slow" || fail "the slow clients could not connect: $(cat "$work/slow")"
ctl ato > "$work/ato" 2>&1 || { cat "$work/ato" "$work/authority.log" >&2; fail "ato while slow clients hold connections"; }
grep -q "Product activated successfully" "$work/ato" || fail "ato: $(cat "$work/ato")"
kill -0 "$slow_pid" 2> /dev/null || fail "the slow clients were gone before the activation"
kill "$slow_pid"; wait "$slow_pid" 2> /dev/null || true
grep -q "online activation: refused" "$work/authority.log" \
  || fail "the connections over the per-source cap were not refused"
echo "authority-slow: ato served while 24 slow connections were open"
