#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Intervals per application (count pool), end to end: with the reference data
# plus a second application with its own policy (tests/data/second-app,
# signed here with the DEMO ONLY reference authority key), each client
# receives its own application's activation and renewal intervals; sai/sri
# override both applications; volactctl dli shows one interval only where it
# is true for every pool, and each pool's.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

# The license data: reference copies plus the second application, signed now.
host_license_dir=$work/licenses
mkdir -p "$host_license_dir/kms11" "$host_license_dir/kms12" "$work/signer"
cp "$top_srcdir"/licenses/kms11/*.xrm "$host_license_dir/kms11/"
cp "$top_srcdir"/licenses/kms12/*.xrm "$host_license_dir/kms12/"
cp "$top_srcdir"/tests/data/second-app/*.xrm "$host_license_dir/kms12/"
cp "$top_srcdir/licenses/reference-authority.key" "$work/signer/authority.key"
cp "$top_srcdir/licenses/reference-authority.pem" "$work/signer/authority.pem"
chmod 600 "$work/signer/authority.key"
"$authority" --dir "$work/signer" sign "$host_license_dir"/kms12/dt9*.xrm > /dev/null

start_authority "$work/authority"
key=$("$authority" --dir "$work/authority" issue-key --group 29)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
ctl() { "$volactctl" --socket "$work/host/admin.sock" "$@"; }
mkdir -p "$work/host" "$work/clients"
start_host "$work/host" "$work/trust.pem"
ctl ipk "$key" > /dev/null || fail "ipk of group 29"
ctl ato > /dev/null || fail "ato"

field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^,\"}]*\)\"\{0,1\}.*/\1/p" | head -1; }
n=0
# intervals EDITION: a new machine asks; prints "ACTIVATION RENEWAL" as received.
intervals() {
  n=$((n + 1))
  local cmid out
  cmid=$(printf '00000000-0000-4000-8000-%012d' "$n")
  out=$("$client" --host "127.0.0.1:$port" --trust "$work/authority/authority.pem" --json \
    --state "$work/clients/$cmid.state" activate --edition "$1" --cmid "$cmid" || true)
  echo "$(echo "$out" | field activation_interval) $(echo "$out" | field renewal_interval)"
}

# Each client gets its own application's policy (the first application's was sent to all).
[ "$(intervals devtools-workstation)" = "45 1440" ] || fail "devtools client: $(intervals devtools-workstation)"
[ "$(intervals win7-enterprise)" = "120 10080" ] || fail "windows client: $(intervals win7-enterprise)"
dli=$(ctl --json dli)
echo "$dli" | grep -q '"activation_interval": 0,' \
  || fail "dli must show activation_interval 0 (pools differ), not one pool's: $dli"
echo "$dli" | tr -d ' \n' | grep -q '"activation_intervals":{"devtools":45,"windows":120}' \
  || fail "dli per-pool activation intervals: $dli"
echo "$dli" | tr -d ' \n' | grep -q '"renewal_intervals":{"devtools":1440,"windows":10080}' \
  || fail "dli per-pool renewal intervals: $dli"
ctl dlv | grep -q "^Activation interval (devtools): 45 minutes$" || fail "dlv per-pool interval"

# sai/sri override every application.
ctl sai 30 > /dev/null
ctl sri 600 > /dev/null
[ "$(intervals devtools-workstation)" = "30 600" ] || fail "sai/sri do not reach a devtools client"
[ "$(intervals win7-enterprise)" = "30 600" ] || fail "sai/sri do not reach a windows client"
ctl --json dli | grep -q '"activation_interval": 30' || fail "dli does not show sai"
ctl --json dli | grep -q '"renewal_interval": 600' || fail "dli does not show sri"
stop_host

echo "intervals: ok"
