#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Activation throughput, CPU and memory of volactd on loopback (bench/README.md).
# Builds nothing: run `make bench-activate` (or build bench/bench-activate,
# bench/bench-load and the programs first). Starts an authority and activated
# hosts in a temporary folder on 127.0.0.1 and free ports, runs
# bench/bench-activate in both modes (one connection per activation,
# persistent connections) at concurrency 1, 8 and 64 with its baselines, then
# fills a fresh host with 10,000, 100,000 and 1,000,000 distinct CMIDs and
# reports its RSS, peak RSS and CPU per activation at each size, times a full
# catalog load, and ends with one PASS/MISS line per performance target
# (issue 11's targets, bench/README.md). Everything stops on exit.
#
# Usage: run-bench.sh [--quick]
# --quick: every run 1 s, fills to 100,000 only, in under 30 seconds.
# Bounded: each run stops after BENCH_SECONDS (default 2) or BENCH_REQUESTS
# (default 40000); the fills stop after BENCH_FILL_SECONDS (default 55) in all,
# and the 1M figure is extrapolated (and marked so) if the fill ran out of
# time. The whole script stays under 2 minutes with the defaults.
# Environment: top_builddir, top_srcdir (default: the folder above this one),
# BENCH_FILL="10000 100000 1000000" (targets, ascending; empty to skip),
# BENCH_MODES="conn,persist" (the throughput runs; empty to skip them and
# measure only the fills and the catalog), BENCH_STORE=postgresql (the hosts
# share a PostgreSQL server the script starts: docs/store.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(dirname "$here")}
top_builddir=${top_builddir:-$top_srcdir}
quick=0
case "${1-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: run-bench.sh [--quick]" >&2; exit 2 ;;
esac
if [ "$quick" = 1 ]; then
  seconds=${BENCH_SECONDS:-1} requests=${BENCH_REQUESTS:-20000}
  fill_targets=${BENCH_FILL-10000 100000} fill_seconds=${BENCH_FILL_SECONDS:-12} catalog_runs=10
else
  seconds=${BENCH_SECONDS:-2} requests=${BENCH_REQUESTS:-40000}
  fill_targets=${BENCH_FILL-10000 100000 1000000} fill_seconds=${BENCH_FILL_SECONDS:-55}
  catalog_runs=30
fi
modes=${BENCH_MODES-conn,persist}

bench="$top_builddir/bench/bench-activate"
bench_load="$top_builddir/bench/bench-load"
bench_sync="$top_builddir/bench/bench-sync"
# The authority/host scaffolding of the integration tests (temporary folder,
# cleanup on exit, free loopback ports).
. "$top_srcdir/tests/lib.sh"
for p in "$volactd" "$volactctl" "$authority" "$bench" "$bench_load" "$bench_sync"; do
  [ -x "$p" ] || { echo "run-bench: $p is not built (make all bench/bench-activate bench/bench-load bench/bench-sync)" >&2; exit 2; }
done

start_authority "$work/authority"
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
# BENCH_STORE=postgresql: the hosts write every record to a PostgreSQL server of their own
# before answering (docs/store.md), to measure what the shared store costs.
if [ "${BENCH_STORE:-sqlite}" = postgresql ]; then
  start_postgres "$work/pg"
  host_conf_extra="store = $pg_uri
store-host-name = bench"
  echo "== store: PostgreSQL on 127.0.0.1:$pg_port (every record committed there before its answer)"
fi

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
: > "$work/figures"
# The floor under a lone client's latency: its answer waits for one durable write.
sync_line=$("$bench_sync" --runs "$([ "$quick" = 1 ] && echo 300 || echo 2000)" "$work") \
  || fail "bench-sync failed"
echo "$sync_line"
echo "$sync_line" | sed -n 's/.*: \([0-9.]*\) us wall, \([0-9.]*\) us CPU each/sync \1 \2/p' >> "$work/figures"
if [ -n "$modes" ]; then
  activated_host 1
  "$bench" --port "$port" --pid "$host_pid" --trust "$work/authority/authority.pem" \
    --modes "$modes" --concurrency 1,8,64 --requests "$requests" --seconds "$seconds" \
    --figures "$work/figures" || fail "bench-activate reported errors"
fi

# --- memory and CPU with many client records ----------------------------------
if [ -n "$fill_targets" ]; then
  echo
  echo "== host by client records (a fresh host, distinct CMIDs, persistent connections, 64 at once)"
  activated_host 2
  kib() { awk -v k="$1" '$1 == k ":" { print $2 }' "/proc/$host_pid/status"; }
  mib() { awk -v r="$1" 'BEGIN { printf "%.1f", r / 1024 }'; }
  printf '%10s %8s %8s %8s %7s %s\n' records rss_MiB peak_MiB us/act secs note
  printf '%10d %8s %8s %8s %7s %s\n' 0 "$(mib "$(kib VmRSS)")" "$(mib "$(kib VmHWM)")" - - \
    "activated, no records"
  have=0 deadline=$((SECONDS + fill_seconds)) prev_n="" prev_rss=""
  for target in $fill_targets; do
    left=$((deadline - SECONDS))
    [ "$left" -gt 0 ] || left=1
    : > "$work/fill-figures"
    out=$("$bench" --port "$port" --pid "$host_pid" --fill $((target - have)) --seconds "$left" \
      --figures "$work/fill-figures" 2>&1) || true
    done_n=$(echo "$out" | sed -n 's/^fill: \([0-9]*\) activations in \([0-9.]*\) s.*/\1/p')
    secs=$(echo "$out" | sed -n 's/^fill: \([0-9]*\) activations in \([0-9.]*\) s.*/\2/p')
    [ -n "$done_n" ] || { echo "$out" >&2; fail "the fill failed"; }
    case "$out" in *", bad 0, "*) ;; *) echo "$out" >&2; fail "the fill saw bad responses" ;; esac
    us=$(awk '$1 == "fill" { print $3 }' "$work/fill-figures")
    have=$((have + done_n))
    sleep 1 # let the writer commit and the index settle
    now_rss=$(kib VmRSS) now_hwm=$(kib VmHWM)
    note=measured
    [ "$have" -ge "$target" ] || note="measured (ran out of time before $target)"
    printf '%10d %8s %8s %8s %7s %s\n' "$have" "$(mib "$now_rss")" "$(mib "$now_hwm")" "$us" "$secs" "$note"
    echo "rss $have $now_rss $now_hwm" >> "$work/figures"
    if [ "$have" -lt "$target" ]; then
      if [ -n "$prev_n" ] && [ "$have" -gt "$prev_n" ]; then
        awk -v n0="$prev_n" -v r0="$prev_rss" -v n1="$have" -v r1="$now_rss" -v t="$target" \
          'BEGIN { printf "%10d %8.1f %8s %8s %7s %s\n", t, (r1 + (t - n1) * (r1 - r0) / (n1 - n0)) / 1024, "-", "-", "-",
                   sprintf("EXTRAPOLATED linearly from %d..%d records (%.0f bytes/record)", n0, n1, (r1 - r0) * 1024 / (n1 - n0)) }'
      fi
      break
    fi
    prev_n=$have prev_rss=$now_rss
  done
  echo "(us/act: host CPU per activation while filling up to that size; peak: VmHWM, the most the"
  echo " process ever held, so the index's growth is in it)"
fi

# --- catalog load ----------------------------------------------------------------
echo
echo "== catalog load (plugins and all license data: parse, schema, signature, interpretation)"
catalog=$("$bench_load" --plugin-dir "$top_builddir/plugins" --license-dir "$top_srcdir/licenses" \
  --trust "$top_srcdir/licenses/reference-authority.pem" --runs "$catalog_runs" 2> /dev/null) \
  || fail "bench-load failed"
echo "$catalog"
echo "$catalog" | sed -n 's/.*cold \([0-9.]*\) ms, warm median \([0-9.]*\) ms.*/catalog \1 \2/p' \
  >> "$work/figures"

# --- one line per target -----------------------------------------------------------
echo
echo "== targets (bench/README.md; noisy if \"other\" is high: rerun)"
awk '
  function verdict(ok) { return ok ? "PASS" : "MISS" }
  function line(name, value, goal, ok, extra) {
    printf "%-44s %10s  %-10s %s%s\n", name, value, goal, verdict(ok), extra; found[name] = 1 }
  $1 == "activate" { host[$2, $3] = $4; ratio[$2, $3] = $6; p50[$2, $3] = $7; other[$2, $3] = $8 }
  $1 == "rss" { rss[$2] = $3; hwm[$2] = $4 }
  $1 == "catalog" { cold = $2; warm = $3 }
  $1 == "sync" { sync_wall = $2; sync_cpu = $3 }
  END {
    if (("conn", 64) in ratio) line("host CPU/activation, new connection, conc 64", sprintf("%.2f x", ratio["conn", 64]), "<= 1.2 x", ratio["conn", 64] > 0 && ratio["conn", 64] <= 1.2, sprintf("  (%.1f us, other %.0f%%)", host["conn", 64], other["conn", 64]))
    if (("conn", 8) in ratio) line("host CPU/activation, new connection, conc 8", sprintf("%.2f x", ratio["conn", 8]), "<= 1.3 x", ratio["conn", 8] > 0 && ratio["conn", 8] <= 1.3, sprintf("  (%.1f us, other %.0f%%)", host["conn", 8], other["conn", 8]))
    for (c = 8; c <= 64; c *= 8) if (("persist", c) in host) line("host CPU/exchange, persistent, conc " c, sprintf("%.1f us", host["persist", c]), "<= 30 us", host["persist", c] > 0 && host["persist", c] <= 30, sprintf("  (other %.0f%%)", other["persist", c]))
    if (("conn", 1) in p50) line("one client alone, new connection, p50", sprintf("%.3f ms", p50["conn", 1]), "<= 0.2 ms", p50["conn", 1] <= 0.2, sprintf("  (other %.0f%%; one durable write alone: %.3f ms)", other["conn", 1], sync_wall / 1000))
    if (100000 in rss) line("RSS with 100,000 client records", sprintf("%.1f MiB", rss[100000] / 1024), "< 20 MiB", rss[100000] < 20 * 1024, "")
    if (1000000 in rss) {
      line("RSS with 1,000,000 client records", sprintf("%.1f MiB", rss[1000000] / 1024), "< 64 MiB", rss[1000000] < 64 * 1024, "")
      line("peak RSS up to 1,000,000 / steady", sprintf("%.2f x", hwm[1000000] / rss[1000000]), "< 1.25 x", hwm[1000000] < 1.25 * rss[1000000], sprintf("  (peak %.1f MiB)", hwm[1000000] / 1024))
    }
    if (cold != "") line("catalog load (34 files), cold", sprintf("%.1f ms", cold), "< 50 ms", cold < 50, sprintf("  (warm median %.1f ms)", warm))
    if (!(100000 in rss)) printf "%-44s %10s  %-10s %s\n", "RSS with 100,000 client records", "-", "< 20 MiB", "NOT MEASURED (fill ran out of time)"
    if (!(1000000 in rss)) printf "%-44s %10s  %-10s %s\n", "RSS with 1,000,000 client records", "-", "< 64 MiB", "NOT MEASURED (--quick, or the fill ran out of time)"
  }' "$work/figures"
echo
echo "run-bench: done"
