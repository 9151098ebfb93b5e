#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Secure defaults: volactd trusts no authority unless its configuration names
# one (key "trust"), and trusts the committed DEMO ONLY reference authority
# only when the configuration says so (demo-authority = true).
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

start_authority "$work/authority"
demo="$top_srcdir/licenses/reference-authority.pem"
cat "$demo" "$work/authority/authority.pem" > "$work/trust.pem"
# conf NAME LINES...: a host configuration with the given extra lines.
conf() {
  local name=$1; shift
  mkdir -p "$work/$name"
  {
    printf '[host]\nplugin-dir = %s\nlicense-dir = %s\nstate-dir = %s\n' \
      "$top_builddir/plugins" "$top_srcdir/licenses" "$work/$name/state"
    printf 'admin-socket = %s\nlisten = 127.0.0.1\nport = 1\n' "$work/$name/admin.sock"
    printf '%s\n' "$@"
  } > "$work/$name.conf"
}
# refused NAME TEXT: volactd --config NAME.conf exits non-zero saying TEXT, and so does --print-catalog.
refused() {
  for mode in --foreground --print-catalog; do
    if timeout 20 "$volactd" --config "$work/$1.conf" "$mode" > /dev/null 2> "$work/err"; then
      fail "volactd $mode started with $1.conf"
    fi
    grep -q "$2" "$work/err" || { cat "$work/err" >&2; fail "$1 ($mode): no \"$2\" in the error"; }
  done
  [ ! -e "$work/$1/state/identity.key" ] || fail "$1: volactd created its identity before refusing"
}

# No trust key: refused, naming the file and the key.
conf none
refused none "$work/none.conf: \[host\] trust is not set"
# The demo authority alone, or among others, without the explicit setting: refused.
conf demo-only "trust = $demo"
refused demo-only "is the DEMO ONLY reference authority"
grep -q "demo-authority = true" "$work/err" || fail "the refusal does not say how to allow the demo authority"
conf demo-mixed "trust = $work/trust.pem"
refused demo-mixed "$work/trust.pem: certificate 1 .* is the DEMO ONLY reference authority"
conf demo-false "trust = $work/trust.pem" "demo-authority = false"
refused demo-false "is the DEMO ONLY reference authority"
# A value that is not a boolean is named.
conf demo-typo "trust = $work/trust.pem" "demo-authority = yes please"
refused demo-typo "demo-typo.conf: \[host\] key \"demo-authority\""

# Said explicitly (as tests/lib.sh and tools/demo.sh do), it starts and warns.
"$volactd" --config "$work/demo-false.conf" --print-catalog > /dev/null 2>&1 && fail "print-catalog"
conf demo-ok "trust = $work/trust.pem" "demo-authority = true"
"$volactd" --config "$work/demo-ok.conf" --print-catalog > "$work/out" 2> "$work/err" \
  || { cat "$work/err" >&2; fail "--print-catalog with demo-authority = true"; }
grep -q '^  kms12 ' "$work/out" || fail "no catalog printed"
grep -q "DEMO ONLY" "$work/err" || fail "trusting the demo authority gives no warning"
start_host "$work/host" "$work/trust.pem"
"$volactctl" --socket "$work/host/admin.sock" dli > /dev/null || fail "the host does not answer"
grep -q "DEMO ONLY" "$work/host/volactd.log" || fail "the host does not warn that it trusts the demo authority"
stop_host

echo "host-trust: ok"
