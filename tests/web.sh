#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The HTTPS listener against a real volactd and curl (docs/web.md): only TLS
# (plain HTTP gets no page), nothing without credentials (401), sign-in by form
# with a per-form token and a Secure HttpOnly SameSite session cookie, sign-out,
# HTTP Basic for /metrics, failed sign-ins logged and slowed down, the users
# file managed by volactctl user and read again when it changes, and start-up
# errors that name the key at fault.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

dir="$work/host"
mkdir -p "$dir"
make_tls_cert "$work"
users="$work/users"
user() { "$volactctl" user "$@" --users-file "$users"; }

# volactctl user: passwords from a descriptor or the terminal, never argv.
printf 'correct horse\n' | user add alice --role admin --password-fd 0 > "$work/out"
grep -q "Added user alice (admin)" "$work/out" || fail "user add: $(cat "$work/out")"
[ "$(stat -c %a "$users")" = 600 ] || fail "the users file is not 0600"
printf 'battery staple\n' | user add bob --password-fd 0 > /dev/null
! printf 'whatever1\n' | user add bob --password-fd 0 2> "$work/err" || fail "user add twice succeeded"
grep -q "exists already" "$work/err" || fail "user add twice: $(cat "$work/err")"
! printf 'short\n' | user add carol --password-fd 0 2> "$work/err" || fail "a 5-character password was taken"
! user add carol < /dev/null 2> "$work/err" || fail "user add without a terminal or --password-fd succeeded"
grep -q "password-fd" "$work/err" || fail "no hint at --password-fd: $(cat "$work/err")"
! printf 'whatever1\n' | user add 'bad:name' --password-fd 0 2> /dev/null || fail "a name with ':' was taken"
user list > "$work/out"
grep -q '^alice  *admin$' "$work/out" && grep -q '^bob  *read-only$' "$work/out" \
  || fail "user list: $(cat "$work/out")"
grep -q 'correct horse\|battery staple' "$users" && fail "a password is in the users file in clear"

# Start-up errors name the key at fault.
host_conf_extra="web-port = @WEBPORT@
web-key = $work/key.pem
web-users = $users"
! (start_host "$dir" "$top_srcdir/licenses/reference-authority.pem") 2> /dev/null \
  || fail "volactd started its HTTPS listener without a certificate"
grep -q "web-certificate must be set" "$dir/volactd.log" || fail "no error about web-certificate"
: > "$dir/volactd.log"
chmod 644 "$work/key.pem"
host_conf_extra="web-port = @WEBPORT@
web-certificate = $work/cert.pem
web-key = $work/key.pem
web-users = $users"
! (start_host "$dir" "$top_srcdir/licenses/reference-authority.pem") 2> /dev/null \
  || fail "volactd read a TLS key that others may read"
grep -q "web-key: .*key.pem: mode 0644 lets others read the TLS private key" "$dir/volactd.log" \
  || fail "no error about the key's mode: $(cat "$dir/volactd.log")"
chmod 600 "$work/key.pem"
: > "$dir/volactd.log"
cp "$users" "$work/users.good"
echo "mallory:root:plain" >> "$users"
! (start_host "$dir" "$top_srcdir/licenses/reference-authority.pem") 2> /dev/null \
  || fail "volactd started with a broken users file"
grep -q "web-users: $users:4: user mallory: role \"root\"" "$dir/volactd.log" \
  || fail "the users file error does not name file, line and user: $(cat "$dir/volactd.log")"
cp "$work/users.good" "$users"
: > "$dir/volactd.log"

start_host "$dir" "$top_srcdir/licenses/reference-authority.pem"
base="https://127.0.0.1:$web_port"
# The client verifies the host's certificate: this is real TLS with the configured chain.
c() { curl -sS --max-time 20 --cacert "$work/cert.pem" "$@"; }
status() { c -o /dev/null -w '%{http_code}' "$@"; }

# Without credentials: 401 everywhere but the sign-in page; plain HTTP gets no page.
[ "$(status "$base/")" = 401 ] || fail "/ without a session is not 401"
[ "$(status "$base/metrics")" = 401 ] || fail "/metrics without credentials is not 401"
c -D "$work/headers" -o /dev/null "$base/metrics"
grep -qi '^WWW-Authenticate: Basic realm="volact"' "$work/headers" || fail "/metrics does not ask for HTTP Basic"
[ "$(status "$base/login")" = 200 ] || fail "the sign-in page is not 200"
[ "$(status "$base/nothing")" = 404 ] || fail "an unknown path is not 404"
[ "$(status -X DELETE "$base/")" = 405 ] || fail "DELETE / is not 405"
if out=$(curl -sS --max-time 10 "http://127.0.0.1:$web_port/" 2>&1); then
  fail "plain HTTP got an answer: $out"
fi
c -D "$work/headers" -o /dev/null "$base/login"
for h in "Strict-Transport-Security: max-age" "X-Content-Type-Options: nosniff" \
  "Content-Security-Policy: default-src 'none'" "Cache-Control: no-store"; do
  grep -qi "^$h" "$work/headers" || fail "the sign-in page lacks $h"
done

# HTTP Basic for /metrics: a good password gets the metrics, a wrong one 401.
[ "$(status -u 'bob:battery staple' "$base/metrics")" = 200 ] || fail "/metrics with bob's password is not 200"
c -u 'bob:battery staple' -D "$work/headers" -o /dev/null "$base/metrics"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$work/headers" || fail "/metrics is not the Prometheus text format"
[ "$(status -u 'bob:wrong' "$base/metrics")" = 401 ] || fail "/metrics with a wrong password is not 401"

# The sign-in form: its token must come back with it.
jar="$work/jar"
form() { # form USER PASSWORD [CSRF]: posts the sign-in form; prints the status
  c -c "$jar" -b "$jar" -o "$work/page" -D "$work/headers" -w '%{http_code}' \
    --data-urlencode "user=$1" --data-urlencode "password=$2" --data-urlencode "csrf=$3" "$base/login"
}
token() { c -c "$jar" -b "$jar" -o "$work/login.html" "$base/login"; sed -n 's/.*name="\{0,1\}csrf"\{0,1\} value="\{0,1\}\([0-9a-f]\{64\}\).*/\1/p' "$work/login.html" | head -n 1; }
rm -f "$jar"
[ "$(form alice 'correct horse' 0000)" = 403 ] || fail "a sign-in without the form's token was not refused"
t=$(token)
[ -n "$t" ] || fail "no form token on the sign-in page"
[ "$(form alice 'correct horse' "$t")" = 303 ] || fail "alice could not sign in"
cookie=$(grep -i '^Set-Cookie: volact_session=' "$work/headers" || true)
for attr in Secure HttpOnly SameSite=Strict; do
  [[ "$cookie" == *"; $attr"* ]] || fail "the session cookie lacks $attr: $cookie"
done
[ "$(status -b "$jar" "$base/")" = 200 ] || fail "the dashboard is not 200 once signed in"
c -b "$jar" -o "$work/dashboard.html" "$base/"
grep -q alice "$work/dashboard.html" || fail "the dashboard does not show who is signed in"
[ "$(status -b "$jar" "$base/metrics")" = 200 ] || fail "/metrics is not 200 for a signed-in session"
# Sign-out needs the session's form token.
[ "$(status -b "$jar" -d csrf=0 "$base/logout")" = 403 ] || fail "sign-out without the token was not refused"
csrf=$(sed -n 's/.*name="\{0,1\}csrf"\{0,1\} value="\{0,1\}\([0-9a-f]\{64\}\).*/\1/p' "$work/dashboard.html" | head -n 1)
[ "$(status -b "$jar" -c "$jar" -d "csrf=$csrf" "$base/logout")" = 303 ] || fail "sign-out failed"
[ "$(status -b "$jar" "$base/")" = 401 ] || fail "the session still works after sign-out"

# Failed sign-ins are logged (never the password) and slowed down after three.
for i in 1 2 3; do
  t=$(token)
  [ "$(form alice "guess-$i" "$t")" = 401 ] || fail "a wrong password was not 401"
done
grep -q 'failed sign-in as "alice" from 127.0.0.1 (3 failed from that address; the next sign-in waits 1 s)' \
  "$dir/volactd.log" || fail "failed sign-ins are not logged and slowed: $(grep web: "$dir/volactd.log")"
grep -q 'guess-' "$dir/volactd.log" && fail "a password was logged"
# The users file is read again when it changes: bob removed, bob refused.
user del bob > /dev/null
[ "$(status -u 'bob:battery staple' "$base/metrics")" = 401 ] || fail "a removed user still gets in"
printf 'new password 2\n' | user passwd alice --password-fd 0 > /dev/null
[ "$(status -u 'alice:new password 2' "$base/metrics")" = 200 ] || fail "the new password does not work"
stop_host
grep -q "dashboard and /metrics on https://127.0.0.1:$web_port/" "$dir/volactd.log" \
  || fail "volactd does not say where the listener is"
echo "web: ok"
