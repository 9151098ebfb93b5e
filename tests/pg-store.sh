#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shared store's connection against a real PostgreSQL server
# (core/store/, docs/store.md): the harness's server itself (password
# authentication only, fsync on, loopback only), then tests/test-pg-store.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

start_postgres "$work/pg"

# The server the tests rely on: durable, loopback only, and no way in without the password.
[ "$(pg_psql -At -c 'SHOW fsync')" = on ] || fail "fsync is off"
[ "$(pg_psql -At -c 'SHOW listen_addresses')" = 127.0.0.1 ] || fail "not on loopback only"
[ "$(pg_psql -At -c 'SELECT current_user')" = volact ] || fail "not connected as volact"
[ "$(stat -c %a "$pg_passfile")" = 600 ] || fail "the passfile is not 0600"
: > "$work/empty.pgpass"
chmod 600 "$work/empty.pgpass"
if PGPASSFILE="$work/empty.pgpass" "$pg_bin/psql" -X -w "$pg_uri" -c 'SELECT 1' \
  > /dev/null 2> "$work/nopw.err"; then
  fail "the server let the volact role in without a password"
fi
grep -q "password" "$work/nopw.err" || { cat "$work/nopw.err" >&2; fail "unexpected refusal"; }

VOLACT_TEST_PG_URI=$pg_uri VOLACT_TEST_PG_CTL=$pg_ctl "$top_builddir/tests/test-pg-store" \
  || fail "tests/test-pg-store failed (server log: $work/pg/postgres.log)"
echo "pg-store: ok"
