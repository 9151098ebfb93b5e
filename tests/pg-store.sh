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

test_pg="$top_builddir/tests/test-pg-store"

# A database host that never answers (tests/tcp-blackhole.c): the connect gives
# up after the default connect_timeout, libpq's "timeout expired", instead of
# the kernel's two minutes of SYN retries. Runs while the tests below do.
"$top_builddir/tests/tcp-blackhole" > "$work/blackhole" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/blackhole" ] && break; sleep 0.1; done
dead_port=$(cat "$work/blackhole")
[ -n "$dead_port" ] || fail "tcp-blackhole did not start"
VOLACT_TEST_PG_URI="postgresql://volact@127.0.0.1:$dead_port/volact" "$test_pg" connect dead \
  > /dev/null 2> "$work/dead.err" &
dead_pid=$!

VOLACT_TEST_PG_URI=$pg_uri VOLACT_TEST_PG_CTL=$pg_ctl "$test_pg" \
  || fail "tests/test-pg-store failed (server log: $work/pg/postgres.log)"

# The roles and grants of docs/store.md. A second host's role with the running
# privileges only (no CREATE) uses the schema the owner migrated.
pw2=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
pg_admin_psql -d volact > /dev/null << SQL
CREATE ROLE volact_kms2 LOGIN PASSWORD '$pw2';
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO volact_kms2;
SQL
printf '*:%s:*:volact_kms2:%s\n' "$pg_port" "$pw2" >> "$pg_passfile"
VOLACT_TEST_PG_URI="postgresql://volact_kms2@127.0.0.1:$pg_port/volact" "$test_pg" connect kms2 \
  || fail "a role with the running privileges cannot use a migrated store"
[ "$(pg_psql -At -c "SELECT count(*) FROM volact_hosts WHERE name = 'kms2'")" = 1 ] \
  || fail "the second role's host is not in volact_hosts"
# A schema of its own in a shared database: the tables land there, not in public.
pg_admin_psql -d postgres -c "CREATE DATABASE sitedb" > /dev/null
pg_admin_psql -d sitedb > /dev/null << SQL
CREATE SCHEMA volact AUTHORIZATION volact;
ALTER ROLE volact IN DATABASE sitedb SET search_path = volact;
SQL
VOLACT_TEST_PG_URI="postgresql://volact@127.0.0.1:$pg_port/sitedb" "$test_pg" connect kms1 \
  || fail "the volact role cannot create its schema in a schema of its own"
tables=$(pg_admin_psql -d sitedb -At -c "SELECT string_agg(table_schema || '.' || table_name, ' '
  ORDER BY table_name) FROM information_schema.tables WHERE table_name LIKE 'volact%'")
[ "$tables" = "volact.volact_clients volact.volact_events volact.volact_hosts volact.volact_schema" ] \
  || fail "tables in sitedb: $tables"
if wait "$dead_pid"; then fail "connected to a port that never answers"; fi
grep -q "timeout expired" "$work/dead.err" || { cat "$work/dead.err" >&2; fail "no connect timeout"; }
echo "pg-store: ok"
