#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# volactctl's state-changing commands: a change the host cannot save is not
# made (memory never shows what disk does not hold), sprt names the port the
# host really listens on, and dli does not claim DNS publishing that does not
# happen (no dns-zones configured).
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

start_authority "$work/authority"
key1=$("$authority" --dir "$work/authority" issue-key --group 22)
key2=$("$authority" --dir "$work/authority" issue-key --group 24)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
dir="$work/host"
state="$dir/state/host.state"
ctl() { "$volactctl" --socket "$dir/admin.sock" "$@"; }
# other_port: a port other than the one the host listens on.
other_port() {
  local p
  while p=$(random_port); [ "$p" = "$port" ]; do :; done
  echo "$p"
}

start_host "$dir" "$work/trust.pem"

# --- DNS publishing without dns-zones: the setting, and nothing claimed -----
# (publishing itself: tests/dns-publish.sh)
ctl sdns | grep -q "no dns-zones are configured, so nothing is published" \
  || fail "sdns claims publishing"
ctl dli > "$work/dli"
grep -qx "DNS Publishing: Enabled" "$work/dli" || fail "dli lost the setting"
grep -qx "DNS record: none published (no dns-zones are configured)" "$work/dli" \
  || fail "dli claims DNS publishing"
ctl dns unpublish > /dev/null 2>&1 && fail "dns unpublish without dns-zones succeeded"
ctl --json dli > "$work/json"
grep -q '"dns_publishing": true' "$work/json" || fail "JSON lost the dns_publishing setting"
grep -q '"dns_published": false' "$work/json" || fail "JSON does not say nothing is published"
ctl cdns > /dev/null
ctl dli | grep -qx "DNS Publishing: Disabled" || fail "cdns"

# --- sprt names the port actually bound -----------------------------------
first=$port
next=$(other_port)
ctl sprt "$next" | grep -q "until then clients keep using port $first\." || fail "sprt before a restart"
stop_host
start_host "$dir" "$work/trust.pem" # a new configured port; the saved sprt port wins
[ "$port" = "$next" ] || fail "the host listens on $port, not the sprt port $next"
configured=$(sed -n 's/^port = //p' "$dir/volactd.conf")
later=$(other_port)
ctl sprt "$later" > "$work/out"
grep -q "until then clients keep using port $port\." "$work/out" \
  || { cat "$work/out" >&2; fail "sprt names port $configured from the configuration, not the bound port $port"; }
ctl dli | grep -qx "Listening on Port: $port (port $later after a restart)" || fail "dli after sprt"

# --- a save that fails changes nothing -------------------------------------
ctl ipk "$key1" > /dev/null
ctl sai 200 > /dev/null
ctl sri 20000 > /dev/null
ctl dlv > "$work/before"
# host.state is replaced by rename: a folder in its place makes every save fail.
mv "$state" "$work/host.state.saved"
mkdir "$state"
expect_save_failure() { # args...
  if ctl "$@" > "$work/out" 2> "$work/err"; then fail "volactctl $* succeeded without saving"; fi
  grep -q "^Error: 0x.*saving host state.*host.state" "$work/err" \
    || { cat "$work/err" >&2; fail "volactctl $*: the error does not say the state could not be saved"; }
}
expect_save_failure ipk "$key2"
expect_save_failure upk
expect_save_failure sai 300
expect_save_failure sri 30000
expect_save_failure sprt "$(other_port)"
expect_save_failure sdns
expect_save_failure cpri
expect_save_failure ato
ctl dlv > "$work/after"
diff -u "$work/before" "$work/after" >&2 || fail "a failed save changed what dlv shows"
grep -q "^Partial Product Key: ${key1: -5}$" "$work/after" || fail "the key changed"
grep -q "^Activation interval: 200 minutes$" "$work/after" || fail "the activation interval changed"
grep -q "^Renewal interval: 20000 minutes$" "$work/after" || fail "the renewal interval changed"
grep -q "^License Status: Unlicensed$" "$work/after" || fail "the host activated without saving it"
# cpri failed: the process keeps its priority.
[ "$(ps -o ni= -p "$host_pid" | tr -d ' ')" = 0 ] || fail "a failed cpri lowered the priority"

# Disk and memory agree: after a restart the host shows the same.
rmdir "$state"
mv "$work/host.state.saved" "$state"
stop_host
start_host "$dir" "$work/trust.pem"
ctl dlv > "$work/restarted"
grep -q "^Partial Product Key: ${key1: -5}$" "$work/restarted" || fail "the key after a restart"
grep -q "^Activation interval: 200 minutes$" "$work/restarted" || fail "the interval after a restart"
grep -qx "DNS Publishing: Disabled" "$work/restarted" || fail "DNS publishing after a restart"
stop_host

echo "host-settings: ok"
