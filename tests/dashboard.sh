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
mkdir -p "$out" "$work/host" "$work/clients"
start_authority "$work/authority"
key=$("$authority" --dir "$work/authority" issue-key --group 24)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2> /dev/null
chmod 600 "$work/key.pem"
spki=$(openssl x509 -in "$work/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der \
  | openssl dgst -sha256 -binary | base64)
printf 'correct horse\n' | "$volactctl" user add viewer --password-fd 0 --users-file "$work/users" > /dev/null
host_conf_extra="web-port = @WEBPORT@
web-certificate = $work/cert.pem
web-key = $work/key.pem
web-users = $work/users"
start_host "$work/host" "$work/trust.pem"
ctl() { "$volactctl" --socket "$work/host/admin.sock" "$@"; }
ctl ipk "$key" > /dev/null || fail "ipk"
ctl ato > /dev/null || fail "ato"

# Servers need 5 machines: four refusals, then activations, two of them virtual.
activate() {
  local cmid="00000000-0000-4000-8000-0000000000$1"; shift
  "$client" --host "127.0.0.1:$port" --trust "$work/authority/authority.pem" --json \
    --state "$work/clients/$cmid.state" activate --edition server2008r2-standard --cmid "$cmid" \
    --name "srv-$cmid.example.org" "$@" > /dev/null || true
}
for m in a1 a2 a3 a4 a5 a1 a6; do activate $m; done
for m in b1 b2; do activate $m --vm; done
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
