#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Durability: kill -9 the host while four clients activate distinct machines
# as fast as they can; after a restart, every activation the host
# acknowledged is in its records and the count equals the number of records.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"
driver="$top_builddir/tests/durability-client"

start_authority "$work/authority"
key=$("$authority" --dir "$work/authority" issue-key --group 24)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
mkdir -p "$work/host"
start_host "$work/host" "$work/trust.pem"
ctl() { "$volactctl" --socket "$work/host/admin.sock" "$@"; }
ctl ipk "$key" > /dev/null
ctl ato > /dev/null

drivers=()
for d in 1 2 3 4; do
  "$driver" 127.0.0.1 "$port" "$work/authority/authority.pem" "d$d" 200000 \
    > "$work/acked.$d" 2> "$work/driver.$d" &
  drivers+=($!)
done
# Let them run until a good number are acknowledged (bounded), then kill -9.
for _ in $(seq 100); do
  [ "$(cat "$work"/acked.* | wc -l)" -ge 2000 ] && break
  sleep 0.1
done
kill -9 "$host_pid"
wait "$host_pid" 2> /dev/null || true
for p in "${drivers[@]}"; do wait "$p" || fail "a driver failed"; done
acked=$(cat "$work"/acked.* | sort -u | wc -l)
[ "$acked" -ge 100 ] || fail "only $acked activations before the kill; the test proves nothing"

start_host "$work/host" "$work/trust.pem"
ctl --json clients > "$work/clients.json"
missing=0
while read -r cmid; do
  grep -q "\"$cmid\"" "$work/clients.json" || { echo "lost: $cmid" >&2; missing=$((missing + 1)); }
done < <(cat "$work"/acked.*)
[ "$missing" -eq 0 ] || fail "$missing of $acked acknowledged activations were lost"
records=$(grep -c '"cmid"' "$work/clients.json")
ctl dli | grep -q "^Current count: $records$" || fail "the count does not match the $records records"
[ "$records" -ge "$acked" ] || fail "fewer records ($records) than acknowledged activations ($acked)"
stop_host
echo "durability: $acked acknowledged activations before kill -9, all $records records kept; ok"
