#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# volactctl report on a real host after real volact-client requests: the
# numbers of vm-summary, activation-count-summary and licensing-status-summary
# in JSON, valid CSV with a header, a terminal table, and an unknown report
# name that exits non-zero naming the six.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

start_activated_host "$work/host"
activate() { activate_server "$@"; }

# The minimum for servers is 5: a1..a4 are refused, a5 activates, then two VMs
# and a renewal of a1 activate: 2 physical and 2 virtual machines activated.
for m in a1 a2 a3 a4; do [ "$(activate $m)" = 0xC004F038 ] || fail "$m was not refused"; done
for m in a5 a1; do [ "$(activate $m)" = 0x00000000 ] || fail "$m was not activated"; done
for m in b1 b2; do [ "$(activate $m --vm)" = 0x00000000 ] || fail "VM $m was not activated"; done

# table NAME: the report's rows as "cell cell ..." lines (from the JSON).
table() {
  ctl --json report "$@" | python3 -c '
import json, sys
r = json.load(sys.stdin)
for row in r["rows"]:
    print(" ".join(str(c) for c in row))'
}
got=$(table vm-summary)
[ "$got" = "server2008r2-standard 2 2" ] || fail "vm-summary: $got"
got=$(table activation-count-summary)
[ "$got" = "server2008r2-standard 4 4 4 4 4" ] || fail "activation-count-summary: $got"
# The seven machines' latest requests all reported OOB grace with (just under) 30 days left.
got=$(table licensing-status-summary | tr '\n' '/')
[ "$got" = "Licensed 0  /OOB grace 7 29 29/OOT grace 0  /Non-genuine grace 0  /Notification 0  /Unlicensed 0  /" ] \
  || fail "licensing-status-summary: $got"
got=$(table activity-history | awk '{ print $2, $3, $4, $5 }')
[ "$got" = "server2008r2-standard 4 4 8" ] || fail "activity-history: $got"

# CSV: a header and one row per edition, parsed by a real CSV reader.
ctl report vm-summary --csv > "$work/vm.csv" || fail "report --csv"
python3 - "$work/vm.csv" <<'PY' || fail "vm-summary CSV: $(cat "$work/vm.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert rows == [{"edition": "server2008r2-standard", "virtual": "2", "physical": "2"}], rows
PY
ctl report vm-summary > "$work/vm.txt" || fail "report (text)"
grep -q '^EDITION  *VIRTUAL  *PHYSICAL$' "$work/vm.txt" || fail "text header: $(cat "$work/vm.txt")"
grep -q '^server2008r2-standard  *2  *2$' "$work/vm.txt" || fail "text row: $(cat "$work/vm.txt")"

# --until before everything: nothing activated yet.
got=$(table vm-summary --until 2000-01-01)
[ -z "$got" ] || fail "vm-summary --until 2000-01-01: $got"

if ctl report kms-summary > /dev/null 2> "$work/err"; then fail "an unknown report exits 0"; fi
grep -q 'unknown report "kms-summary".*vm-summary' "$work/err" || fail "unclear error: $(cat "$work/err")"
if ctl report vm-summary --since yesterday 2> "$work/err"; then fail "a bad --since exits 0"; fi
grep -q -- '--since wants' "$work/err" || fail "unclear --since error: $(cat "$work/err")"
stop_host
echo "report: ok"
