#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# volact-authority issue-key, limits, confirm and serve from the command line:
# key issuing and its refusals, the per-key limits, the error codes of
# malformed Installation IDs, and the online server (port 0, malformed and
# oversized requests, still answering afterwards, clean stop on SIGTERM).
# With python3 and openssl it also runs the authority's side of the whole
# flow: Installation IDs built from the documented formats, Confirmation IDs
# checked with stock openssl against authority.pem, the host and activation
# limits, the per-key override, and the same over the wire. The host side
# (dti, atp, ato) is tests/activation.sh. Run by `make check` with
# top_builddir in the environment; every wait is bounded (10 s).
#
# make runs .sh tests with $(SHELL), which may be a plain sh: this needs bash (/dev/tcp).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

: "${top_builddir:?top_builddir is not set}"
authority="$top_builddir/tools/volact-authority"
work=$(mktemp -d "${TMPDIR:-/tmp}/volact-authority-cli.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -KILL "$server_pid" 2> /dev/null
    wait "$server_pid" 2> /dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
dir="$work/authority"
status=0

fail() {
  echo "FAIL: $*" >&2
  status=1
}

# Runs "$@" (bounded) with stdout in $work/out and stderr in $work/err; fails unless it exits WANT.
expect() {
  want=$1
  shift
  timeout 10 "$@" > "$work/out" 2> "$work/err"
  got=$?
  if [ "$got" -ne "$want" ]; then
    fail "exit $got, expected $want: $*"
    sed 's/^/  out| /' "$work/out" >&2
    sed 's/^/  err| /' "$work/err" >&2
  fi
}

# Fails unless file $1 holds the extended regular expression $2.
holds() {
  grep -Eq -- "$2" "$1" || {
    fail "$3"
    sed 's/^/  | /' "$1" >&2
  }
}

json_ok() {
  if command -v python3 > /dev/null; then
    python3 -c 'import json, sys; json.load(sys.stdin)' < "$1"
  else
    grep -q '^{.*}$' "$1"
  fi
}

# Before init: a clear error, and no ledger created.
expect 1 "$authority" --dir "$work" issue-key --group 22
holds "$work/err" "run .*init" "issue-key without an authority did not say to run init"
[ -e "$work/ledger.db" ] && fail "issue-key without an authority created a ledger"

expect 0 "$authority" --dir "$dir" init --name "volact test authority"

# issue-key: exactly one 25-symbol key on stdout.
expect 0 "$authority" --dir "$dir" issue-key --group 22
[ "$(wc -l < "$work/out")" -eq 1 ] || fail "issue-key printed more than the key on stdout"
key=$(cat "$work/out")
echo "$key" | grep -Eq '^[BCDFGHJKMPQRTVWXY2346789]{5}(-[BCDFGHJKMPQRTVWXY2346789]{5}){4}$' \
  || fail "issue-key printed no host key: '$key'"
[ "$(stat -c %a "$dir/ledger.db")" = 600 ] || fail "ledger.db mode is $(stat -c %a "$dir/ledger.db")"

# Groups outside 1..1023 and non-numbers: refused with VOLACT_E_CONFIG, nothing on stdout.
for group in 0 5000 1024 -1 abc 22x ""; do
  expect 1 "$authority" --dir "$dir" issue-key --group "$group"
  holds "$work/err" "error 0xC0AC0003" "issue-key --group '$group' gave no 0xC0AC0003"
  [ -s "$work/out" ] && fail "issue-key --group '$group' printed something on stdout"
done
expect 2 "$authority" --dir "$dir" issue-key
expect 1 "$authority" --dir "$dir" issue-key --group 1 --max-activations 256
holds "$work/err" "0xC0AC0003" "--max-activations 256 gave no 0xC0AC0003"

# --json parses and carries the fields.
expect 0 "$authority" --dir "$dir" --json issue-key --group 3 --max-hosts 2 --max-activations 4
json_ok "$work/out" || fail "issue-key --json is not JSON"
holds "$work/out" '"group": 3' "issue-key --json has no group"
holds "$work/out" '"serial": 2' "issue-key --json has no serial 2"
holds "$work/out" '"max_hosts": 2, "max_activations": 4' "issue-key --json has wrong limits"
holds "$work/out" '"key": "[B-Z2-9-]{29}"' "issue-key --json has no key"
key2=$(sed -n 's/.*"key": "\([^"]*\)".*/\1/p' "$work/out")
expect 1 "$authority" --dir "$dir" --json issue-key --group 0
json_ok "$work/out" || fail "issue-key --json failure is not JSON"
holds "$work/out" '"code": "0xC0AC0003"' "issue-key --json failure has no code"

# limits: show, change, and refuse keys the ledger does not hold.
expect 0 "$authority" --dir "$dir" limits "$key"
holds "$work/out" "^Max hosts: 6$" "limits did not show the default 6 hosts"
holds "$work/out" "^Hosts activated: 0 of 6$" "limits did not show the usage"
expect 0 "$authority" --dir "$dir" limits "$key" --max-hosts 8 --max-activations 12
holds "$work/out" "^Max hosts: 8$" "limits did not set max hosts"
holds "$work/out" "^Max activations per host: 12$" "limits did not set max activations"
expect 0 "$authority" --dir "$dir" --json limits "$key"
json_ok "$work/out" || fail "limits --json is not JSON"
holds "$work/out" '"max_hosts": 8, "max_activations": 12, "hosts": 0' "limits --json is wrong"
# A well-formed key of group 11, serial 1 (docs/host-keys.md): serial 1 here is group 22.
expect 1 "$authority" --dir "$dir" limits PVKPF-RV4JY-FCFF6-3HPRW-8QM8Y --max-hosts 9
holds "$work/err" "error 0xC004F050" "limits on a key not issued gave no 0xC004F050"
expect 1 "$authority" --dir "$dir" limits W8P7G-6T7D2-QFYG4-7HXDX-999RR
holds "$work/err" "0xC004F050" "limits on an unknown serial gave no 0xC004F050"
expect 1 "$authority" --dir "$dir" limits NOT-A-KEY
holds "$work/err" "0xC004F050" "limits on garbage gave no 0xC004F050"
expect 1 "$authority" --dir "$dir" limits "$key" --max-activations 0
holds "$work/err" "0xC0AC0003" "--max-activations 0 gave no 0xC0AC0003"
expect 2 "$authority" --dir "$dir" limits

# confirm: malformed Installation IDs are refused with their codes, nothing on stdout.
expect 1 "$authority" --dir "$dir" confirm garbage
holds "$work/err" "error 0xC0AC0302" "confirm garbage gave no 0xC0AC0302"
[ -s "$work/out" ] && fail "confirm garbage printed something on stdout"
expect 1 "$authority" --dir "$dir" confirm 123456 234567 345678
holds "$work/err" "0xC0AC0302" "confirm with too few digits gave no 0xC0AC0302"
# 19 groups of the right sizes whose check digits are wrong: group 1 is named.
iid=$(printf '000000-%.0s' $(seq 18))00000
expect 1 "$authority" --dir "$dir" confirm "$iid"
holds "$work/err" "0xC0AC030[12]" "confirm with bad check digits gave no ID code"
expect 1 "$authority" --dir "$dir" --json confirm garbage
json_ok "$work/out" || fail "confirm --json failure is not JSON"
holds "$work/out" '"code": "0xC0AC0302"' "confirm --json failure has no code"
expect 2 "$authority" --dir "$dir" confirm

# The full flow needs Installation IDs, which only a host makes: idtool.py
# builds them from the host-key and ID formats (docs/host-keys.md,
# docs/activation.md), and checks a Confirmation ID's signature with stock
# openssl against the authority certificate.
have_flow=
if command -v python3 > /dev/null && command -v openssl > /dev/null; then
  have_flow=yes
else
  echo "SKIP: the activation flow needs python3 and openssl" >&2
fi
cat > "$work/idtool.py" << 'PY'
import hashlib, sys
DAMM = [[0, 3, 1, 7, 5, 9, 8, 6, 4, 2], [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
        [4, 2, 0, 6, 8, 7, 1, 3, 5, 9], [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
        [6, 1, 2, 3, 0, 4, 5, 9, 7, 8], [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
        [5, 8, 6, 9, 7, 2, 0, 1, 3, 4], [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
        [9, 4, 3, 8, 6, 1, 7, 2, 0, 5], [2, 5, 8, 1, 4, 3, 6, 7, 9, 0]]
ALPHABET = "BCDFGHJKMPQRTVWXY2346789"

def check_digit(number, digits):
    interim = number % 10
    for d in digits:
        interim = DAMM[interim][int(d)]
    return str(interim)

def seeded(seed, size):
    return hashlib.sha256(seed.encode()).digest()[:size]

def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "iid":  # KEY GROUP SERIAL HOST FP [NONCE_XOR]: the Installation ID a host would show
    key, group, serial, host, fp = args[0], int(args[1]), int(args[2]), args[3], args[4]
    value = 0
    for c in key.replace("-", "")[:23]:
        value = value * 24 + ALPHABET.index(c)
    nonce = (value & 0xFFFFFFFF) ^ (int(args[5]) if len(args) > 5 else 0)
    payload = (bytes([1]) + group.to_bytes(2, "big") + serial.to_bytes(6, "big")
               + nonce.to_bytes(4, "big") + seeded(host, 16) + seeded(fp, 10))
    digits = str(int.from_bytes(payload, "big")).rjust(94, "0")
    groups = [digits[i:i + 5] for i in range(0, len(digits), 5)]
    print("-".join(g + check_digit(n + 1, g) for n, g in enumerate(groups)))
elif cmd == "cert":  # KEYID GROUP SERIAL HOST FP CID OUT: writes OUT.body, OUT.sig; prints the number
    key_id, group, serial, host, fp, cid, out = args[0], int(args[1]), int(args[2]), *args[3:]
    groups = cid.strip().split("-")
    assert len(groups) == 33, "not 33 groups"
    for n, g in enumerate(groups):
        assert check_digit(n + 1, g[:-1]) == g[-1], "bad check digit"
    payload = int("".join(g[:-1] for g in groups)).to_bytes(68, "big")
    assert payload[0] == 1, "not version 1"
    body = (bytes([1]) + bytes.fromhex(key_id) + group.to_bytes(2, "big")
            + serial.to_bytes(6, "big") + seeded(host, 16) + seeded(fp, 10) + payload[1:4])
    seq = der_int(payload[4:36]) + der_int(payload[36:68])
    open(out + ".body", "wb").write(body)
    open(out + ".sig", "wb").write(b"\x30" + bytes([len(seq)]) + seq)
    print(payload[3])
PY
cid_re='^[0-9]{6}(-[0-9]{6}){31}-[0-9]{5}$'

# Checks that Confirmation ID $6 verifies, with stock openssl and the authority certificate,
# for key group $1, serial $2, host $3 and fingerprint $4, and carries activation number $5.
verify_cid() {
  python3 "$work/idtool.py" cert "$key_id" "$1" "$2" "$3" "$4" "$6" "$work/cert" > "$work/number" \
    || { fail "Confirmation ID '$6' is malformed"; return; }
  [ "$(cat "$work/number")" = "$5" ] || fail "activation number $(cat "$work/number"), expected $5"
  openssl dgst -sha256 -verify "$work/authority.pub" -signature "$work/cert.sig" "$work/cert.body" \
    > /dev/null 2>&1 || fail "the Confirmation ID's signature does not verify with authority.pem"
}

if [ -n "$have_flow" ]; then
  openssl x509 -in "$dir/authority.pem" -pubkey -noout > "$work/authority.pub"
  key_id=$(openssl pkey -pubin -in "$work/authority.pub" -outform DER | sha256sum | cut -c1-8)
  iid_a=$(python3 "$work/idtool.py" iid "$key" 22 1 host-a fp-1)

  # confirm: only the Confirmation ID on stdout; it verifies; each activation counts.
  expect 0 "$authority" --dir "$dir" confirm "$iid_a"
  [ "$(wc -l < "$work/out")" -eq 1 ] || fail "confirm printed more than the ID on stdout"
  holds "$work/out" "$cid_re" "confirm printed no Confirmation ID"
  verify_cid 22 1 host-a fp-1 1 "$(cat "$work/out")"
  # --json, and the groups pasted as separate arguments.
  expect 0 "$authority" --dir "$dir" --json confirm $(echo "$iid_a" | tr '-' ' ')
  json_ok "$work/out" || fail "confirm --json is not JSON"
  holds "$work/out" '"activation_number": 2' "the second activation was not number 2"
  holds "$work/out" '"group": 22, "serial": 1' "confirm --json has no group and serial"
  verify_cid 22 1 host-a fp-1 2 "$(sed -n 's/.*"confirmation_id": "\([^"]*\)".*/\1/p' "$work/out")"
  # A new fingerprint (hardware change) is the same host: reactivation, not a new host.
  expect 0 "$authority" --dir "$dir" confirm "$(python3 "$work/idtool.py" iid "$key" 22 1 host-a fp-2)"
  verify_cid 22 1 host-a fp-2 3 "$(cat "$work/out")"
  expect 0 "$authority" --dir "$dir" limits "$key"
  holds "$work/out" "^Hosts activated: 1 of 8$" "limits did not count one host"

  # A mistyped group is named; a wrong nonce or group is an invalid key.
  bad=$(echo "$iid_a" | awk -F- -v OFS=- '{ $7 = substr($7, 1, 2) ((substr($7, 3, 1) + 1) % 10) substr($7, 4); print }')
  expect 1 "$authority" --dir "$dir" confirm "$bad"
  holds "$work/err" "error 0xC0AC0301: group 7 " "a mistyped group 7 was not named"
  expect 1 "$authority" --dir "$dir" confirm "$(python3 "$work/idtool.py" iid "$key" 22 1 host-a fp-1 1)"
  holds "$work/err" "error 0xC004F050" "a wrong nonce gave no 0xC004F050"
  expect 1 "$authority" --dir "$dir" confirm "$(python3 "$work/idtool.py" iid "$key" 21 1 host-a fp-1)"
  holds "$work/err" "error 0xC004F050" "a wrong group gave no 0xC004F050"

  # key2 allows 2 hosts and 4 activations each.
  for n in 1 2 3 4; do
    expect 0 "$authority" --dir "$dir" confirm "$(python3 "$work/idtool.py" iid "$key2" 3 2 host-b fp)"
    verify_cid 3 2 host-b fp "$n" "$(cat "$work/out")"
  done
  expect 1 "$authority" --dir "$dir" confirm "$(python3 "$work/idtool.py" iid "$key2" 3 2 host-b fp)"
  holds "$work/err" "error 0xC0AC0202: host [0-9a-f]{32} has already been activated 4 of 4 times" \
    "a fifth activation gave no 0xC0AC0202"
  expect 0 "$authority" --dir "$dir" confirm "$(python3 "$work/idtool.py" iid "$key2" 3 2 host-c fp)"
  expect 1 "$authority" --dir "$dir" confirm "$(python3 "$work/idtool.py" iid "$key2" 3 2 host-d fp)"
  holds "$work/err" "error 0xC0AC0201: key serial 2 has already activated 2 of 2 hosts" \
    "a third host gave no 0xC0AC0201"
  expect 0 "$authority" --dir "$dir" limits "$key2"
  holds "$work/out" "^Hosts activated: 2 of 2$" "limits did not count two hosts"
  # The override lets one more host in.
  expect 0 "$authority" --dir "$dir" limits "$key2" --max-hosts 3
  expect 0 "$authority" --dir "$dir" confirm "$(python3 "$work/idtool.py" iid "$key2" 3 2 host-d fp)"
  verify_cid 3 2 host-d fp 1 "$(cat "$work/out")"
fi

# serve: usage and bad addresses.
expect 2 "$authority" --dir "$dir" serve
for listen in localhost:0 127.0.0.1 ::1:0 "[127.0.0.1]:0" 127.0.0.1:65536 127.0.0.1:x; do
  expect 1 "$authority" --dir "$dir" serve --listen "$listen"
  holds "$work/err" "0xC0AC0003" "serve --listen '$listen' gave no 0xC0AC0003"
done

# serve on port 0: one line with the actual port.
fifo="$work/serve.out"
mkfifo "$fifo"
"$authority" --dir "$dir" serve --listen 127.0.0.1:0 > "$fifo" 2> "$work/serve.err" &
server_pid=$!
exec 3< "$fifo"
line=
read -r -t 10 line <&3
port=${line##*:}
case "$line" in
  "listening on 127.0.0.1:"[1-9]*) ;;
  *)
    fail "serve printed '$line', not 'listening on 127.0.0.1:PORT'"
    port=
    ;;
esac

# Sends $1 (printf format) to the server, puts the reply in $work/reply.
ask() {
  timeout 10 bash -c '
    exec 4<> "/dev/tcp/127.0.0.1/$1" || exit 1
    printf "$2" >&4
    IFS= read -r reply <&4 || [ -n "$reply" ] || exit 0
    printf "%s\n" "$reply"
    exec 4>&-' ask "$port" "$1" > "$work/reply" 2> /dev/null
}

if [ -n "$port" ]; then
  ask 'HELLO\n' || fail "no reply to HELLO"
  holds "$work/reply" "^ERROR 0x[0-9A-F]{8} " "HELLO got no ERROR line"

  ask 'ACTIVATE 1 garbage\n' || fail "no reply to a malformed IID"
  holds "$work/reply" "^ERROR 0xC0AC0302 " "a malformed IID got no ERROR 0xC0AC0302"

  ask "ACTIVATE 1 $iid\\n" || fail "no reply to a mistyped IID"
  holds "$work/reply" "^ERROR 0xC0AC030[12] " "a mistyped IID got no ID error"

  # Over 1024 bytes: an ERROR line or a closed connection, never a crash.
  long=$(head -c 3000 /dev/zero | tr '\0' 7)
  ask "ACTIVATE 1 $long\\n"
  if [ -s "$work/reply" ]; then
    holds "$work/reply" "^ERROR 0xC0AC0004 " "an oversized line got no ERROR 0xC0AC0004"
  fi
  # A non-printable byte.
  ask 'ACTIVATE 1 \001\n'
  if [ -s "$work/reply" ]; then
    holds "$work/reply" "^ERROR 0x" "a control byte got something other than ERROR"
  fi
  # A client that connects and closes without a request.
  timeout 10 bash -c 'exec 4<> "/dev/tcp/127.0.0.1/$1"; exec 4>&-' x "$port"

  # The full exchange: OK and a Confirmation ID that verifies; refusals keep their codes.
  if [ -n "$have_flow" ]; then
    ask "ACTIVATE 1 $iid_a\\n" || fail "no reply to a valid request"
    holds "$work/reply" "^OK [0-9-]{229}$" "a valid request got no OK line"
    verify_cid 22 1 host-a fp-1 4 "$(sed 's/^OK //' "$work/reply")"
    ask "ACTIVATE 1 $(python3 "$work/idtool.py" iid "$key2" 3 2 host-e fp)\\n"
    holds "$work/reply" "^ERROR 0xC0AC0201 key serial 2 has already activated 3 of 3 hosts$" \
      "a host over the limit got no ERROR 0xC0AC0201"
    holds "$work/serve.err" "key serial 1 group 22 host [0-9a-f]{8}\.\.\.: granted, activation 4" \
      "the server did not log the activation"
    holds "$work/serve.err" "key serial 2 group 3 host [0-9a-f]{8}\.\.\.: refused 0xC0AC0201" \
      "the server did not log the refusal"
  fi

  # Still alive and answering.
  kill -0 "$server_pid" 2> /dev/null || fail "the server died"
  ask 'HELLO\n' || fail "no reply after the bad requests"
  holds "$work/reply" "^ERROR 0x" "the server stopped answering after bad requests"
  holds "$work/serve.err" "refused: 0xC0AC0302" "the server did not log a refused request"
fi

# SIGTERM: exit 0.
kill -TERM "$server_pid"
code=0
for _ in $(seq 100); do
  kill -0 "$server_pid" 2> /dev/null || break
  sleep 0.1
done
if kill -0 "$server_pid" 2> /dev/null; then
  fail "the server did not stop within 10 s of SIGTERM"
else
  wait "$server_pid"
  code=$?
  [ "$code" -eq 0 ] || fail "the server exited $code on SIGTERM"
fi
server_pid=
exec 3<&-

exit $status
