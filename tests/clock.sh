#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Clock changes (docs/events.md, "Clock changes"), end to end: a running
# volactd's wall clock is moved with libfaketime (FAKETIME_TIMESTAMP_FILE,
# re-read at every call; the monotonic clock stays real) while real
# volact-client machines activate. The issue's finding 3: three machines
# count 3; the clock set 730 days ahead: two of them visit and the count
# stays 3 (nothing expires early); the clock corrected: event 1030, count 3;
# 31 days later, after a restart, the records have expired (before, the two
# seen "in two years" counted for two years).
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

faketime_preload

clock="$work/faketime"
set_clock() { echo "$1" > "$clock"; }
start_faked_host() {
  start_host "$work/host" "$work/trust.pem" LD_PRELOAD="$preload" FAKETIME_TIMESTAMP_FILE="$clock" \
    FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1
}

start_authority "$work/authority"
key=$("$authority" --dir "$work/authority" issue-key --group 24)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
mkdir -p "$work/host" "$work/clients"
ctl() { "$volactctl" --socket "$work/host/admin.sock" "$@"; }
set_clock "+0d"
start_faked_host
ctl ipk "$key" > /dev/null || fail "ipk"
ctl ato > /dev/null || fail "ato"

field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^,\"}]*\)\"\{0,1\}.*/\1/p" | head -1; }
# count_after N: server machine N activates; prints the count it was told.
count_after() {
  local cmid
  cmid=$(printf '00000000-0000-4000-8000-%012d' "$1")
  "$client" --host "127.0.0.1:$port" --trust "$work/authority/authority.pem" --json \
    --state "$work/clients/$cmid.state" activate --edition server2008r2-standard --cmid "$cmid" \
    --name "srv-$1.example.org" | field count
}
# wait_event RE: waits (up to 10 s) for an event whose message matches RE (grep).
wait_event() {
  for _ in $(seq 100); do
    ctl --json events | grep -c > /dev/null "\"message\": \"[^\"]*$1" && return 0
    sleep 0.1
  done
  ctl events >&2
  fail "no event 1030 saying \"$1\""
}

for i in 1 2 3; do [ "$(count_after $i)" = "$i" ] || fail "count after machine $i"; done

# 730 days ahead: the host says the clock moved; the records are not expired.
set_clock "+730d"
wait_event "the clock moved forward by 730.0 days"
[ "$(count_after 1)" = "3" ] || fail "a jump forward expired records (machine 1)"
[ "$(count_after 2)" = "3" ] || fail "a jump forward expired records (machine 2)"

# Corrected: the two records seen "in two years" count as seen now.
set_clock "+0d"
wait_event "the clock moved back by 730.0 days ([^)]*): 2 client records seen later than now"
[ "$(count_after 3)" = "3" ] || fail "count after the correction"
ctl dli | grep -c > /dev/null "^Current count: 3$" || fail "dli after the correction"
ctl events | grep -c " 1030 the clock moved" > "$work/n"
[ "$(cat "$work/n")" = "2" ] || fail "expected two events 1030, got $(cat "$work/n")"
# Every record on disk is now at most now.
now=$(date +%s)
ctl --json clients | sed -n 's/.*"last_seen": \([0-9]*\).*/\1/p' > "$work/seen"
[ "$(wc -l < "$work/seen")" = "3" ] || fail "expected three client records"
while read -r s; do [ "$s" -le "$now" ] || fail "a record is still seen in the future ($s)"; done < "$work/seen"

# 31 days on in the running host: a forward jump, so nothing expires yet.
set_clock "+31d"
wait_event "the clock moved forward by 31.0 days"
[ "$(count_after 4)" = "4" ] || fail "a jump forward of 31 days expired records"
stop_host

# Restarted 31 days on (a start trusts the clock): the three records of the
# excursion have expired, only machine 4 (seen at +31 days) is left.
start_faked_host
[ "$(count_after 5)" = "2" ] || fail "records did not expire 31 days after the correction"
stop_host
set_clock "+400d"
start_faked_host
[ "$(count_after 6)" = "1" ] || fail "records did not expire at 400 days"
stop_host

echo "clock: ok"
