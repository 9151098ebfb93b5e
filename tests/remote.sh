#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Remote administration (docs/web.md): volactctl --remote runs the same
# commands over the HTTPS listener as over the admin socket; read-only users
# may only read; every remote command and failed sign-in is an audit event;
# the client trusts only the given CA or pinned certificate, checked before
# the password is sent; TLS 1.3 only; check_volact works remotely.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

make_tls_cert "$work"
printf 'admin-pass-1\n' | "$volactctl" user add alice --role admin --password-fd 0 --users-file "$work/users" > /dev/null
printf 'viewer-pass-1\n' | "$volactctl" user add bob --password-fd 0 --users-file "$work/users" > /dev/null
web_conf "$work" "$work/users"
start_activated_host "$work/host"
url="https://127.0.0.1:$web_port"
# remote USER PASSWORD ARGS...: volactctl --remote with the password on descriptor 3.
remote() {
  local user=$1 pass=$2; shift 2
  "$volactctl" --remote "$url" --user "$user" --ca "$work/cert.pem" --password-fd 3 "$@" 3<<< "$pass"
}

# The same answer as the admin socket.
ctl --json dli | grep -v '"port"' > "$work/local.json"
remote bob viewer-pass-1 --json dli | grep -v '"port"' > "$work/remote.json" || fail "remote dli failed"
diff -u "$work/local.json" "$work/remote.json" || fail "remote dli differs from the local one"
remote bob viewer-pass-1 report vm-summary > "$work/out" || fail "remote report failed"
grep -q '^EDITION  *VIRTUAL  *PHYSICAL$' "$work/out" || fail "remote report: $(cat "$work/out")"

# A read-only user may not change anything; an administrator may.
rc=0; remote bob viewer-pass-1 sai 60 > "$work/out" 2> "$work/err" || rc=$?
[ "$rc" = 1 ] || fail "read-only sai exited $rc"
grep -q "user bob is read-only: sai needs an administrator" "$work/err" || fail "read-only sai: $(cat "$work/err")"
remote alice admin-pass-1 sai 60 > /dev/null || fail "alice could not run sai"
ctl --json dli | grep -c > /dev/null '"activation_interval": 60' || fail "the remote sai did not take effect"
# Usage errors come from the same table.
rc=0; remote alice admin-pass-1 sai > /dev/null 2> "$work/err" || rc=$?
[ "$rc" = 2 ] || grep -c > /dev/null "usage: sai MINUTES" "$work/err" || fail "sai without its argument: $(cat "$work/err")"

# Wrong password: refused, an audit event; check_volact answers remotely.
rc=0; remote alice wrong-pass > /dev/null 2> "$work/err" dli || rc=$?
[ "$rc" = 1 ] && grep -q "refused the user name or password of alice" "$work/err" \
  || fail "a wrong password: exit $rc, $(cat "$work/err")"
rc=0
VOLACTCTL="$volactctl" "$top_builddir/tools/check_volact" --remote "$url" --user bob \
  --ca "$work/cert.pem" --password-fd 3 3<<< viewer-pass-1 > "$work/out" || rc=$?
grep -q '^VOLACT \(OK\|WARNING\|CRITICAL\) - ' "$work/out" && [ "$rc" -le 2 ] \
  || fail "check_volact --remote: exit $rc, $(cat "$work/out")"

# The audit trail: user, source, command, result; the failed sign-in.
ctl events --csv > "$work/events.csv"
grep -q '1010.*remote administration: bob (read-only) from 127.0.0.1 ran dli: 0x00000000' "$work/events.csv" \
  || fail "no audit event for bob's dli: $(grep 1010 "$work/events.csv")"
grep -q '1010.*alice (admin) from 127.0.0.1 ran sai: 0x00000000' "$work/events.csv" || fail "no audit event for sai"
grep -q '1010.*bob (read-only) from 127.0.0.1 ran sai: 0xC0AC' "$work/events.csv" || fail "no audit event for the refused sai"
grep '^[^,]*,1011,' "$work/events.csv" > "$work/1011.csv" || true
grep -qF 'failed sign-in as ""alice"" from 127.0.0.1' "$work/1011.csv" \
  || fail "no event for the failed sign-in: $(grep 1011 "$work/events.csv")"
grep -q 'admin-pass\|viewer-pass\|wrong-pass' "$work/events.csv" "$work/host/volactd.log" && fail "a password was recorded"

# Trust: the system's CAs do not know the test certificate; a wrong pin is refused
# before the password goes out; the right pin works.
rc=0; "$volactctl" --remote "$url" --user bob --password-fd 3 dli 3<<< viewer-pass-1 > /dev/null 2> "$work/err" || rc=$?
[ "$rc" = 1 ] || fail "an untrusted certificate was accepted"
pin=$(openssl x509 -in "$work/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
before=$(grep -c 'failed sign-in' "$work/host/volactd.log" || true)
rc=0; "$volactctl" --remote "$url" --user bob --pin "$(echo "$pin" | tr 'A-F' 'a-f' | rev)" \
  --password-fd 3 dli 3<<< wrong-for-pin > /dev/null 2> "$work/err" || rc=$?
[ "$rc" = 1 ] || fail "a wrong pin was accepted"
[ "$(grep -c 'failed sign-in' "$work/host/volactd.log" || true)" = "$before" ] \
  || fail "the password was sent to a host whose certificate did not match the pin"
"$volactctl" --remote "$url" --user bob --pin "$pin" --password-fd 3 dli 3<<< viewer-pass-1 > /dev/null \
  || fail "the right pin was refused"
rc=0; "$volactctl" --remote "http://127.0.0.1:$web_port" --user bob --password-fd 3 dli 3<<< x 2> "$work/err" || rc=$?
grep -q "only over https" "$work/err" || fail "plain http was tried: $(cat "$work/err")"

# TLS 1.3 only.
if curl -sS --max-time 10 --cacert "$work/cert.pem" --tlsv1.2 --tls-max 1.2 -o /dev/null "$url/login" 2> /dev/null; then
  fail "the listener accepted TLS 1.2"
fi
curl -sS --max-time 10 --cacert "$work/cert.pem" --tlsv1.3 -o /dev/null "$url/login" || fail "TLS 1.3 refused"

# A request that is not a command is refused without running anything.
[ "$(curl -sS --cacert "$work/cert.pem" -u bob:viewer-pass-1 -o /dev/null -w '%{http_code}' \
  -H 'Content-Type: application/x-volact-admin' --data-binary 'garbage' "$url/api/command")" = 400 ] \
  || fail "a malformed command was not 400"
stop_host
echo "remote: ok"
