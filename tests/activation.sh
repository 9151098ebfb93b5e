#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The seed's step-by-step guide, end to end on loopback: an authority and
# hosts in temporary folders. ipk a bad key (0xC004F050) and a good one,
# activate one host online (ato) and another by telephone (dti, confirm,
# atp), see "License Status: Licensed" in dli, hit the 6-host and
# 10-activation limits, and change the hardware fingerprint (through the
# test-only VOLACT_TEST_FINGERPRINT_FILE) to see the host drop to unactivated.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

# --- the authority -------------------------------------------------------
start_authority "$work/authority"
key=$("$authority" --dir "$work/authority" issue-key --group 22)
[[ $key =~ ^[B-Y2-9]{5}(-[B-Y2-9]{5}){4}$ ]] || fail "issue-key printed \"$key\""
unknown_key=$("$authority" --dir "$work/authority" issue-key --group 99)
# Hosts trust the reference authority (license data) and ours (host certificates).
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"


# --- hosts ---------------------------------------------------------------
# host N: its own state folder, admin socket and fingerprint file.
host() { # N: start host N
  write_fingerprint_n "$1" "machine-$1" "cpu-$1" keep
  start_host "$work/host$1" "$work/trust.pem"
}
write_fingerprint_n() { # N machine-id cpu [keep]
  [ "${4:-}" = keep ] && [ -f "$work/host$1/fingerprint" ] && return 0
  write_fingerprint "$work/host$1" "$2" "$3"
}
ctl() { # N args...
  local n=$1; shift
  "$volactctl" --socket "$work/host$n/admin.sock" "$@"
}
expect_error() { # code N args...
  local code=$1 n=$2; shift 2
  if ctl "$n" "$@" > "$work/out" 2> "$work/err"; then fail "volactctl $* succeeded"; fi
  grep -q "$code" "$work/err" || { cat "$work/err" >&2; fail "volactctl $* did not report $code"; }
}

# Host 1: the online path.
host 1
expect_error 0xC004F050 1 /ipk BCDFG-HJKMP-QRTVW-XY234-6789B
grep -q "The Software Licensing service reported that the product key is invalid" "$work/err" \
  || fail "the seed's text is missing for a malformed key"
expect_error 0xC004F050 1 -ipk "$unknown_key"
grep -q "group 99" "$work/err" || fail "an unknown key group is not named"
ctl 1 /ipk "$key" | grep -q "Installed product key $key successfully" || fail "ipk"
ctl 1 /dli | grep -q "^License Status: Unlicensed" || fail "a new host claims to be licensed"
ctl 1 /ato | grep -q "Product activated successfully" || fail "ato"
ctl 1 /dli > "$work/dli"
grep -q "^License Status: Licensed" "$work/dli" || fail "dli after ato"
grep -q "^Key Management Service is enabled on this machine" "$work/dli" || fail "dli: not enabled"
grep -q "^Partial Product Key: ${key: -5}" "$work/dli" || fail "dli: partial key"
grep -q "^Listening on Port: $port$" "$work/dli" || fail "dli: port"
ctl 1 --json dli | grep -q '"license_status": "Licensed"' || fail "dli --json"
ctl 1 /dlv | grep -q "^Activation: online" || fail "dlv does not say how the host was activated"
stop_host
# The activation survives a restart.
host 1
ctl 1 dli | grep -q "^License Status: Licensed" || fail "activation lost on restart"
stop_host

# Host 2: the telephone path.
host 2
ctl 2 ipk "$key" > /dev/null
iid=$(ctl 2 --json dti | sed -n 's/.*"installation_id": "\([0-9-]*\)".*/\1/p')
[ -n "$iid" ] || fail "dti gave no Installation ID"
cid=$("$authority" --dir "$work/authority" confirm "$iid")
# A group typed wrong is reported as such (first digit of group 3 changed).
bad_cid=$(echo "$cid" | awk -F- 'BEGIN{OFS="-"} {d=substr($3,1,1); $3=((d+1)%10) substr($3,2); print}')
expect_error 0xC0AC0301 2 atp "$bad_cid"
grep -q "group 3" "$work/err" || fail "the mistyped group is not named"
ctl 2 /atp "$cid" | grep -q "deposited successfully" || fail "atp"
ctl 2 dli | grep -q "^License Status: Licensed" || fail "dli after atp"
stop_host

# Hosts 3..6 use up the key's six hosts; the seventh is refused.
for n in 3 4 5 6; do
  host "$n"
  ctl "$n" ipk "$key" > /dev/null
  ctl "$n" ato > /dev/null || fail "host $n could not activate"
  stop_host
done
host 7
ctl 7 ipk "$key" > /dev/null
expect_error 0xC0AC0201 7 ato
grep -q "6 of 6 hosts" "$work/err" || fail "the host limit message lacks the numbers"
# Host 2's Confirmation ID does not activate host 7: it is bound to host 2.
expect_error 0xC0AC0303 7 atp "$cid"
ctl 7 dli | grep -q "^License Status: Unlicensed" || fail "host 7 is licensed"
stop_host

# Host 1 reactivates: activations 2..10 pass, the 11th is refused.
host 1
for i in $(seq 2 10); do ctl 1 ato > /dev/null || fail "reactivation $i of host 1"; done
expect_error 0xC0AC0202 1 ato
grep -q "10 of 10" "$work/err" || fail "the reactivation limit message lacks the numbers"
ctl 1 dli | grep -q "^License Status: Licensed" || fail "a refused reactivation dropped the license"
stop_host

# Hardware: one changed component is tolerated, two need reactivation.
write_fingerprint_n 2 machine-2 cpu-upgraded
host 2
ctl 2 dli | grep -q "^License Status: Licensed" || fail "one changed component dropped the license"
stop_host
write_fingerprint_n 2 machine-2-rebuilt cpu-upgraded
host 2
ctl 2 dli | grep -q "^License Status: Unlicensed" || fail "a significant hardware change kept the license"
grep -q "event 1005" "$work/host2/volactd.log" || fail "the hardware change was not logged"
# Reactivating the same host (same identity) works and counts as a reactivation.
ctl 2 ato > /dev/null || fail "reactivation after the hardware change"
ctl 2 dlv | grep -q "activation 2 of this host" || fail "the reactivation was not the host's second"
stop_host

# SIGHUP reloads without losing the activation.
host 2
kill -HUP "$host_pid"
sleep 0.5
ctl 2 dli | grep -q "^License Status: Licensed" || fail "SIGHUP lost the activation"
ctl 2 reload | grep -q "Reloaded: 1 plugins, 34 license files" || fail "volactctl reload"
stop_host

echo "activation: ok"
