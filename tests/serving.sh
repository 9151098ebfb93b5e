#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The seed's counting scenarios on loopback, with volact-client as the client:
# 3 client-edition and 2 server-edition machines give count 5, the servers
# are licensed and the clients get 0xC004F038; 20 more distinct client
# machines license the clients; repeats of one machine ID leave the count
# unchanged; 31 days later (libfaketime) the records have expired; intervals
# set with sai/sri reach the client and drive its schedule; a host whose
# certificate comes from another authority is rejected.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

faketime_preload

start_authority "$work/authority"
key=$("$authority" --dir "$work/authority" issue-key --group 24)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
saved_url=$authority_url
authority_url=
ctl() { "$volactctl" --socket "$work/host/admin.sock" "$@"; }

n=0
# next_cmid: a new distinct machine ID in $cmid (not in a subshell, so n really advances).
next_cmid() { n=$((n + 1)); cmid=$(printf '00000000-0000-4000-8000-%012d' "$n"); }
# activate EDITION CMID: one client machine asks; prints the JSON reply.
activate() {
  local edition=$1 cmid=$2
  "$client" --host "127.0.0.1:$port" --trust "$work/authority/authority.pem" --json \
    --state "$work/clients/$cmid.state" activate --edition "$edition" --cmid "$cmid" \
    --name "pc-${cmid: -4}.example.org" || true
}
field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^,\"}]*\)\"\{0,1\}.*/\1/p" | head -1; }
mkdir -p "$work/clients"

# An unactivated host answers with an error code, not silence.
mkdir -p "$work/host"
start_host "$work/host" "$work/trust.pem"
next_cmid
[ "$(activate win7-enterprise "$cmid" | field result)" = "0xC0AC0402" ] || fail "unactivated host"
ctl ipk "$key" > /dev/null
authority_url=$saved_url
stop_host
start_host "$work/host" "$work/trust.pem"
ctl ato > /dev/null || fail "ato"

# 3 client-edition and 2 server-edition machines: count 5.
c1=00000000-0000-4000-8000-0000000000c1
s1=00000000-0000-4000-8000-0000000000a1
for cm in c1 c2 c3; do
  out=$(activate vista-business "00000000-0000-4000-8000-0000000000${cm}")
  [ "$(echo "$out" | field result)" = "0xC004F038" ] || fail "client $cm: $out"
done
out=$(activate server2008r2-standard "$s1")
[ "$(echo "$out" | field count)" = "4" ] || fail "count after 4 machines: $out"
out=$(activate server2008-web 00000000-0000-4000-8000-0000000000a2)
[ "$(echo "$out" | field count)" = "5" ] || fail "count after 5 machines: $out"
[ "$(echo "$out" | field licensed)" = "true" ] || fail "the 2nd server is not licensed at 5: $out"
out=$(activate server2008r2-standard "$s1")
[ "$(echo "$out" | field licensed)" = "true" ] || fail "the 1st server is not licensed at 5: $out"
out=$(activate vista-business "$c1")
[ "$(echo "$out" | field result)" = "0xC004F038" ] || fail "a client is licensed at 5: $out"
[ "$(echo "$out" | field count)" = "5" ] || fail "a repeat raised the count: $out"
ctl dli | grep -q "^Current count: 5$" || fail "dli does not show count 5"

# Repeats of one machine ID leave the count unchanged.
for _ in 1 2 3; do
  [ "$(activate win7-enterprise "$c1" | field count)" = "5" ] || fail "repeat changed the count"
done

# 20 more distinct client machines: count 25, clients licensed.
for i in $(seq 1 20); do next_cmid; out=$(activate win7-professional "$cmid"); done
[ "$(echo "$out" | field count)" = "25" ] || fail "count after 25 machines: $out"
[ "$(echo "$out" | field licensed)" = "true" ] || fail "the 25th client is not licensed: $out"
[ "$(activate vista-business "$c1" | field licensed)" = "true" ] || fail "the 1st client at 25"

# An edition the key group does not cover is refused with its own code... (group 24 covers all);
# an unknown edition gets its own code.
next_cmid
[ "$(activate no-such-edition "$cmid" | field result)" = "0xC0AC0502" ] || fail "unknown edition"

# Intervals set with sai/sri reach the client and drive its schedule.
ctl sai 30 > /dev/null
ctl sri 60 > /dev/null
if ctl sai 14 2> "$work/err"; then fail "sai 14 accepted"; fi
grep -q "15 to 43200" "$work/err" || fail "sai range error unclear"
out=$(activate vista-business "$c1")
[ "$(echo "$out" | field renewal_interval)" = "60" ] || fail "renewal interval not received: $out"
[ "$(echo "$out" | field activation_interval)" = "30" ] || fail "activation interval not received: $out"
new=$(activate win7-enterprise 00000000-0000-4000-8000-00000000ffff)
# licensed (count 26 >= 25): renews after 60 minutes, the received renewal interval
[ "$(echo "$new" | field licensed)" = "true" ] || fail "26th client: $new"
"$client" --state "$work/clients/$c1.state" --json status > "$work/status"
grep -q '"renewal_interval": 60' "$work/status" || fail "the client did not keep the interval"
ctl --json dli | grep -q '"activation_interval": 30' || fail "dli does not show sai"
# sprt is saved at once and takes effect at the next start; dli says both.
new_port=$(random_port)
ctl sprt "$new_port" > /dev/null
ctl dli | grep -q "^Listening on Port: $port (port $new_port after a restart)$" || fail "dli after sprt"
if ctl sprt 70000 2> "$work/err"; then fail "sprt 70000 accepted"; fi
stop_host

# Settings survive a restart.
start_host "$work/host" "$work/trust.pem"
ctl --json dli | grep -q '"renewal_interval": 60' || fail "sri lost on restart"
[ "$port" = "$new_port" ] || fail "sprt did not take effect after the restart (port $port)"
ctl dli | grep -q "^Current count: 26$" || fail "count lost on restart"
stop_host

# 31 days later every record has expired: the count starts again.
start_host "$work/host" "$work/trust.pem" LD_PRELOAD="$preload" FAKETIME="+31d" \
  FAKETIME_DONT_RESET=1 DONT_FAKE_MONOTONIC=1
out=$(activate vista-business "$c1")
[ "$(echo "$out" | field count)" = "1" ] || fail "records did not expire after 31 days: $out"
stop_host

# A host whose certificate comes from another authority is rejected by the client.
start_authority "$work/rogue"
rogue_key=$("$authority" --dir "$work/rogue" issue-key --group 24)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/rogue/authority.pem" > "$work/rogue-trust.pem"
mkdir -p "$work/rogue-host"
start_host "$work/rogue-host" "$work/rogue-trust.pem"
"$volactctl" --socket "$work/rogue-host/admin.sock" ipk "$rogue_key" > /dev/null
iid=$("$volactctl" --socket "$work/rogue-host/admin.sock" --json dti \
  | sed -n 's/.*"installation_id": "\([0-9-]*\)".*/\1/p')
"$volactctl" --socket "$work/rogue-host/admin.sock" atp \
  "$("$authority" --dir "$work/rogue" confirm "$iid")" > /dev/null
next_cmid
[ "$(activate vista-business "$cmid" | field result)" = "0xC0AC0504" ] || fail "forged certificate accepted"
stop_host

echo "serving: ok"
