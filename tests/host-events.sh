#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host events reach the event log (docs/events.md), not just the journal:
# 1002 when the identity key is created at the first start, 1005 and 1006
# when a significant hardware change withdraws the activation at start,
# 1007 for a reload by SIGHUP as for volactctl reload, and 1008 when a
# reload refuses a corrupted license file dropped in (the rest loads) or
# fails (nothing usable left).
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

start_authority "$work/authority"
key=$("$authority" --dir "$work/authority" issue-key --group 22)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
# A license folder of our own, so that a broken file can be dropped in.
mkdir -p "$work/licenses"
cp -r "$top_srcdir/licenses/kms11" "$top_srcdir/licenses/kms12" "$work/licenses/"
host_license_dir="$work/licenses"
dir="$work/host"
ctl() { "$volactctl" --socket "$dir/admin.sock" "$@"; }
count_event() { grep -Ec "^[^ ]+ +$1 " "$work/events" || true; }
# wait_event ID [N]: the event log shows host event ID N times (default 1);
# the writer commits asynchronously, so it is polled (at most 5 s).
wait_event() {
  local n=${2:-1}
  for _ in $(seq 50); do
    ctl events > "$work/events" || fail "volactctl events failed"
    [ "$(count_event "$1")" -ge "$n" ] && break
    sleep 0.1
  done
  [ "$(count_event "$1")" = "$n" ] \
    || { cat "$work/events" >&2; fail "event $1 is in the event log $(count_event "$1") times, not $n"; }
}

# The first start creates the identity key: 1002, recorded once.
write_fingerprint "$dir" machine-1 cpu-1
start_host "$dir" "$work/trust.pem"
wait_event 1000
wait_event 1002
ctl ipk "$key" > /dev/null
ctl ato > /dev/null
ctl dli | grep -q "^License Status: Licensed" || fail "the host did not activate"
stop_host

# A significant hardware change, found at start: 1005 and 1006.
write_fingerprint "$dir" machine-1-rebuilt cpu-2
start_host "$dir" "$work/trust.pem"
ctl dli | grep -q "^License Status: Unlicensed" || fail "a significant hardware change kept the license"
wait_event 1005
wait_event 1006
grep -Eq "^[^ ]+ +1005 significant hardware change" "$work/events" || fail "1005 does not say what changed"
# A restart without a new change is not a new identity.
[ "$(count_event 1002)" = 1 ] || fail "event 1002 recorded again on a restart"

# SIGHUP reloads and says so in the event log, as volactctl reload does.
[ "$(count_event 1007)" = 0 ] || fail "a reload was recorded before any reload"
kill -HUP "$host_pid"
wait_event 1007
grep -Eq "^[^ ]+ +1007 Reloaded: 1 plugins, 34 license files" "$work/events" \
  || fail "1007 does not summarise the reload"
ctl reload > /dev/null || fail "volactctl reload"
wait_event 1007 2

# One corrupted file: refused alone, the rest reloads (1007), and 1008 names the file.
echo "this is not a license" > "$work/licenses/kms12/broken.xrm"
ctl reload > "$work/out" || fail "a reload with one corrupted license file failed"
grep -q "Loaded in part: refused .*broken.xrm" "$work/out" || { cat "$work/out" >&2; fail "the reload does not name the refused file"; }
wait_event 1007 3
wait_event 1008
grep -Eq "^[^ ]+ +1008 reloaded license data in part: refused .*broken.xrm" "$work/events" \
  || fail "1008 does not name the file"
# A failing reload (nothing usable left): the command fails, names the file, 1008 again.
mv "$work/licenses" "$work/licenses.aside"
mkdir "$work/licenses"
echo "this is not a license" > "$work/licenses/broken.xrm"
if ctl reload > "$work/out" 2> "$work/err"; then fail "reload without any usable license file succeeded"; fi
grep -q "broken.xrm" "$work/err" || { cat "$work/err" >&2; fail "the failed reload does not name the file"; }
wait_event 1008 2
grep -Eq "^[^ ]+ +1008 reload failed: no usable license data is left: .*broken.xrm" "$work/events" \
  || fail "1008 does not say the reload failed"
# SIGHUP fails the same way and records it too.
kill -HUP "$host_pid"
wait_event 1008 3
ctl dli | grep -q "^Current count" || fail "the host stopped answering after a failed reload"
stop_host

echo "host-events: ok"
