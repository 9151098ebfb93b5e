#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# /metrics end to end (docs/monitoring.md, docs/web.md): real client requests to
# a real volactd, a scrape over HTTPS with HTTP Basic, the text checked by
# promtool and parsed by the Prometheus Python client, whose samples must say
# what happened: requests by edition and result, the count, activation, the
# commit histogram, connections, build info.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

make_tls_cert "$work"
printf 'scrape-pass\n' | "$volactctl" user add prometheus --password-fd 0 --users-file "$work/users" > /dev/null
web_conf "$work" "$work/users"
start_activated_host "$work/host"
# Four refused (count below 5), then three activated.
for m in a1 a2 a3 a4 a5 a1 a6; do activate_server $m > /dev/null || true; done
ctl dli --json > "$work/dli.json"

curl -sS --max-time 20 --cacert "$work/cert.pem" -u 'prometheus:scrape-pass' \
  -o "$work/metrics.txt" "https://127.0.0.1:$web_port/metrics" || fail "the scrape failed"
promtool check metrics < "$work/metrics.txt" > "$work/promtool.out" 2>&1 \
  || fail "promtool refuses the metrics: $(cat "$work/promtool.out")"
[ ! -s "$work/promtool.out" ] || fail "promtool warns: $(cat "$work/promtool.out")"
/usr/bin/python3 "$top_srcdir/tests/metrics-samples.py" < "$work/metrics.txt" > "$work/samples" \
  || fail "the Prometheus Python client cannot parse the metrics"
sample() { # sample LINE: the parsed samples hold exactly LINE
  grep -qxF -- "$1" "$work/samples" || { grep -F "${1%%\{*}" "$work/samples" >&2; fail "no sample: $1"; }
}
sample 'volact_requests_total{edition="server2008r2-standard",result="0xC004F038"} 4'
sample 'volact_requests_total{edition="server2008r2-standard",result="0x00000000"} 3'
sample 'volact_host_activated 1'
sample 'volact_edition_active{application="windows",edition="server2008r2-standard"} 1'
sample "volact_build_info{version=\"$("$volactd" --version | awk '{ print $2 }')\"} 1"
sample 'volact_machines{state="oob_grace"} 6'
# The count equals dli's.
count=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["current_count"]["windows"])' "$work/dli.json")
[ "$count" = 6 ] || fail "dli's count is $count, not 6"
sample "volact_application_counted_machines{application=\"windows\"} $count"
grep -q '^volact_records_commit_duration_seconds_count [1-9]' "$work/samples" \
  || fail "no commit in the commit latency histogram"
awk '$1 == "volact_connections_accepted_total" && $2 >= 7 { ok = 1 } END { exit !ok }' "$work/samples" \
  || fail "fewer than 7 accepted connections counted"
stop_host
echo "metrics: ok"
