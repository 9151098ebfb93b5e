#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/volact-fleet-sim against two activated hosts that count alone (each its own
# SQLite store): 600 machines over 9 simulated days. From its --json report: no
# failures; every machine licensed by the end of day 0 although each host's first 24
# machines get 0xC004F038 (count 25 needed) and retry; the two hosts' counts add up
# to the fleet (each machine asks its preferred host); a licensed machine does not ask
# again before its renewal 7 days later, so days 2..6 carry no request; the
# Monday 08:00 hour carries the boot storm of exactly a fifth of the fleet; day 7
# carries the renewals of everyone the storm did not move. Then one host is stopped and
# new machines fail over to the other; and --max-seconds stops a run with a clear message.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"
sim="$top_builddir/bench/volact-fleet-sim"
py=/usr/bin/python3
[ -x "$py" ] || { echo "SKIP: /usr/bin/python3 is not installed" >&2; exit 77; }

start_authority "$work/authority"
key=$("$authority" --dir "$work/authority" issue-key --group 24)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
for h in 1 2; do
  mkdir -p "$work/host$h"
  write_fingerprint "$work/host$h" "machine-$h" "cpu-$h"
  start_host "$work/host$h" "$work/trust.pem"
  eval "port$h=\$port pid$h=\$host_pid"
  "$volactctl" --socket "$work/host$h/admin.sock" ipk "$key" > /dev/null || fail "ipk on host $h"
  "$volactctl" --socket "$work/host$h/admin.sock" ato > /dev/null || fail "ato on host $h"
done
hosts="127.0.0.1:$port1,127.0.0.1:$port2"

"$sim" --hosts "$hosts" --trust "$work/authority/authority.pem" --machines 600 --days 9 \
  --verify-percent 100 --concurrency 8 --max-seconds 120 --json > "$work/run.json" \
  || { cat "$work/run.json" >&2; fail "the simulation failed"; }

"$py" - "$work/run.json" "127.0.0.1:$port1" "127.0.0.1:$port2" << 'PY' || fail "the report does not hold"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
hosts = sys.argv[2:]
hours = [l for l in lines if l["type"] == "hour"]
summary = lines[-1]
N = 600

def check(ok, what):
    if not ok:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)

req = [h["requests"] for h in hours]
check(len(hours) == 9 * 24 and [h["hour"] for h in hours] == list(range(9 * 24)), "one line per simulated hour")
check(hours[0]["time"] == "Sun 00:00" and hours[32]["time"] == "Mon 08:00", "day 0 is a Sunday")
check(summary["type"] == "summary" and summary["failures"] == 0 and not summary["stopped"], "no failures: %s" % summary)
check(all(h["failures"] == 0 for h in hours), "no failures in any hour")
check(summary["requests"] == sum(req), "the summary adds up the hours")
check(summary["verified"] == summary["requests"], "--verify-percent 100 verifies every answer")
# Day 0: everyone asks once; each host's first 24 get "count insufficient" and retry 2 hours later.
check(N < sum(req[:26]) <= N + 2 * 24, "day 0: %d requests, N plus the retries" % sum(req[:26]))
check(hours[23]["licensed"] == N, "all licensed by the end of day 0: %d" % hours[23]["licensed"])
# Each machine asks its preferred host; the hosts count alone, so their counts add up to N.
top = {h: max(x["counts"][h] for x in hours[:24]) for h in hosts}
check(sum(top.values()) == N and all(N / 2 - 60 < c < N / 2 + 60 for c in top.values()),
      "per-host counts %s" % top)
check(all(x["counts"][h] in (0, top[h]) for x in hours[24:] for h in hosts),
      "renewals do not raise a count")
# The Monday 08:00 storm: exactly a fifth of the fleet, on quiet hours around it.
check(req[32] - max(req[31], req[33]) == N // 5, "the Monday storm: %s" % req[30:35])
# Licensed machines do not ask before their renewal interval (7 days).
check(sum(req[48:168]) == 0, "days 2..6 are quiet: %d requests" % sum(req[48:168]))
# Day 7 (Sunday): the renewals of everyone the storm did not move.
check(N - N // 5 <= sum(req[168:192]) <= N, "day 7 renewals: %d" % sum(req[168:192]))
# Day 8 (Monday): the storm machines renew at 08:00 and a new fifth boots with them.
check(N // 5 <= req[200] <= 2 * N // 5, "day 8 08:00: %d" % req[200])
check(hours[-1]["licensed"] == N and "commits" not in hours[-1], "no --store-uri: no commits")
PY

# Host 2 stops: its machines fail over to host 1, nothing fails, and host 1 counts them.
kill "$pid2"; wait "$pid2" || true
"$sim" --hosts "$hosts" --trust "$work/authority/authority.pem" --machines 60 --days 1 --seed 2 \
  --json > "$work/failover.json" || { cat "$work/failover.json" >&2; fail "fail-over"; }
"$py" - "$work/failover.json" "127.0.0.1:$port1" "127.0.0.1:$port2" << 'PY' || fail "fail-over report"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
hours, summary = lines[:-1], lines[-1]
up, down = sys.argv[2:]
assert summary["failures"] == 0 and summary["licensed"] == 60, summary
assert all(h["counts"][down] == 0 for h in hours), "the stopped host answered"
assert max(h["counts"][up] for h in hours) > 300, "host 1 did not count the new machines"
PY

# A run that does not fit in --max-seconds stops, says so, and fails.
rc=0
"$sim" --hosts "$hosts" --trust "$work/authority/authority.pem" --machines 2000000 --days 1 \
  --max-seconds 1 > "$work/stopped.out" 2> "$work/stopped.err" || rc=$?
[ "$rc" = 1 ] || fail "a stopped run exits $rc"
grep -q "stopped after 1 s (--max-seconds) in simulated day 0" "$work/stopped.err" \
  || fail "no clear message: $(cat "$work/stopped.err")"
grep -q "^total: .*(stopped early)" "$work/stopped.out" || fail "no summary: $(tail -1 "$work/stopped.out")"

# Usage errors name the option.
rc=0; "$sim" --hosts "$hosts" --trust "$work/authority/authority.pem" --machines 10 --days 29 \
  2> "$work/usage.err" || rc=$?
[ "$rc" = 2 ] && grep -q -- "--days D is required, D in 1..28" "$work/usage.err" || fail "--days 29"
echo "fleet-sim: ok"
