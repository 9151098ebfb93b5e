#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The administration socket's limits (volactd(8), admin-timeout and
# admin-group):
# - 2,000 requests of 64 KiB leave volactd's resident memory nearly where it
#   was (each request's bytes used to leak: 128 MiB here);
# - an idle connection, and one stopped inside a frame, is closed after
#   admin-timeout;
# - while admin-group members hold every ordinary connection slot, and while
#   8 idle connections of root's are open, root's volactctl dli still answers;
# - admin-group membership: by the primary group, by the group list of the
#   user's passwd entry, and a user without one is refused.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"
flood="$top_builddir/tests/reconnect-flood"
frames="$top_builddir/tests/admin-frames"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (other users' connections)"; exit 77; }
admin_gid=$(getent group nogroup | cut -d: -f3 || true)
nobody_uid=$(getent passwd nobody | cut -d: -f3 || true)
[ -n "$admin_gid" ] && [ -n "$nobody_uid" ] || { echo "SKIP: no nobody/nogroup"; exit 77; }

# In a sanitizer build, ASan keeps freed memory in quarantine: turn that off so
# the resident size shows only what is really kept.
asan_options="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
host_conf_extra=$(printf 'admin-timeout = 2\nadmin-group = nogroup')
mkdir -p "$work/host"
start_host "$work/host" "$top_srcdir/licenses/reference-authority.pem" ASAN_OPTIONS="$asan_options"
sock="$work/host/admin.sock"
# Other users must reach the socket through its folders.
chmod 0711 "$work" "$work/host"
ctl() { timeout 20 "$volactctl" --socket "$sock" "$@"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$host_pid/status"; }

# --- memory per request ---------------------------------------------------
"$frames" "$sock" 100 65536 > /dev/null || fail "admin-frames warm-up"
before=$(rss_kib); [ -n "$before" ] || fail "no VmRSS for volactd"
"$frames" "$sock" 2000 65536 || fail "admin-frames"
after=$(rss_kib)
echo "volactd VmRSS: $before kB before, $after kB after 2000 requests of 64 KiB"
[ $((after - before)) -lt $((32 * 1024)) ] || fail "volactd grew by $((after - before)) kB"

# --- idle and partial connections are closed ------------------------------
"$flood" --unix "$sock" --connections 4 --seconds 30 --hold || fail "idle connections stayed open"
"$flood" --unix "$sock" --connections 4 --seconds 30 --hold --partial \
  || fail "connections stopped inside a frame stayed open"
ctl dli > /dev/null || fail "dli after the timeouts"

# --- root's reserved slot -------------------------------------------------
# admin-group members (nobody:nogroup) keep 32 idle connections open, reopening
# each one the host closes: they hold every slot they are allowed.
"$flood" --unix "$sock" --connections 32 --seconds 8 --user "$nobody_uid:$admin_gid" \
  > "$work/flood-group" &
flood_pid=$!
sleep 1
for i in 1 2 3; do
  ctl dli > "$work/dli" || fail "root's dli $i while the group holds the admin socket"
  grep -q "^License Status:" "$work/dli" || { cat "$work/dli" >&2; fail "dli $i"; }
done
wait "$flood_pid" || fail "the group's flood could not connect"
grep -q "administration socket: refused" "$work/host/volactd.log" \
  || fail "the group was not limited (no refusal logged)"
# And with 8 idle connections of root's.
"$flood" --unix "$sock" --connections 8 --seconds 6 > /dev/null &
flood_pid=$!
sleep 1
ctl dli > /dev/null || fail "dli with 8 idle root connections"
wait "$flood_pid" || fail "root's flood could not connect"

# --- admin-group membership -----------------------------------------------
as() { # UID GID volactctl-args...: volactctl as another user without supplementary groups
  local uid=$1 gid=$2; shift 2
  timeout 20 setpriv --reuid="$uid" --regid="$gid" --clear-groups \
    "$volactctl" --socket "$sock" "$@"
}
as "$nobody_uid" "$admin_gid" dli > /dev/null || fail "a member by primary group was refused"
# Group 4242 is not the admin group, but nobody's passwd entry puts nobody in nogroup.
chmod 0666 "$sock"
as "$nobody_uid" 4242 dli > /dev/null || fail "a member by its passwd entry was refused"
# No passwd entry and another group: refused by volactd itself (the socket is open to all now).
if as 4242 4242 dli > "$work/out" 2> "$work/err"; then fail "a user outside the group got in"; fi
grep -q "may not administer" "$work/err" || { cat "$work/err" >&2; fail "refusal text"; }
kill -0 "$host_pid" 2> /dev/null || fail "volactd died"
stop_host
echo "admin-limits: ok"
