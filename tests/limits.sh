#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Per-source limits on the client port (docs/limits.md; issue 10, "abuse on
# the client port" and findings 1 and 2). Flooders on 127.0.0.2.. against a
# real volactd on 127.0.0.1, while 127.0.0.1 is a real client whose every
# activation must get a verified answer:
#   1. a request flood from 127.0.0.2 is answered HOST_BUSY (event 1020,
#      counters), the real client is served throughout;
#   2. 127.0.0.3 holding 40 idle connections keeps only max-connections-per-source;
#   3. idle connections from several sources fill max-connections: the oldest
#      idle ones are closed for the real client's connections;
#   4. 127.0.0.7 bringing new machine IDs stops at new-cmid-limit with
#      NEW_CMID_LIMIT (event 1021) and no record beyond it.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"
flood="$top_builddir/tests/limits-flood"

make_tls_cert "$work"
printf 'scrape-pass\n' | "$volactctl" user add prometheus --password-fd 0 --users-file "$work/users" > /dev/null
web_conf "$work" "$work/users"
# No exemption: the real client on 127.0.0.1 is limited like everyone, and stays within limits.
host_conf_extra="$host_conf_extra
limit-exempt =
max-connections = 48
max-connections-per-source = 16
rate-limit = 10
rate-burst = 20
new-cmid-limit = 30"
start_activated_host "$work/host"

metric() { # NAME: its value in a fresh scrape
  curl -sS --max-time 20 --cacert "$work/cert.pem" -u 'prometheus:scrape-pass' \
    "https://127.0.0.1:$web_port/metrics" | sed -n "s/^$1 //p"
}
served=0
real_client() { # SUFFIX: one activation from 127.0.0.1 that must get a verified answer
  local r
  r=$(activate_server "$1" || true) # exit 1 for a count still too low
  case "$r" in
    0x00000000 | 0xC004F038) served=$((served + 1)) ;;
    *) fail "real client $1: result '$r' while the flood ran" ;;
  esac
}
field() { sed -n "s/.* $2 \([0-9]*\).*/\1/p" "$1"; }

# 1. Request flood (one machine ID, so the quota of part 4 is not what stops it).
# Bounded by 2,000,000 requests and 60 s; stopped once the real client is done.
"$flood" --host "127.0.0.1:$port" --source 127.0.0.2 --connections 4 --requests 2000000 \
  --seconds 60 --same-cmid > "$work/flood1" &
flood_pid=$!
sleep 1
for m in 01 02 03 04 05 06 07 08 09 10; do real_client "$m"; done
kill -0 "$flood_pid" 2> /dev/null || fail "the flood ended before the real client was done"
kill -TERM "$flood_pid"
wait "$flood_pid" || fail "the flood could not connect"
echo "flood from 127.0.0.2: $(cat "$work/flood1")"
busy=$(field "$work/flood1" busy)
signed=$(field "$work/flood1" signed)
[ "$busy" -gt 0 ] || fail "the flooder was never answered HOST_BUSY"
# 10/s after a burst of 20: a small share of what it sent.
[ "$signed" -lt $((busy / 4)) ] || fail "the flooder got $signed signed answers, $busy busy"
[ "$(metric volact_rate_limited_requests_total)" -ge "$busy" ] || fail "rate-limited counter"
[ "$(metric volact_limited_sources_total)" -ge 1 ] || fail "limited-sources counter"
ctl events > "$work/events"
n=$(grep -c ' 1020 .*127\.0\.0\.2 limited by its request rate' "$work/events" || true)
[ "$n" -eq 1 ] || { cat "$work/events" >&2; fail "event 1020 for 127.0.0.2: $n, expected 1"; }
grep -q ' 1020 .*127\.0\.0\.1 ' "$work/events" && fail "the real client was limited"

# 2. Per-source connection cap: 16 of 40 idle connections stay.
"$flood" --host "127.0.0.1:$port" --source 127.0.0.3 --idle 40 --same-cmid --seconds 3 > "$work/idle3" \
  || fail "no idle connection could be opened"
echo "idle from 127.0.0.3: $(tail -1 "$work/idle3")"
[ "$(field "$work/idle3" closed)" -eq 24 ] || fail "expected 24 of 40 connections closed at once"
[ "$(metric volact_connections_source_refused_total)" -ge 24 ] || fail "source-refused counter"
ctl events | grep -c > /dev/null ' 1020 .*127\.0\.0\.3 limited by its concurrent connections' \
  || fail "no event 1020 for 127.0.0.3's connections"

# 3. 64 idle connections from four sources against max-connections 48: the real client's
#    connections close the oldest idle ones instead of being refused.
holders=()
for src in 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6; do
  "$flood" --host "127.0.0.1:$port" --source $src --idle 16 --same-cmid --seconds 20 > "$work/hold-$src" &
  holders+=($!)
  for _ in $(seq 50); do grep -q '^holding' "$work/hold-$src" && break; sleep 0.1; done
done
for m in 11 12 13 14 15; do real_client "$m"; done
[ "$(metric volact_connections_idle_closed_total)" -ge 5 ] || fail "no idle connection was closed"
for p in "${holders[@]}"; do kill "$p" 2> /dev/null || true; wait "$p" 2> /dev/null || true; done

# 4. New machine IDs from 127.0.0.7: 30, then NEW_CMID_LIMIT and no record.
count() {
  ctl --json dli > "$work/dli.json"
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["current_count"]["windows"])' "$work/dli.json"
}
before=$(count)
# Rounds of 15 new machine IDs, a second apart so the rate bucket refills (pacing, not a
# timing assertion): the first 30 accepted are counted, then NEW_CMID_LIMIT. Bounded.
signed=0 limited=0 busy7=0
for _ in $(seq 40); do
  "$flood" --host "127.0.0.1:$port" --source 127.0.0.7 --requests 15 --seconds 10 > "$work/round7" \
    || fail "the new-CMID flood could not connect"
  signed=$((signed + $(field "$work/round7" signed)))
  limited=$((limited + $(field "$work/round7" cmid_limit)))
  busy7=$((busy7 + $(field "$work/round7" busy)))
  [ "$limited" -gt 0 ] && [ "$signed" -ge 30 ] && break
  sleep 1
done
printf 'signed %s cmid_limit %s busy %s\n' "$signed" "$limited" "$busy7" > "$work/flood7"
echo "new machine IDs from 127.0.0.7: $(cat "$work/flood7")"
[ "$signed" -eq 30 ] || fail "expected 30 signed answers (new-cmid-limit), got $signed"
[ "$(field "$work/flood7" cmid_limit)" -gt 0 ] || fail "no NEW_CMID_LIMIT answer"
after=$(count)
[ "$after" -eq $((before + 30)) ] || fail "count went from $before to $after, expected +30"
[ "$(metric volact_new_cmid_limited_requests_total)" -eq "$(field "$work/flood7" cmid_limit)" ] \
  || fail "new-CMID counter: $(metric volact_new_cmid_limited_requests_total)"
ctl events | grep -c > /dev/null ' 1021 .*127\.0\.0\.7 limited by its new machine IDs' \
  || fail "no event 1021 for 127.0.0.7"
real_client 16

[ "$served" -eq 16 ] || fail "$served of 16 real activations served"
kill -0 "$host_pid" || fail "volactd died"
echo "limits: ok (16 of 16 real activations served during the floods)"
