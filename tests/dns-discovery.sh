#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# DNS discovery, host caching and failover (docs/client.md), against a real
# BIND9 named and two activated hosts with the same host key published with
# priorities 0 (main) and 10 (backup), each publishing itself: the client finds the main host, caches
# it, --no-host-cache looks it up again, --host wins; the main host is killed
# and the next activation goes to the backup within 2 seconds; each host
# counts its own clients. Also: the search list, a dead address costs only the
# connect timeout, a host that answers "not activated" or that this address's new-machine
# quota is spent is passed over, and a
# "." target means no service.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/named.sh"
command -v dig > /dev/null && command -v nsupdate > /dev/null || { echo "SKIP: dig or nsupdate is not installed" >&2; exit 77; }
[ -x "$named_bin" ] || { echo "SKIP: named (bind9) is not installed" >&2; exit 77; }

zone=example.test
start_authority "$work/authority"
key=$("$authority" --dir "$work/authority" issue-key --group 24)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"

# A port whose connect() hangs, like a dead host's (tests/tcp-blackhole.c).
"$top_builddir/tests/tcp-blackhole" > "$work/blackhole" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/blackhole" ] && break; sleep 0.1; done
dead_port=$(cat "$work/blackhole")
[ -n "$dead_port" ] || fail "tcp-blackhole did not start"

start_named "$zone" \
  "host1 IN A 127.0.0.1" \
  "host2 IN A 127.0.0.1" \
  "_volact._tcp.blackhole 300 IN SRV 0 0 $dead_port dead" \
  "dead IN A 127.0.0.1" \
  "_volact._tcp.none 300 IN SRV 0 0 0 ."

# Two hosts, the same key installed and activated on both (a key activates up to 6 hosts),
# each publishing itself in the zone (docs/dns.md): priority 0 the main one, 10 the backup.
for h in 1 2; do
  mkdir -p "$work/host$h"
  write_fingerprint "$work/host$h" "machine-$h" "cpu-$h"
  host_conf_extra="dns-zones = $zone
dns-server = 127.0.0.1:$named_port
dns-tsig-key = $tsig_file
dns-priority = $(( (h - 1) * 10 ))
dns-target = host$h.$zone"
  start_host "$work/host$h" "$work/trust.pem"
  eval "port$h=\$port pid$h=\$host_pid"
  "$volactctl" --socket "$work/host$h/admin.sock" ipk "$key" > /dev/null || fail "ipk on host $h"
  "$volactctl" --socket "$work/host$h/admin.sock" ato > /dev/null || fail "ato on host $h"
done
unset host_conf_extra
for _ in $(seq 50); do
  [ "$(srv_records "_volact._tcp.$zone" | wc -l)" = 2 ] && break
  sleep 0.1
done
[ "$(srv_records "_volact._tcp.$zone")" = "$(printf '0 0 %s host1.%s.\n10 0 %s host2.%s.' "$port1" "$zone" "$port2" "$zone")" ] \
  || fail "the hosts did not publish themselves: $(srv_records "_volact._tcp.$zone")"
# Behind the dead address, the backup (added now that its port is known).
printf 'server 127.0.0.1 %s\nzone %s\nupdate add _volact._tcp.blackhole.%s 300 SRV 10 0 %s host2.%s.\nsend\n' \
  "$named_port" "$zone" "$zone" "$port2" "$zone" | nsupdate -k "$tsig_file" || fail "nsupdate"
dns=(--dns-server "127.0.0.1:$named_port")
main="host1.$zone:$port1"
backup="host2.$zone:$port2"

field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^,\"}]*\)\"\{0,1\}.*/\1/p" | head -1; }
echo 0 > "$work/machines"
# activate STATE [OPTION...]: a new machine (new CMID) asks with the state file STATE; prints the
# JSON reply. Server editions need 5 machines, so fewer get a verified 0xC004F038: an answer.
# (The machine counter is a file: activate runs in $(...), a subshell.)
activate() {
  local state=$1 n; shift
  n=$(($(cat "$work/machines") + 1))
  echo "$n" > "$work/machines"
  "$client" --trust "$work/authority/authority.pem" --json --state "$work/$state.state" "$@" \
    activate --edition server2008r2-standard --cmid "$(printf '00000000-0000-4000-8000-%012d' "$n")" \
    || true
}
# expect OUT HOST SOURCE: the reply came from HOST, found by SOURCE (discovery, cache, explicit).
expect() {
  [ "$(echo "$1" | field response)" = true ] || fail "no answer: $1"
  [ "$(echo "$1" | field host)" = "$2" ] || fail "expected an answer from $2: $1"
  [ "$(echo "$1" | field host_source)" = "$3" ] || fail "expected the host from $3: $1"
}
# count H: host H's current count (the largest of its pools': one edition is used here).
count() {
  "$volactctl" --socket "$work/host$1/admin.sock" --json dli | tr -d ' \n' \
    | sed -n 's/.*"current_count":{\([^}]*\)}.*/\1/p' | grep -o ':[0-9]*' | tr -d : | sort -n \
    | tail -1
}
cached() { sed -n '/^\[host-cache\]/,/^\[/s/^host=//p' "$work/$1.state"; }

# discover: both hosts, the main one first, with their addresses.
"$client" "${dns[@]}" --domain "$zone" discover > "$work/discover" || fail "discover"
grep -q "_volact._tcp.$zone" "$work/discover" || fail "discover: the name: $(cat "$work/discover")"
grep -E "^  1 +0 +0 +$port1 +host1.$zone \(127.0.0.1\)" "$work/discover" > /dev/null \
  || fail "discover: the main host first: $(cat "$work/discover")"
grep -E "^  2 +10 +0 +$port2 +host2.$zone \(127.0.0.1\)" "$work/discover" > /dev/null \
  || fail "discover: the backup second: $(cat "$work/discover")"
"$client" "${dns[@]}" --domain "$zone" --json discover > "$work/discover.json" || fail "discover --json"
[ "$(tr -d ' \n' < "$work/discover.json" | grep -o '"host":"[^"]*"' | cut -d'"' -f4 | tr '\n' ' ')" \
  = "$main $backup " ] || fail "discover --json order: $(cat "$work/discover.json")"

# The search list: the first domain without the record is passed over.
LOCALDOMAIN="nothere.test $zone" "$client" "${dns[@]}" --json discover > "$work/search.json" \
  || fail "discover over the search list"
[ "$(field name < "$work/search.json")" = "_volact._tcp.$zone" ] || fail "search list: $(cat "$work/search.json")"

# A "." target: the service is not available there; nothing to activate on.
"$client" "${dns[@]}" --domain "none.$zone" discover | grep -q "not available" || fail "\".\" target"
out=$(activate none "${dns[@]}" --domain "none.$zone")
[ "$(echo "$out" | field result)" = 0xC0AC0507 ] || fail "\".\" target activated: $out"

# First activation: discovered, the main host answers and is cached.
expect "$(activate pc "${dns[@]}" --domain "$zone")" "$main" discovery
[ "$(cached pc)" = "$main" ] || fail "the main host was not cached: $(cat "$work/pc.state")"
# Next time straight to the cached host (its name resolved, no SRV lookup).
expect "$(activate pc "${dns[@]}" --domain "$zone")" "$main" cache
# --no-host-cache looks the hosts up again.
expect "$(activate pc "${dns[@]}" --domain "$zone" --no-host-cache)" "$main" discovery
# An explicit --host wins over both, and is not cached.
expect "$(activate pc --host "127.0.0.1:$port2")" "127.0.0.1:$port2" explicit
[ "$(cached pc)" = "$main" ] || fail "--host changed the cached host: $(cat "$work/pc.state")"
[ "$(count 1)" = 3 ] && [ "$(count 2)" = 1 ] \
  || fail "counts before failover: host1 $(count 1), host2 $(count 2) (expected 3 and 1)"

# Failover: the main host dies; the next activation tries it (cached), then discovers the backup.
kill "$pid1"
wait "$pid1" 2> /dev/null || true
start=$(date +%s%N)
out=$(activate pc "${dns[@]}" --domain "$zone")
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "failover to the backup took ${elapsed_ms} ms"
expect "$out" "$backup" discovery
[ "$(cached pc)" = "$backup" ] || fail "the backup was not cached: $(cat "$work/pc.state")"
expect "$(activate pc "${dns[@]}" --domain "$zone")" "$backup" cache
# Counts are per host: the backup counted its own three machines only.
[ "$(count 2)" = 3 ] || fail "count on the backup: $(count 2) (expected 3)"

# A host that never accepts is tried for the connect timeout, then the next one is. (The
# times are printed, not asserted: tests check behaviour; a loaded machine is slower.)
start=$(date +%s%N)
out=$(activate dead "${dns[@]}" --domain "blackhole.$zone" --connect-timeout 500)
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
expect "$out" "$backup" discovery
echo "a dead host and then the backup took ${elapsed_ms} ms"
[ "$elapsed_ms" -ge 500 ] || fail "the dead host was not tried: ${elapsed_ms} ms"

# A host that answers but cannot serve (not activated: it would not publish itself; here a
# stale record points at it) is passed over for the next one in DNS order.
mkdir -p "$work/host3"
write_fingerprint "$work/host3" machine-3 cpu-3
start_host "$work/host3" "$work/trust.pem"
printf 'server 127.0.0.1 %s\nzone %s\nupdate add _volact._tcp.unready.%s 300 SRV 0 0 %s host3.%s.\nupdate add host3.%s 300 A 127.0.0.1\nupdate add _volact._tcp.unready.%s 300 SRV 10 0 %s host2.%s.\nsend\n' \
  "$named_port" "$zone" "$zone" "$port" "$zone" "$zone" "$zone" "$port2" "$zone" \
  | nsupdate -k "$tsig_file" || fail "nsupdate"
expect "$(activate unready "${dns[@]}" --domain "unready.$zone")" "$backup" discovery
[ "$(cached unready)" = "$backup" ] || fail "the host that cannot serve was cached: $(cat "$work/unready.state")"

# A host whose quota of new machine IDs from this address is spent (docs/limits.md; loopback is
# not exempt here) answers NEW_CMID_LIMIT and is passed over like a busy one.
mkdir -p "$work/host4"
write_fingerprint "$work/host4" machine-4 cpu-4
host_conf_extra="new-cmid-limit = 1
limit-exempt ="
start_host "$work/host4" "$work/trust.pem"
unset host_conf_extra
"$volactctl" --socket "$work/host4/admin.sock" ipk "$key" > /dev/null || fail "ipk on host 4"
"$volactctl" --socket "$work/host4/admin.sock" ato > /dev/null || fail "ato on host 4"
expect "$(activate quota1 --host "127.0.0.1:$port")" "127.0.0.1:$port" explicit
out=$(activate quota2 --host "127.0.0.1:$port")
[ "$(echo "$out" | field result)" = 0xC0AC0508 ] || fail "host 4 did not answer NEW_CMID_LIMIT: $out"
printf 'server 127.0.0.1 %s\nzone %s\nupdate add _volact._tcp.quota.%s 300 SRV 0 0 %s host4.%s.\nupdate add host4.%s 300 A 127.0.0.1\nupdate add _volact._tcp.quota.%s 300 SRV 10 0 %s host2.%s.\nsend\n' \
  "$named_port" "$zone" "$zone" "$port" "$zone" "$zone" "$zone" "$port2" "$zone" \
  | nsupdate -k "$tsig_file" || fail "nsupdate"
expect "$(activate quota3 "${dns[@]}" --domain "quota.$zone")" "$backup" discovery

# Nothing published where the client looks: a clear error naming the name asked.
if "$client" "${dns[@]}" --domain nothere.test discover > /dev/null 2> "$work/err"; then
  fail "discover found hosts in nothere.test"
fi
grep -q "_volact._tcp.nothere.test" "$work/err" || fail "no-record error: $(cat "$work/err")"
echo "PASS"
