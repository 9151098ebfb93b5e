#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Activation throughput, CPU and memory of volactd on loopback (bench/README.md).
# Builds nothing: run `make bench-activate` (or build bench/bench-activate and
# the programs first). Starts an authority and activated hosts in a temporary
# folder on 127.0.0.1 and free ports, runs bench/bench-activate in both modes
# (one connection per activation, persistent connections) at concurrency
# 1, 8 and 64 with its baselines, then fills a fresh host with 100,000 and
# 1,000,000 distinct CMIDs and reports its RSS. Everything stops on exit.
#
# Bounded: each run stops after BENCH_SECONDS (default 2) or BENCH_REQUESTS
# (default 40000); the fills stop after BENCH_FILL_SECONDS (default 55) in all,
# and the 1M figure is extrapolated (and marked so) if the fill ran out of
# time. The whole script stays under 2 minutes with the defaults.
# Environment: top_builddir, top_srcdir (default: the folder above this one),
# BENCH_FILL="100000 1000000" (targets, ascending; empty to skip),
# BENCH_MODES="conn,persist" (the throughput runs; empty to skip them and
# measure only the fills).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(dirname "$here")}
top_builddir=${top_builddir:-$top_srcdir}
seconds=${BENCH_SECONDS:-2}
requests=${BENCH_REQUESTS:-40000}
fill_targets=${BENCH_FILL-100000 1000000}
fill_seconds=${BENCH_FILL_SECONDS:-55}
modes=${BENCH_MODES-conn,persist}

bench="$top_builddir/bench/bench-activate"
# The authority/host scaffolding of the integration tests (temporary folder,
# cleanup on exit, free loopback ports).
. "$top_srcdir/tests/lib.sh"
for p in "$volactd" "$volactctl" "$authority" "$bench"; do
  [ -x "$p" ] || { echo "run-bench: $p is not built (make all bench/bench-activate)" >&2; exit 2; }
done

start_authority "$work/authority"
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"

# activated_host N: an activated host on a free port; sets host_pid and port.
activated_host() {
  local dir="$work/host$1" key
  write_fingerprint "$dir" "bench-$1" c
  start_host "$dir" "$work/trust.pem"
  key=$("$authority" --dir "$work/authority" issue-key --group 24 2> "$work/issue.log") \
    || { cat "$work/issue.log" >&2; fail "issue-key failed"; }
  "$volactctl" --socket "$dir/admin.sock" ipk "$key" > /dev/null || fail "ipk on host $1"
  "$volactctl" --socket "$dir/admin.sock" ato > /dev/null || fail "ato on host $1"
}

echo "== volactd activations on loopback ($(nproc) CPUs; $(uname -r); load $(cut -d' ' -f1-3 /proc/loadavg))"
if [ -n "$modes" ]; then
  activated_host 1
  "$bench" --port "$port" --pid "$host_pid" --trust "$work/authority/authority.pem" \
    --modes "$modes" --concurrency 1,8,64 --requests "$requests" --seconds "$seconds" \
    || fail "bench-activate reported errors"
fi

# --- memory with many client records ------------------------------------------
if [ -n "$fill_targets" ]; then
  echo
  echo "== host RSS by client records (a fresh host, distinct CMIDs, persistent connections)"
  activated_host 2
  rss() { awk '/^VmRSS/ { print $2 }' "/proc/$host_pid/status"; }
  # The peak so far: growing the index must not need much more than it keeps.
  hwm() { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$host_pid/status"; }
  printf '%10s %9s %9s %8s %s\n' records rss_MiB hwm_MiB secs note
  printf '%10d %9.1f %9s %8s %s\n' 0 "$(echo "$(rss)" | awk '{ print $1 / 1024 }')" "$(hwm)" - "activated, no records"
  have=0 deadline=$((SECONDS + fill_seconds)) prev_n="" prev_rss=""
  for target in $fill_targets; do
    left=$((deadline - SECONDS))
    [ "$left" -gt 0 ] || left=1
    out=$("$bench" --port "$port" --pid "$host_pid" --fill $((target - have)) --seconds "$left" 2>&1) || true
    done_n=$(echo "$out" | sed -n 's/^fill: \([0-9]*\) activations in \([0-9.]*\) s.*/\1/p')
    secs=$(echo "$out" | sed -n 's/^fill: \([0-9]*\) activations in \([0-9.]*\) s.*/\2/p')
    [ -n "$done_n" ] || { echo "$out" >&2; fail "the fill failed"; }
    echo "$out" | grep -q ", bad 0, " || { echo "$out" >&2; fail "the fill saw bad responses"; }
    have=$((have + done_n))
    sleep 1 # let the writer commit and the index settle
    now_rss=$(rss)
    if [ "$have" -ge "$target" ]; then
      printf '%10d %9.1f %9s %8s %s\n' "$have" "$(awk -v r="$now_rss" 'BEGIN { print r / 1024 }')" "$(hwm)" "$secs" measured
    else
      printf '%10d %9.1f %9s %8s %s\n' "$have" "$(awk -v r="$now_rss" 'BEGIN { print r / 1024 }')" "$(hwm)" "$secs" \
        "measured (ran out of time before $target)"
      if [ -n "$prev_n" ] && [ "$have" -gt "$prev_n" ]; then
        awk -v n0="$prev_n" -v r0="$prev_rss" -v n1="$have" -v r1="$now_rss" -v t="$target" \
          'BEGIN { printf "%10d %9.1f %9s %8s %s\n", t, (r1 + (t - n1) * (r1 - r0) / (n1 - n0)) / 1024, "-", "-",
                   sprintf("EXTRAPOLATED linearly from %d..%d records (%.0f bytes/record)", n0, n1, (r1 - r0) * 1024 / (n1 - n0)) }'
      fi
      break
    fi
    prev_n=$have prev_rss=$now_rss
  done
fi
echo
echo "run-bench: done"
