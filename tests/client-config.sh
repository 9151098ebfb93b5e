#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# volact-client --config as the packaged timer runs it: every listed edition is
# activated with one machine ID (the host counts the machine once), each keeps
# its own schedule (a second run right after is not due), a file listing no
# edition activates nothing and exits 0, and a missing trust key is named.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

start_activated_host "$work/host"
conf=$work/client.conf
cat > "$conf" <<CONF
[client]
editions = server2008r2-standard; server2008-web
trust = $work/authority/authority.pem
host = 127.0.0.1:$port
state-dir = $work/cstate
CONF

# One machine below the servers' minimum of 5: both editions asked, count 1.
rc=0
out=$("$client" --config "$conf" activate --if-due 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "not licensed must exit 1, got $rc: $out"
[ "$(echo "$out" | grep -c 'C004F038')" = 2 ] || fail "both editions asked: $out"
echo "$out" | grep -q '^Edition server2008-web:' || fail "editions named: $out"
cmids=$(sed -n 's/^cmid=//p' "$work/cstate/server2008r2-standard.state" "$work/cstate/server2008-web.state" | sort -u)
[ "$(echo "$cmids" | wc -l)" = 1 ] || fail "one machine ID for both editions: $cmids"
ctl --json dli | tr -d ' \n' | grep -q '"current_count":{"[a-z0-9-]*":1}' || fail "the machine counted once"

# Right after: nothing due for either edition; the host is not asked.
rc=0
out=$("$client" --config "$conf" activate --if-due 2>&1) || rc=$?
[ "$(echo "$out" | grep -c '^Not due')" = 2 ] || fail "second run due: $out"

# status reads each edition's state file.
out=$("$client" --config "$conf" status)
[ "$(echo "$out" | grep -c '^State file: .*/cstate/')" = 2 ] || fail "status: $out"

# Command-line options win over the file: --edition picks one, its state file in state-dir.
"$client" --config "$conf" --json activate --edition server2008-web > "$work/one.json" || true
grep -q '"edition": "server2008-web"' "$work/one.json" || fail "--edition with --config"

# As shipped: no edition, nothing trusted; the timer's run does nothing and succeeds.
printf '[client]\neditions =\nstate-dir = %s\n' "$work/empty" > "$work/empty.conf"
out=$("$client" --config "$work/empty.conf" activate --if-due) || fail "empty config failed: $out"
echo "$out" | grep -q "empty.conf: no edition is configured (\[client\] editions)" \
  || fail "empty config message: $out"
[ ! -e "$work/empty" ] || fail "an empty config wrote state"

# Editions but no trust: the file and key are named, exit 1.
printf '[client]\neditions = win7-enterprise\nhost = 127.0.0.1:%s\nstate-dir = %s\n' "$port" \
  "$work/nt" > "$work/notrust.conf"
rc=0
out=$("$client" --config "$work/notrust.conf" activate --if-due 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "no trust must exit 1, got $rc"
echo "$out" | grep -q "notrust.conf: \[client\] trust is not set" || fail "no trust: $out"

# A bad key is an error naming the file and key, before any host is asked.
printf '[client]\neditions = Bad Edition\n' > "$work/bad.conf"
rc=0
out=$("$client" --config "$work/bad.conf" activate 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "bad config must exit 1, got $rc"
echo "$out" | grep -q 'bad.conf: \[client\] editions: "Bad Edition" is not an edition id' \
  || fail "bad config: $out"
# --state with several editions is ambiguous.
rc=0
"$client" --config "$conf" --state "$work/x.state" activate 2> /dev/null || rc=$?
[ "$rc" = 2 ] || fail "--state with --config and no --edition must be a usage error"
stop_host
echo "client-config: PASS"
