#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The newcomer's live demo, run by 'make demo' (see README.md):
#   tools/demo.sh BUILDDIR SRCDIR
# Starts an authority and a host on loopback in a temporary folder, activates
# the host, lets a small simulated fleet activate against it (servers at
# count 5, clients at count 25), prints 'volactctl dli' and keeps the host
# running until Ctrl-C.
set -euo pipefail
builddir=${1:?usage: demo.sh BUILDDIR SRCDIR}
srcdir=${2:?usage: demo.sh BUILDDIR SRCDIR}
work=$(mktemp -d "${TMPDIR:-/tmp}/volact-demo.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "Stopping the demo."; exit 0' INT TERM

volactd="$builddir/core/volactd/volactd"
volactctl="$builddir/tools/volactctl"
authority="$builddir/tools/volact-authority"
client="$builddir/client/volact-client"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "1. The vendor's side: an activation authority with a host key"
run "$authority" --dir "$work/authority" init
key=$("$authority" --dir "$work/authority" issue-key --group 24 2>/dev/null)
echo "host key of group 24 (all editions): $key"
"$authority" --dir "$work/authority" serve --listen 127.0.0.1:0 > "$work/authority.out" 2> "$work/authority.log" &
pids+=($!)
for _ in $(seq 100); do grep -q '^listening on ' "$work/authority.out" && break; sleep 0.1; done
authority_url=$(sed -n 's/^listening on //p' "$work/authority.out")
echo "online activation served on $authority_url"

say "2. The host: volactd on loopback (config in $work/volactd.conf)"
# The host trusts the reference authority (DEMO ONLY license data) and ours (its certificate).
cat "$srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
for _ in $(seq 20); do
  port=$((10000 + RANDOM % 22000)) # below the ephemeral range
  cat > "$work/volactd.conf" <<CONF
[host]
plugin-dir = $builddir/plugins
license-dir = $srcdir/licenses
trust = $work/trust.pem
# The reference authority is DEMO ONLY: volactd trusts it only when told so.
demo-authority = true
state-dir = $work/state
admin-socket = $work/admin.sock
listen = 127.0.0.1
port = $port
authority-url = $authority_url
CONF
  "$volactd" --config "$work/volactd.conf" --foreground > "$work/volactd.log" 2>&1 &
  host_pid=$!
  for _ in $(seq 100); do [ -S "$work/admin.sock" ] && break; kill -0 $host_pid 2>/dev/null || break; sleep 0.1; done
  [ -S "$work/admin.sock" ] && break
done
[ -S "$work/admin.sock" ] || { cat "$work/volactd.log"; echo "volactd did not start" >&2; exit 1; }
pids+=($host_pid)
ctl() { "$volactctl" --socket "$work/admin.sock" "$@"; }

say "3. The KMS operations guide's steps: install the key, activate online, confirm"
run ctl /ipk "$key"
run ctl /ato
ctl /dli

say "4. A simulated fleet: 3 client machines, 2 servers, then 20 more clients"
n=0
machine() { # edition
  n=$((n + 1))
  local cmid out result count licensed
  cmid=$(printf '5eed0000-0000-4000-8000-%012d' "$n")
  out=$("$client" --host "127.0.0.1:$port" --trust "$work/authority/authority.pem" --json \
    --state "$work/client-$n.state" activate --edition "$1" --cmid "$cmid" \
    --name "$2$n.demo.example" || true)
  result=$(echo "$out" | sed -n 's/.*"result": "\([^"]*\)".*/\1/p')
  count=$(echo "$out" | sed -n 's/.*"count": \([0-9]*\).*/\1/p')
  licensed=$(echo "$out" | sed -n 's/.*"licensed": \([a-z]*\).*/\1/p')
  if [ "$licensed" = true ]; then verdict="Licensed"; else verdict="not yet ($result: count too low)"; fi
  printf '  machine %2d  %-22s count %2s  %s\n' "$n" "$1" "$count" "$verdict"
}
for _ in 1 2 3; do machine win7-enterprise ws; done
machine server2008r2-standard srv
machine server2008r2-datacenter srv
echo "  -> count 5: the servers activate (minimum 5), the clients wait for 25"
for _ in $(seq 20); do machine win7-professional ws; done
echo "  -> count 25: client editions activate too"

say "5. The host's view"
run ctl /dli
echo
ctl events | tail -5

say "The host keeps running on 127.0.0.1:$port. Try, in another terminal:"
echo "  $volactctl --socket $work/admin.sock dlv"
echo "  $client --host 127.0.0.1:$port --trust $work/authority/authority.pem --state /tmp/me.state activate --edition vista-business"
echo "Press Ctrl-C to stop."
wait "$host_pid"
