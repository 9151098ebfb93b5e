#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The simulated fleet (bench/README.md "A simulated fleet"): an authority, a
# PostgreSQL server of its own, two activated hosts on loopback, and
# bench/volact-fleet-sim playing FLEET_MACHINES machines (default 1,000,000) over
# FLEET_DAYS simulated days (default 8) with --store-uri, so each hour's line
# shows the database's commits. Prints the per-hour table and the summary.
#
#   FLEET_STORE=sqlite      (default) each host keeps its own SQLite store: the two
#                           hosts count alone, each only the machines that asked it.
#   FLEET_STORE=postgresql  both hosts get `store = <the PostgreSQL URI>` and share
#                           one pool (needs a volactd that accepts the `store` key).
#   FLEET_CONCURRENCY (32), FLEET_VERIFY_PERCENT (1), FLEET_MAX_SECONDS (3600), FLEET_SEED (1).
set -euo pipefail
. "$top_srcdir/tests/lib.sh"
sim="$top_builddir/bench/volact-fleet-sim"
machines=${FLEET_MACHINES:-1000000}
days=${FLEET_DAYS:-8}
store=${FLEET_STORE:-sqlite}
case $store in sqlite | postgresql) ;; *) fail "FLEET_STORE must be sqlite or postgresql, not \"$store\"" ;; esac

start_authority "$work/authority"
key=$("$authority" --dir "$work/authority" issue-key --group 24)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
start_postgres "$work/pg"
case $store in
  sqlite)
    echo "Store: each host its own SQLite store: the two hosts count alone (each counts only"
    echo "the machines that asked it). FLEET_STORE=postgresql makes them share one pool."
    unset host_conf_extra ;;
  postgresql)
    echo "Store: one PostgreSQL pool shared by both hosts ($pg_uri)."
    ;;
esac
hosts=""
for h in 1 2; do
  mkdir -p "$work/host$h"
  write_fingerprint "$work/host$h" "machine-$h" "cpu-$h"
  [ "$store" = sqlite ] || host_conf_extra="store = $pg_uri
store-host-name = fleet-host-$h"
  start_host "$work/host$h" "$work/trust.pem"
  "$volactctl" --socket "$work/host$h/admin.sock" ipk "$key" > /dev/null || fail "ipk on host $h"
  "$volactctl" --socket "$work/host$h/admin.sock" ato > /dev/null || fail "ato on host $h"
  hosts="$hosts${hosts:+,}127.0.0.1:$port"
  eval "pid$h=\$host_pid"
done
echo "Fleet: $machines machines over $days simulated days against $hosts"
echo
rc=0
"$sim" --hosts "$hosts" --trust "$work/authority/authority.pem" --machines "$machines" \
  --days "$days" --store-uri "$pg_uri" --concurrency "${FLEET_CONCURRENCY:-32}" \
  --verify-percent "${FLEET_VERIFY_PERCENT:-1}" --max-seconds "${FLEET_MAX_SECONDS:-3600}" \
  --seed "${FLEET_SEED:-1}" || rc=$?
for h in 1 2; do
  eval "pid=\$pid$h"
  echo "host $h: RSS $(awk '/^VmRSS/ { print $2 / 1024 " MiB" }' "/proc/$pid/status")," \
    "peak $(awk '/^VmHWM/ { print $2 / 1024 " MiB" }' "/proc/$pid/status")," \
    "CPU $(awk '{ printf "%.1f s", ($14 + $15) / '"$(getconf CLK_TCK)"' }' "/proc/$pid/stat")"
done
exit "$rc"
