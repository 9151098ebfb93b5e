#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The dashboard in a real headless Chromium (docs/web.md, docs/monitoring.md):
# after real client activations, a browser signs in over HTTPS, and every
# report table and chart on the page equals `volactctl --json report`; the
# alerts equal `volactctl health`. The page and a screenshot are kept in
# tests/output/dashboard/.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

out="$top_builddir/tests/output/dashboard"
rm -rf "$out"
mkdir -p "$out"
make_tls_cert "$work"
spki=$(openssl x509 -in "$work/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der \
  | openssl dgst -sha256 -binary | base64)
printf 'correct horse\n' | "$volactctl" user add viewer --password-fd 0 --users-file "$work/users" > /dev/null
web_conf "$work" "$work/users"
start_activated_host "$work/host"

# Servers need 5 machines: four refusals, then activations, two of them virtual.
for m in a1 a2 a3 a4 a5 a1 a6; do activate_server $m > /dev/null || true; done
for m in b1 b2; do activate_server $m --vm > /dev/null || true; done
[ "$(ctl --json report vm-summary | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])')" \
  = "[['server2008r2-standard', 2, 3]]" ] || fail "the activations did not happen as planned"

# Debian's python3, where python3-selenium is installed (not a python3 earlier on PATH).
/usr/bin/python3 "$top_srcdir/tests/dashboard-browser.py" "https://127.0.0.1:$web_port" viewer \
  'correct horse' "$spki" "$out" "$volactctl" "$work/host/admin.sock" \
  || fail "the dashboard in Chromium (page saved in $out)"
[ -s "$out/dashboard.png" ] || fail "no screenshot"
grep -q 'failed sign-in as "viewer" from 127.0.0.1' "$work/host/volactd.log" \
  || fail "the browser's wrong password was not logged"
stop_host
echo "dashboard: ok"
