#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# 64 idle connections, each reopened as soon as the server closes it, held for
# 30 s against volact-authority serve and against volactd's admin socket at
# the same time, with 16 short-lived ones besides (the authority used to die
# of SIGSEGV under this, and the admin socket to crash or stop accepting). Afterwards both must
# still be running and answer a real request: volactctl ato goes through the
# admin socket to the authority. The connections refused for being over the
# limit are logged, but at most once per interval.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"
flood="$top_builddir/tests/reconnect-flood"
seconds=${FLOOD_SECONDS:-30}

start_authority "$work/authority"
authority_pid=${pids[-1]}
key=$("$authority" --dir "$work/authority" issue-key --group 24)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
# A short admin timeout: idle admin connections are closed, and reopened, every second.
host_conf_extra="admin-timeout = 1"
mkdir -p "$work/host"
start_host "$work/host" "$work/trust.pem"
ctl() { "$volactctl" --socket "$work/host/admin.sock" "$@"; }
ctl ipk "$key" > /dev/null || fail "ipk"

# flood NAME TARGET...: 64 idle connections reopened when the server closes them, and 16 more
# that also close themselves within half a second, so that connections end all the time while
# the server is at its limit.
flood() {
  local name=$1; shift
  "$flood" "$@" --connections 64 --seconds "$seconds" > "$work/flood-$name" &
  flood_pids+=($!)
  "$flood" "$@" --connections 16 --max-hold-ms 500 --seconds "$seconds" > "$work/flood-$name-short" &
  flood_pids+=($!)
}
flood_pids=()
flood authority --tcp "$authority_url"
flood admin --unix "$work/host/admin.sock"
for p in "${flood_pids[@]}"; do wait "$p" || fail "a flood could not connect at all"; done
for f in authority authority-short admin admin-short; do echo "$f: $(cat "$work/flood-$f")"; done

kill -0 "$authority_pid" 2> /dev/null || { cat "$work/authority.log" >&2; fail "the authority died"; }
kill -0 "$host_pid" 2> /dev/null || { cat "$work/host/volactd.log" >&2; fail "volactd died"; }
# Both had more connections than they take: the extra ones were refused at once and logged,
# at most once per 10 s (plus one line for the interval in progress).
check_refusals() { # LOG NAME
  local n
  n=$(grep -c "$2: refused" "$1" || true)
  [ "$n" -ge 1 ] || fail "$2: the connections refused were not logged"
  [ "$n" -le $((seconds / 10 + 2)) ] || fail "$2: $n refusal lines in $seconds s"
}
check_refusals "$work/host/volactd.log" "administration socket"
check_refusals "$work/authority.log" "online activation"

# Both still answer a real request.
timeout 60 "$volactctl" --socket "$work/host/admin.sock" ato | grep -q "Product activated successfully" \
  || { tail -20 "$work/authority.log" >&2; fail "ato after the flood"; }
ctl dli | grep -q "^License Status: Licensed" || fail "dli after the flood"
kill -0 "$authority_pid" 2> /dev/null || fail "the authority died after the flood"
echo "reconnect-flood: both servers survived $seconds s of reconnecting idle connections"
