#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# volactctl clients and events on a host whose clients.db is broken exit
# non-zero with the error code and the database's own text, in text and JSON
# form, never with an empty list; and every host event reaches the journal
# (here volactd's stderr) exactly once, and the event log once.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"
sql="$top_builddir/tests/records-sql"
ctl() { "$volactctl" --socket "$work/host/admin.sock" "$@"; }
log="$work/host/volactd.log"
db="$work/host/state/clients.db"

mkdir -p "$work/host"
start_host "$work/host" "$top_srcdir/licenses/reference-authority.pem"

# One journal line per host event: the host logs it, the store only stores it.
ctl reload > /dev/null || fail "reload"
n=$(grep -c 'Reloaded: ' "$log" || true)
[ "$n" = 1 ] || { cat "$log" >&2; fail "the reload event is in the journal $n times, not once"; }
n=$(grep -c 'started (pid' "$log" || true)
[ "$n" = 1 ] || { cat "$log" >&2; fail "the start event is in the journal $n times, not once"; }
n=$(ctl events | grep -c ' 1007 Reloaded: ' || true)
[ "$n" = 1 ] || fail "the reload event is in the event log $n times, not once"

# A healthy database answers, possibly with nothing.
ctl clients > "$work/out" || fail "clients on a healthy database"
grep -q '^0 client records$' "$work/out" || fail "clients: $(cat "$work/out")"

# The clients table is gone (a damaged or hand-edited database).
"$sql" "$db" "DROP TABLE clients"
if ctl clients > "$work/out" 2> "$work/err"; then
  fail "clients exits 0 on a broken database: $(cat "$work/out")"
fi
grep -q '^Error: 0x[0-9A-F]\{8\} .*clients\.db.*no such table: clients' "$work/err" \
  || fail "clients: unclear error: $(cat "$work/err")"
if ctl --json clients > "$work/out"; then fail "clients --json exits 0 on a broken database"; fi
grep -q '"code": "0x[0-9A-F]\{8\}"' "$work/out" && ! grep -q '"code": "0x00000000"' "$work/out" \
  && grep -q '"message": ".*no such table: clients' "$work/out" || fail "clients --json: $(cat "$work/out")"
# events does not read that table: it still answers.
ctl events > /dev/null || fail "events failed although the events table is intact"

"$sql" "$db" "DROP TABLE events"
if ctl events > "$work/out" 2> "$work/err"; then
  fail "events exits 0 on a broken database: $(cat "$work/out")"
fi
grep -q '^Error: 0x[0-9A-F]\{8\} .*no such table: events' "$work/err" \
  || fail "events: unclear error: $(cat "$work/err")"
if ctl events --csv > "$work/out" 2> /dev/null; then fail "events --csv exits 0 on a broken database"; fi
stop_host
echo "records-admin: ok"
