#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# DNS SRV publishing against a real BIND9 named (docs/dns.md): nothing is
# published before the host is activated; then the record appears with the
# right port, priority and weight; upk takes it out again; sprt + restart moves it;
# cdns and `dns unpublish` remove it, sdns brings it back at once; stopping
# volactd leaves it; another host's record in the same zone is never touched;
# a wrong TSIG key gives event 12293 with NOTAUTH and a truthful dli; a key
# file others can read is refused at start.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/named.sh"

zone=example.test
srv="_volact._tcp.$zone"
# Another host's record, which ours must never delete.
start_named "$zone" "_volact._tcp 300 IN SRV 5 1 1688 other.$zone."
other="5 1 1688 other.$zone."

start_authority "$work/authority"
key=$("$authority" --dir "$work/authority" issue-key --group 24)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
dir="$work/host"
ctl() { "$volactctl" --socket "$dir/admin.sock" "$@"; }
host_conf_extra="dns-zones = $zone
dns-server = 127.0.0.1:$named_port
dns-tsig-key = $tsig_file
dns-priority = 3
dns-weight = 7
dns-target = kms1.$zone"

# wait_srv WHAT EXPECTED: polls (at most 5 s) until our records are EXPECTED
# ("" for none); other hosts' records are checked separately.
ours() { srv_records "$srv" | grep -v "other\.$zone\.$" || true; }
wait_srv() {
  local got
  for _ in $(seq 50); do
    got=$(ours)
    [ "$got" = "$2" ] && return 0
    sleep 0.1
  done
  fail "$1: expected our SRV records '$2', got '$got'"
}
other_kept() { srv_records "$srv" | grep -qx "$other" || fail "$1: another host's SRV record was deleted"; }

# --- not before activation; then published with port, priority and weight --
start_host "$dir" "$work/trust.pem"
ctl dli > "$work/dli"
grep -q "^DNS record: $srv not published until the host is activated" "$work/dli" \
  || { cat "$work/dli"; fail "dli before activation"; }
ctl sdns | grep -q "published once the host is activated" || fail "sdns reply before activation"
sleep 0.5
[ -z "$(ours)" ] || fail "an unactivated host was published: $(ours)"
ctl ipk "$key" > /dev/null
ctl ato > /dev/null
wait_srv "after activation" "3 7 $port kms1.$zone."
other_kept "after start"
ctl dli > "$work/dli"
grep -qx "DNS Publishing: Enabled" "$work/dli" || fail "dli: publishing on"
grep -q "^DNS record: published $srv to 127.0.0.1:$named_port at " "$work/dli" \
  || { cat "$work/dli"; fail "dli does not say where the record was published"; }
ctl --json dli > "$work/json"
grep -q '"dns_publishing": true' "$work/json" || fail "JSON dns_publishing"
grep -q '"dns_published": true' "$work/json" || fail "JSON dns_published"
grep -q '"last_result": "published"' "$work/json" || fail "JSON dns_status last_result"

# --- sprt + restart: the old port goes, the new one comes --------------------
first=$port
while next=$(random_port); [ "$next" = "$first" ]; do :; done
ctl sprt "$next" > /dev/null
stop_host
# Stopping leaves the record: a restart must not make DNS flap.
[ "$(ours)" = "3 7 $first kms1.$zone." ] || fail "stopping volactd removed the record"
start_host "$dir" "$work/trust.pem"
[ "$port" = "$next" ] || fail "sprt was not applied at restart"
wait_srv "after sprt + restart" "3 7 $next kms1.$zone."
other_kept "after restart"

# --- cdns removes, sdns publishes at once, dns unpublish removes ------------
ctl cdns | grep -q "removing the SRV record now" || fail "cdns reply"
wait_srv "after cdns" ""
other_kept "after cdns"
for _ in $(seq 50); do ctl dli > "$work/dli"; grep -q "^DNS record: removed" "$work/dli" && break; sleep 0.1; done
grep -qx "DNS Publishing: Disabled" "$work/dli" || fail "dli after cdns: publishing off"
grep -q "^DNS record: removed $srv from 127.0.0.1:$named_port at " "$work/dli" \
  || { cat "$work/dli"; fail "dli after cdns: the removal"; }
ctl sdns | grep -q "publishing the SRV record now" || fail "sdns reply"
wait_srv "after sdns" "3 7 $next kms1.$zone."
ctl dns unpublish > /dev/null
wait_srv "after dns unpublish" ""
other_kept "after dns unpublish"
ctl dns frobnicate > /dev/null 2>&1 && fail "an unknown dns subcommand was accepted"
ctl sdns > /dev/null
wait_srv "sdns after dns unpublish" "3 7 $next kms1.$zone."
# A host that can no longer serve leaves DNS.
ctl upk > /dev/null
wait_srv "after upk" ""
other_kept "after upk"
stop_host

# --- a wrong TSIG key: NOTAUTH, event 12293, a truthful dli -----------------
wrong="$work/wrong.key"
(umask 077; "$tsig_keygen" -a hmac-sha256 "$tsig_name" > "$wrong")
dir="$work/host2"
host_conf_extra="dns-zones = $zone
dns-server = 127.0.0.1:$named_port
dns-tsig-key = $wrong
dns-target = kms2.$zone"
start_host "$dir" "$work/trust.pem"
ctl ipk "$key" > /dev/null
ctl ato > /dev/null
for _ in $(seq 50); do
  ctl events > "$work/events"
  grep -q "12293" "$work/events" && break
  sleep 0.1
done
grep "12293" "$work/events" | grep -q "NOTAUTH" || { cat "$work/events"; fail "no event 12293 with NOTAUTH"; }
ctl dli > "$work/dli"
grep -q "^DNS record: $srv failed at .*NOTAUTH.*; next attempt at " "$work/dli" \
  || { cat "$work/dli"; fail "dli hides the failure or the retry"; }
ctl --json dli > "$work/json"
grep -q '"rcode_name": "NOTAUTH"' "$work/json" || fail "JSON dns_status rcode_name"
grep -q '"dns_published": false' "$work/json" || fail "JSON claims the record is published"
srv_records "$srv" | grep -q "kms2" && fail "an update signed with the wrong key was applied"
stop_host

# --- a TSIG key file others can read is refused at start ---------------------
chmod 0644 "$wrong"
if "$volactd" --config "$dir/volactd.conf" --foreground > "$work/refused" 2>&1; then
  fail "volactd started with a world-readable TSIG key"
fi
grep -q "dns-tsig-key: $wrong: mode 0644" "$work/refused" || { cat "$work/refused"; fail "the refusal does not name the key file and its mode"; }
grep -q "$dir/volactd.conf" "$work/refused" || fail "the refusal does not name the configuration file"
echo "PASS"
