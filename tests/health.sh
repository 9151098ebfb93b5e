#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# volactctl health and check_volact against a real host (docs/monitoring.md): an
# unactivated host is CRITICAL (exit 2) and says why; an activated one is WARNING or
# CRITICAL by its count (-w, -c) and OK once clients reach the threshold; a refused
# license file is a WARNING, a refused reload (nothing usable) CRITICAL; no client requests is a WARNING; an unreachable daemon is UNKNOWN
# (exit 3). The check_volact wrapper answers the same.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

start_authority "$work/authority"
key=$("$authority" --dir "$work/authority" issue-key --group 24)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
# A license folder of our own, so that a broken file can be dropped in.
mkdir -p "$work/licenses" "$work/clients"
cp -r "$top_srcdir/licenses/kms11" "$top_srcdir/licenses/kms12" "$work/licenses/"
host_license_dir="$work/licenses"
dir="$work/host"
ctl() { "$volactctl" --socket "$dir/admin.sock" "$@"; }
wrapper() { VOLACTCTL="$volactctl" "$top_builddir/tools/check_volact" --socket "$dir/admin.sock" "$@"; }
# health EXPECTED-EXIT [ARGS...]: runs the check, its line in $work/out; fails on another exit code.
health() {
  local want=$1 rc=0; shift
  ctl health "$@" > "$work/out" 2> "$work/err" || rc=$?
  [ "$(wc -l < "$work/out")" = 1 ] || { cat "$work/out" "$work/err" >&2; fail "health $* printed not one line"; }
  [ "$rc" = "$want" ] || { cat "$work/out" "$work/err" >&2; fail "health $* exited $rc, not $want"; }
}
expect() { grep -qF -- "$1" "$work/out" || { cat "$work/out" >&2; fail "health does not say: $1"; }; }
n=0
# activate EDITION: one new client machine asks.
activate() {
  n=$((n + 1))
  local cmid
  cmid=$(printf '00000000-0000-4000-8000-%012d' "$n")
  "$client" --host "127.0.0.1:$port" --trust "$work/authority/authority.pem" --json \
    --state "$work/clients/$cmid.state" activate --edition "$1" --cmid "$cmid" \
    --name "pc-$n.example.org" > /dev/null || true
}
# wait_count N: the count reaches N (the writer commits asynchronously; at most 5 s).
wait_count() {
  for _ in $(seq 50); do
    ctl dli | grep -q "^Current count: $1$" && return 0
    sleep 0.1
  done
  fail "the count did not reach $1"
}

# Not activated: CRITICAL, with the reason, from volactctl and from the wrapper.
start_host "$dir" "$work/trust.pem"
health 2
expect "VOLACT CRITICAL - host not activated: no host key is installed"
expect "| count_windows=0;25:;;0;"
rc=0; wrapper > "$work/wrapped" || rc=$?
[ "$rc" = 2 ] || fail "check_volact exited $rc on an unactivated host, not 2"
cmp -s "$work/out" "$work/wrapped" || fail "check_volact does not print what volactctl health prints"
ctl ipk "$key" > /dev/null
health 2
expect "host not activated: the host key is installed but not activated"
ctl --json health > "$work/json" || true
grep -q '"status": 2' "$work/json" || { cat "$work/json" >&2; fail "health --json lacks the status"; }
grep -q '"status_name": "CRITICAL"' "$work/json" || fail "health --json lacks the status name"

# Activated, no clients yet: below the minimum count (a warning by default) and no activity.
ctl ato > /dev/null || fail "ato"
health 1
expect "VOLACT WARNING - windows count 0 is below 25; no client requests in the last 24 h"
# -c makes a low count critical; 0 turns the count and activity checks off.
health 2 -w 10 -c 3
expect "VOLACT CRITICAL - windows count 0 is below 3; no client requests in the last 24 h | count_windows=0;10:;3:;0;"
health 0 -w 0 --no-activity 0
expect "VOLACT OK - host activated and serving; windows count 0"

# A few clients: WARNING below -w, CRITICAL below -c, OK at the threshold.
for _ in 1 2 3; do activate win7-enterprise; done
wait_count 3
health 1 -w 5 -c 2
expect "VOLACT WARNING - windows count 3 is below 5 | count_windows=3;5:;2:;0;"
health 2 -w 5 -c 4
expect "VOLACT CRITICAL - windows count 3 is below 4"
for _ in 1 2; do activate win7-enterprise; done
wait_count 5
health 0 -w 5 -c 2
expect "VOLACT OK - host activated and serving; windows count 5 | count_windows=5;5:;2:;0;"
rc=0; wrapper -w 5 -c 2 > "$work/wrapped" || rc=$?
[ "$rc" = 0 ] || fail "check_volact exited $rc on a healthy host, not 0"
cmp -s "$work/out" "$work/wrapped" || fail "check_volact does not print what volactctl health prints"
# Below the default threshold (the highest minimum count, 25): a warning again.
health 1
expect "windows count 5 is below 25"
# Bad arguments are UNKNOWN (3), as Nagios expects.
health 3 -w many
expect "VOLACT UNKNOWN - -w wants a whole number"

# One refused license file, the rest loaded: WARNING naming the file.
echo "this is not a license" > "$work/licenses/kms12/broken.xrm"
ctl reload > /dev/null || fail "reload with one corrupted license file failed"
health 1 -w 5
expect "VOLACT WARNING - license data loaded in part: refused $work/licenses/kms12/broken.xrm:"
# A refused reload (nothing usable left) is CRITICAL until a good one.
mv "$work/licenses" "$work/licenses.aside"
mkdir "$work/licenses"
mv "$work/licenses.aside/kms12/broken.xrm" "$work/licenses/"
if ctl reload > /dev/null 2>&1; then fail "reload without usable license data succeeded"; fi
health 2 -w 5
expect "VOLACT CRITICAL - the last reload was refused:"
expect "broken.xrm"
rm -r "$work/licenses"
mv "$work/licenses.aside" "$work/licenses"
ctl reload > /dev/null || fail "reload after removing the broken file"
health 0 -w 5

# The daemon gone: UNKNOWN, exit 3, from both.
stop_host
health 3
expect "VOLACT UNKNOWN - cannot reach volactd at $dir/admin.sock"
rc=0; wrapper > "$work/wrapped" || rc=$?
[ "$rc" = 3 ] || fail "check_volact exited $rc with volactd down, not 3"
grep -q "^VOLACT UNKNOWN - " "$work/wrapped" || fail "check_volact: $(cat "$work/wrapped")"

echo "health: ok"
