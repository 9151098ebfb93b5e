#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The seed's step-by-step guide, end to end on loopback: an authority and
# hosts in temporary folders. ipk a bad key (0xC004F050) and a good one,
# activate one host online (ato) and another by telephone (dti, confirm,
# atp), see "License Status: Licensed" in dli, hit the 6-host and
# 10-activation limits, and change the hardware fingerprint (through the
# test-only VOLACT_TEST_FINGERPRINT_FILE) to see the host drop to unactivated.
set -euo pipefail

work=$(mktemp -d "${TMPDIR:-/tmp}/volact-activation.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

volactd="$top_builddir/core/volactd/volactd"
volactctl="$top_builddir/tools/volactctl"
authority="$top_builddir/tools/volact-authority"
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- the authority -------------------------------------------------------
"$authority" --dir "$work/authority" init > /dev/null
key=$("$authority" --dir "$work/authority" issue-key --group 22)
[[ $key =~ ^[B-Y2-9]{5}(-[B-Y2-9]{5}){4}$ ]] || fail "issue-key printed \"$key\""
unknown_key=$("$authority" --dir "$work/authority" issue-key --group 99)
# Hosts trust the reference authority (license data) and ours (host certificates).
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"

"$authority" --dir "$work/authority" serve --listen 127.0.0.1:0 > "$work/authority.out" 2> "$work/authority.log" &
pids+=($!)
for _ in $(seq 100); do grep -q '^listening on ' "$work/authority.out" && break; sleep 0.1; done
endpoint=$(sed -n 's/^listening on //p' "$work/authority.out")
[ -n "$endpoint" ] || fail "the authority did not start"

# --- hosts ---------------------------------------------------------------
# host N: its own state folder, admin socket and fingerprint file.
write_fingerprint() { # N machine-id cpu
  printf 'machine-id=%s\ncpu=%s\nmemory=16\nmac=00:16:3e:00:00:%02x\ndisk=disk-%s\n' \
    "$2" "$3" "$1" "$1" > "$work/host$1/fingerprint"
}
host_pid=""
start_host() { # N
  local n=$1 dir="$work/host$1"
  mkdir -p "$dir"
  [ -f "$dir/fingerprint" ] || write_fingerprint "$n" "machine-$n" "cpu-$n"
  cat > "$dir/volactd.conf" <<CONF
[host]
plugin-dir = $top_builddir/plugins
license-dir = $top_srcdir/licenses
trust = $work/trust.pem
state-dir = $dir/state
admin-socket = $dir/admin.sock
listen = 127.0.0.1
authority-url = $endpoint
CONF
  VOLACT_TEST_FINGERPRINT_FILE="$dir/fingerprint" \
    "$volactd" --config "$dir/volactd.conf" --foreground >> "$dir/volactd.log" 2>&1 &
  host_pid=$!
  pids+=("$host_pid")
  for _ in $(seq 100); do [ -S "$dir/admin.sock" ] && return 0; sleep 0.1; done
  cat "$dir/volactd.log" >&2
  fail "host $n did not start"
}
stop_host() {
  kill "$host_pid"
  wait "$host_pid" || fail "volactd did not exit cleanly on SIGTERM"
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
start_host 1
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
grep -q "^Listening on Port: 1688" "$work/dli" || fail "dli: port"
ctl 1 --json dli | grep -q '"license_status": "Licensed"' || fail "dli --json"
ctl 1 /dlv | grep -q "^Activation: online" || fail "dlv does not say how the host was activated"
stop_host
# The activation survives a restart.
start_host 1
ctl 1 dli | grep -q "^License Status: Licensed" || fail "activation lost on restart"
stop_host

# Host 2: the telephone path.
start_host 2
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
  start_host "$n"
  ctl "$n" ipk "$key" > /dev/null
  ctl "$n" ato > /dev/null || fail "host $n could not activate"
  stop_host
done
start_host 7
ctl 7 ipk "$key" > /dev/null
expect_error 0xC0AC0201 7 ato
grep -q "6 of 6 hosts" "$work/err" || fail "the host limit message lacks the numbers"
# Host 2's Confirmation ID does not activate host 7: it is bound to host 2.
expect_error 0xC0AC0303 7 atp "$cid"
ctl 7 dli | grep -q "^License Status: Unlicensed" || fail "host 7 is licensed"
stop_host

# Host 1 reactivates: activations 2..10 pass, the 11th is refused.
start_host 1
for i in $(seq 2 10); do ctl 1 ato > /dev/null || fail "reactivation $i of host 1"; done
expect_error 0xC0AC0202 1 ato
grep -q "10 of 10" "$work/err" || fail "the reactivation limit message lacks the numbers"
ctl 1 dli | grep -q "^License Status: Licensed" || fail "a refused reactivation dropped the license"
stop_host

# Hardware: one changed component is tolerated, two need reactivation.
write_fingerprint 2 machine-2 cpu-upgraded
start_host 2
ctl 2 dli | grep -q "^License Status: Licensed" || fail "one changed component dropped the license"
stop_host
write_fingerprint 2 machine-2-rebuilt cpu-upgraded
start_host 2
ctl 2 dli | grep -q "^License Status: Unlicensed" || fail "a significant hardware change kept the license"
grep -q "event 1005" "$work/host2/volactd.log" || fail "the hardware change was not logged"
# Reactivating the same host (same identity) works and counts as a reactivation.
ctl 2 ato > /dev/null || fail "reactivation after the hardware change"
ctl 2 dlv | grep -q "activation 2 of this host" || fail "the reactivation was not the host's second"
stop_host

# SIGHUP reloads without losing the activation.
start_host 2
kill -HUP "$host_pid"
sleep 0.5
ctl 2 dli | grep -q "^License Status: Licensed" || fail "SIGHUP lost the activation"
ctl 2 reload | grep -q "Reloaded: 1 plugins, 34 license files" || fail "volactctl reload"
stop_host

echo "activation: ok"
