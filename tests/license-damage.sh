#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Damaged license data (docs/license-format.md): one tampered file does not
# stop the host from starting; it is refused alone (event 1008 naming it),
# the rest is served, dli lists it and health WARNs. A FIFO named *.xrm and
# SIGHUP: the host keeps answering clients and volactctl (bounded waits),
# and the FIFO is named in the log. Nothing usable left: the start is refused.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

mkdir -p "$work/licenses"
cp -r "$top_srcdir/licenses/kms11" "$top_srcdir/licenses/kms12" "$work/licenses/"
host_license_dir="$work/licenses"
dir="$work/host"
# The case: a copy of a policy file whose minimum count was changed.
sed 's/count="25"/count="20"/' "$top_srcdir/licenses/kms12/w7k1ppd.xrm" \
  > "$work/licenses/kms12/w7k9ppd.xrm"
cmp -s "$top_srcdir/licenses/kms12/w7k1ppd.xrm" "$work/licenses/kms12/w7k9ppd.xrm" \
  && fail "the tampered copy is the original"

start_activated_host "$dir"
events() { ctl events > "$work/events" || fail "volactctl events failed"; }
# wait_for_event PATTERN: the event log shows PATTERN (the writer is asynchronous; at most 5 s).
wait_for_event() {
  for _ in $(seq 50); do
    events
    grep -Eq "$1" "$work/events" && return 0
    sleep 0.1
  done
  cat "$work/events" >&2
  fail "no event matches $1"
}

# It started, serves, and says what it refused.
wait_for_event "^[^ ]+ +1008 started with license data loaded in part: refused .*w7k9ppd.xrm: signature does not verify"
[ "$(activate_server 01)" = 0xC004F038 ] || fail "the host does not answer clients after a partial load"
ctl dli > "$work/dli" || fail "dli"
grep -q "^Refused license file: .*w7k9ppd.xrm" "$work/dli" || { cat "$work/dli" >&2; fail "dli does not list the refused file"; }
ctl --json dli > "$work/dli.json"
grep -q '"file": ".*w7k9ppd.xrm"' "$work/dli.json" || { cat "$work/dli.json" >&2; fail "dli --json lacks refused_files"; }
rc=0; ctl health -w 1 > "$work/health" || rc=$?
[ "$rc" = 1 ] || { cat "$work/health" >&2; fail "health exited $rc after a partial load, not 1 (WARNING)"; }
grep -q "^VOLACT WARNING - license data loaded in part: refused .*w7k9ppd.xrm" "$work/health" \
  || { cat "$work/health" >&2; fail "health does not name the refused file"; }

# A FIFO among the license files, then SIGHUP: the reload skips it, and the
# client port and the admin socket answer all along.
rm "$work/licenses/kms12/w7k9ppd.xrm"
mkfifo "$work/licenses/kms12/stuck.xrm"
kill -HUP "$host_pid"
# (The client exits 1 for "count insufficient": an answer all the same; 124 is the timeout.)
rc=0
result=$(timeout 10 "$client" --host "127.0.0.1:$port" --trust "$work/authority/authority.pem" \
  --json --state "$work/clients/s02.state" activate --edition server2008r2-standard \
  --cmid 00000000-0000-4000-8000-000000000002 --name srv-2.example.org) || rc=$?
[ "$rc" != 124 ] || fail "no client answer within 10 s after SIGHUP with a FIFO in the license folder"
echo "$result" | grep -c > /dev/null '"result": "0xC004F038"' || fail "the client got no verified answer: $result"
timeout 10 "$volactctl" --socket "$dir/admin.sock" dli > "$work/dli" \
  || fail "volactctl dli did not answer within 10 s after SIGHUP with a FIFO"
wait_for_event "^[^ ]+ +1008 reloaded license data in part: refused .*stuck.xrm: not a regular file \(a FIFO\)"
grep -q "stuck.xrm: not a regular file (a FIFO)" "$dir/volactd.log" \
  || { cat "$dir/volactd.log" >&2; fail "the log does not name the FIFO"; }
timeout 10 "$volactctl" --socket "$dir/admin.sock" dli > "$work/dli" || fail "dli after the reload"
grep -q "^Refused license file: .*stuck.xrm" "$work/dli" || { cat "$work/dli" >&2; fail "dli does not list the FIFO"; }
# Removed and reloaded: whole again, health no longer warns about license data.
rm "$work/licenses/kms12/stuck.xrm"
ctl reload > "$work/out" || fail "reload after removing the FIFO"
grep -q "Loaded in part" "$work/out" && fail "a clean reload still says it loaded in part"
ctl dli | grep -c > /dev/null "^Refused license file" && fail "dli still lists a refused file"
rc=0; ctl health -w 1 > "$work/health" || rc=$?
grep -q "license data" "$work/health" && { cat "$work/health" >&2; fail "health still warns about license data"; }
stop_host

# Nothing usable left: the start is refused, naming the files.
rm -rf "$work/licenses"/*
echo "this is not a license" > "$work/licenses/broken.xrm"
rc=0; "$volactd" --config "$dir/volactd.conf" --foreground > "$work/refused" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "volactd started without any usable license data"
grep -q "no usable license data is left: refused .*broken.xrm" "$work/refused" \
  || { cat "$work/refused" >&2; fail "the refused start does not name the file"; }

echo "license-damage: ok"
