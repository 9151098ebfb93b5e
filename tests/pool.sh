#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Two hosts sharing one count pool on a real PostgreSQL server (docs/store.md):
# 3 client machines on host A and 2 server machines on host B give count 5 on
# both, and the servers are licensed on both; the database stopped while both
# hosts take activations, then started again: every acknowledged activation is
# in the database afterwards and the counts agree (events 1040 and 1041);
# the database frozen (it answers nothing) while both hosts take activations: both
# give it up after store-timeout + 2 s, keep answering, and write everything once it
# runs again; kill -9 of a host under load loses nothing acknowledged from the
# database; a small simulated fleet (bench/volact-fleet-sim) over 8 days on the pool;
# a host's expiry round deletes records past retention and its own events past 90
# days from the database, and nothing else.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"
driver="$top_builddir/tests/durability-client"

start_postgres "$work/pg"
start_authority "$work/authority"
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
mkdir -p "$work/clients"

# run_host NAME: starts host NAME (folder $work/NAME) in the pool as kms-NAME; sets
# port_NAME, pid_NAME.
run_host() {
  host_conf_extra="store = $pg_uri
store-host-name = kms-$1
store-timeout = 1"
  start_host "$work/$1" "$work/trust.pem"
  host_conf_extra=""
  eval "port_$1=$port pid_$1=$host_pid"
}
# pool_host NAME: a new activated host named NAME in the pool.
pool_host() {
  local dir="$work/$1" key
  mkdir -p "$dir"
  write_fingerprint "$dir" "machine-$1" "cpu-$1"
  run_host "$1"
  key=$("$authority" --dir "$work/authority" issue-key --group 24)
  ctl "$1" ipk "$key" > /dev/null || fail "ipk on $1"
  ctl "$1" ato > /dev/null || fail "ato on $1"
}
ctl() { local h=$1; shift; "$volactctl" --socket "$work/$h/admin.sock" "$@"; }
count_on() { ctl "$1" --json dli | tr -d '\n ' | sed -n 's/.*"current_count":{[^}]*"windows":\([0-9]*\).*/\1/p'; }
# wait_count HOST N: until HOST counts N (the pull reads the others' records every second).
wait_count() {
  for _ in $(seq 150); do
    [ "$(count_on "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  fail "host $1 counts $(count_on "$1"), not $2"
}
# wait_agree: until both hosts count what the database holds (read again each time: a
# record acknowledged just now may still be on its way).
wait_agree() {
  local total
  for _ in $(seq 150); do
    total=$(pg_psql -At -c "SELECT count(*) FROM volact_clients")
    [ "$(count_on a)" = "$total" ] && [ "$(count_on b)" = "$total" ] && return 0
    sleep 0.1
  done
  fail "the hosts count $(count_on a) and $(count_on b); the database holds $total"
}
# ask HOST CMID-SUFFIX EDITION: one machine asks HOST; prints the result code and count.
ask() {
  local cmid="00000000-0000-4000-8000-0000000000$2" p
  p=$(eval echo "\$port_$1")
  "$client" --host "127.0.0.1:$p" --trust "$work/authority/authority.pem" --json \
    --state "$work/clients/$1-$cmid.state" activate --edition "$3" --cmid "$cmid" \
    --name "m$2.example.org" > "$work/ask.json" || true
  tr -d '\n ' < "$work/ask.json" | sed -n 's/.*"result":"\([^"]*\)".*"count":\([0-9]*\).*/\1 \2/p'
}

# start_drivers NAME PREFIX: a durability-client on each host (machine IDs from PREFIX and
# the host's letter), the acknowledged ones in $work/NAME.a and NAME.b; back once 200 were.
start_drivers() {
  local h p
  drivers=()
  for h in a b; do
    p=$(eval echo "\$port_$h")
    "$driver" 127.0.0.1 "$p" "$work/authority/authority.pem" "$2$h" 100000 \
      > "$work/$1.$h" 2> "$work/driver.$h" &
    drivers+=($!)
  done
  for _ in $(seq 100); do
    [ "$(cat "$work/$1".* | wc -l)" -ge 200 ] && break
    sleep 0.1
  done
}
stop_drivers() {
  local p
  for p in "${drivers[@]}"; do
    kill "$p" 2> /dev/null || fail "a driver stopped early: $(cat "$work"/driver.*)"
    wait "$p" 2> /dev/null || true
  done
}
# wait_dli HOST TEXT WHAT: until HOST's dli shows TEXT (30 s at most), else fails with WHAT.
wait_dli() {
  for _ in $(seq 300); do
    ctl "$1" dli | grep -q "$2" && return 0
    sleep 0.1
  done
  fail "$3"
}
# all_in_db NAME: every machine ID acknowledged in $work/NAME.* is in the database.
all_in_db() {
  local n missing
  pg_psql -At -c "SELECT cmid FROM volact_clients" | sort > "$work/in-db"
  n=$(cat "$work/$1".* | wc -l)
  missing=$(cat "$work/$1".* | sort | comm -23 - "$work/in-db" | wc -l)
  [ "$missing" -eq 0 ] || fail "$missing of $n acknowledged activations ($1) are not in the database"
}

pool_host a
pool_host b
ctl a dli | grep -q "^Record store: shared (PostgreSQL) as kms-a: counting with the other hosts" \
  || { ctl a dli >&2; fail "dli does not say the store is shared"; }

# --- 3 client machines on A, 2 server machines on B: count 5 on both -------------
for m in 01 02 03; do
  r=$(ask a "$m" win7-enterprise)
  [ "${r#* }" -ge 1 ] || fail "client machine $m on A: \"$r\""
done
wait_count b 3
r=$(ask b 11 server2008r2-standard); [ "$r" = "0xC004F038 4" ] || fail "server 11 on B: \"$r\""
r=$(ask b 12 server2008r2-standard); [ "$r" = "0x00000000 5" ] || fail "server 12 on B: \"$r\""
r=$(ask b 11 server2008r2-standard); [ "$r" = "0x00000000 5" ] || fail "server 11 again on B: \"$r\""
# Acknowledged means in the database: each record there, with the host that saw it.
rows=$(pg_psql -At -c "SELECT host, count(*) FROM volact_clients GROUP BY host ORDER BY host" | tr '\n' ' ')
[ "$rows" = "kms-a|3 kms-b|2 " ] || fail "the database holds \"$rows\""
wait_count a 5
# The servers are licensed on A too (the same machines asking A: still 5).
r=$(ask a 11 server2008r2-standard); [ "$r" = "0x00000000 5" ] || fail "server 11 on A: \"$r\""
r=$(ask a 12 server2008r2-standard); [ "$r" = "0x00000000 5" ] || fail "server 12 on A: \"$r\""
# A client machine still needs 25.
r=$(ask a 01 win7-enterprise); [ "${r% *}" != "0x00000000" ] || fail "a client licensed at 5"
# A record names the host of its latest request.
rows=$(pg_psql -At -c "SELECT host, count(*) FROM volact_clients GROUP BY host ORDER BY host" | tr '\n' ' ')
[ "$rows" = "kms-a|5 " ] || fail "after A saw the servers, the database holds \"$rows\""
n=$(pg_psql -At -c "SELECT count(*) FROM volact_events WHERE event = 12290 AND host = 'kms-a'")
[ "$n" -ge 6 ] || fail "only $n request events of host A in the database"

echo "$(date +%T) count 5 done"

# --- expiry in the database (each host runs it when it starts, then every 10 minutes) ---
now=$(date +%s)
pool_name=$(pg_psql -At -c "SELECT pool FROM volact_clients LIMIT 1")
pg_psql -c "INSERT INTO volact_clients (pool, cmid, last_seen, host)
  SELECT '$pool_name', gen_random_uuid (), $((now - 40 * 86400)), 'kms-gone'
  FROM generate_series (1, 20)"
pg_psql -c "INSERT INTO volact_events (host, store, seq, time, event) VALUES
  ('kms-b', 1, 1, $((now - 91 * 86400)), 12290), ('kms-b', 1, 2, $((now - 89 * 86400)), 12290),
  ('kms-other', 1, 1, $((now - 91 * 86400)), 12290)"
kill "$pid_b"
wait "$pid_b" 2> /dev/null || true
run_host b
for _ in $(seq 150); do
  [ "$(pg_psql -At -c "SELECT count(*) FROM volact_clients WHERE host = 'kms-gone'")" = 0 ] && break
  sleep 0.1
done
left=$(pg_psql -At -c "SELECT count(*) FROM volact_clients WHERE host = 'kms-gone'")
[ "$left" = 0 ] || fail "$left records past retention are still in the database"
events=$(pg_psql -At -c "SELECT host || ':' || seq FROM volact_events WHERE store = 1 ORDER BY 1" | tr '\n' ' ')
[ "$events" = "kms-b:2 kms-other:1 " ] || fail "after the expiry the database holds the events \"$events\""
wait_count b 5
echo "$(date +%T) expiry done"
# --- the database stopped while both hosts take activations --------------------
start_drivers acked e
"$pg_ctl" stop > /dev/null || fail "cannot stop PostgreSQL"
wait_dli a "^Record store: shared (PostgreSQL) as kms-a: DEGRADED" "A not degraded"
ctl a health -w 0 > "$work/health" && fail "health says OK while the store is degraded"
grep -q "WARNING.*the shared store cannot take records" "$work/health" \
  || { cat "$work/health" >&2; fail "health does not name the degraded store"; }
before=$(cat "$work"/acked.* | wc -l)
sleep 2
after=$(cat "$work"/acked.* | wc -l)
[ "$after" -gt "$before" ] || fail "no activation acknowledged while the database was down"
echo "$(date +%T) degraded"
"$pg_ctl" start > /dev/null || fail "cannot start PostgreSQL again"
echo "$(date +%T) started again"
sleep 1
stop_drivers
for h in a b; do
  wait_dli "$h" "counting with the other hosts" "$h did not catch up"
  ctl "$h" events > "$work/events.$h"
  grep -q "1040" "$work/events.$h" || fail "no event 1040 on $h"
  grep -q "1041" "$work/events.$h" || fail "no event 1041 on $h"
done
acked=$(cat "$work"/acked.* | wc -l)
[ "$acked" -ge 100 ] || fail "only $acked activations; the test proves nothing"
all_in_db acked
wait_agree
echo "$(date +%T) outage done"

# --- the database frozen while both hosts take activations -----------------------
# A frozen server takes packets and answers nothing: neither TCP nor its statement_timeout
# ends a wait for it. With store-timeout = 1 each host gives it up after 3 s, goes degraded
# and keeps answering from its journal, and does not try it again until its reading thread
# has read from it.
start_drivers frozen 9
pg_signal STOP
for h in a b; do
  wait_dli "$h" "DEGRADED" "$h not degraded while the database is frozen"
done
before=$(cat "$work"/frozen.* | wc -l)
sleep 3
after=$(cat "$work"/frozen.* | wc -l)
[ "$after" -gt "$before" ] || fail "no activation acknowledged while the database was frozen"
ctl a events | grep -q "the store did not answer within 3 s" \
  || { ctl a events | tail -5 >&2; fail "event 1040 does not say the store did not answer"; }
echo "$(date +%T) frozen"
pg_signal CONT
sleep 1
stop_drivers
for h in a b; do
  wait_dli "$h" "counting with the other hosts" "$h did not catch up after the freeze"
done
all_in_db frozen
wait_agree
echo "$(date +%T) freeze done"

# --- kill -9 of a host under load ----------------------------------------------
"$driver" 127.0.0.1 "$port_a" "$work/authority/authority.pem" "f0" 200000 \
  > "$work/acked.kill" 2> "$work/driver.kill" &
d=$!
for _ in $(seq 100); do
  [ "$(wc -l < "$work/acked.kill")" -ge 300 ] && break
  sleep 0.1
done
kill -9 "$pid_a"
wait "$pid_a" 2> /dev/null || true
wait "$d" || fail "the driver failed"
[ "$(wc -l < "$work/acked.kill")" -ge 100 ] || fail "too few activations before the kill"
run_host a
for _ in $(seq 100); do
  pg_psql -At -c "SELECT cmid FROM volact_clients" | sort > "$work/in-db"
  missing=$(sort "$work/acked.kill" | comm -23 - "$work/in-db" | wc -l)
  [ "$missing" -eq 0 ] && break
  sleep 0.1
done
[ "$missing" -eq 0 ] || fail "$missing acknowledged activations lost from the database by kill -9"
wait_agree
# --- a small fleet over simulated days on the pool (docs/scale.md has the million) ----
sim="$top_builddir/bench/volact-fleet-sim"
before=$(pg_psql -At -c "SELECT count(*) FROM volact_clients")
"$sim" --hosts "127.0.0.1:$port_a,127.0.0.1:$port_b" --trust "$work/authority/authority.pem" \
  --machines 300 --days 8 --concurrency 8 --max-seconds 120 --store-uri "$pg_uri" --json \
  > "$work/fleet.json" || { cat "$work/fleet.json" >&2; fail "the fleet simulation failed"; }
wait_agree
after=$(pg_psql -At -c "SELECT count(*) FROM volact_clients")
[ "$after" -eq $((before + 300)) ] || fail "the pool holds $after records, not $before + 300"
/usr/bin/python3 - "$work/fleet.json" "127.0.0.1:$port_a" "127.0.0.1:$port_b" << 'PY' \
  || fail "the fleet report does not hold"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
a, b = sys.argv[2], sys.argv[3]
hours = [l for l in lines if l["type"] == "hour"]
summary = lines[-1]
def check(ok, what):
    if not ok:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)
check(summary["failures"] == 0 and hours[23]["licensed"] == 300, "failures or unlicensed: %s" % summary)
# PostgreSQL publishes its counters up to a second late: the run's commits, not each hour's.
check(sum(h["commits"] for h in hours) > 0, "no database commits reported")
# The renewals of day 7: one pool, so both hosts answer the whole pool's count.
# Both hosts answered on day 7. (The whole week takes a few real seconds here, faster than
# the once-a-second read of the other host's records, so an hour's counts may lag: the
# pool's count is checked after the run, above.)
for host in (a, b):
    check(any(h["counts"][host] > 0 for h in hours[168:192]), "no answer from %s on day 7" % host)
PY
echo "pool: count 5 on both hosts; $acked activations through a database outage and" \
  "$(wc -l < "$work/acked.kill") before kill -9 all in the database; ok"
