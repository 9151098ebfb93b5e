#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# volact-authority init/sign/verify on real files, cross-checked with stock
# xmlsec1: what the authority signs, `xmlsec1 --verify` accepts, and a changed
# byte makes both refuse it. Run by `make check` with top_srcdir, top_builddir
# and XMLSEC1 in the environment.
set -eu

: "${top_builddir:?top_builddir is not set}"
if [ -z "${XMLSEC1:-}" ]; then
  echo "FAIL: XMLSEC1 is empty: xmlsec1 is a required test dependency (apt install xmlsec1)" >&2
  exit 1
fi

authority="$top_builddir/tools/volact-authority"
work=$(mktemp -d "${TMPDIR:-/tmp}/volact-xmlsec1.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
dir="$work/authority"
status=0

fail() {
  echo "FAIL: $*" >&2
  status=1
}

# Runs "$@" and fails unless its exit status is WANT (first argument).
expect() {
  want=$1
  shift
  set +e
  "$@" > "$work/out" 2>&1
  got=$?
  set -e
  if [ "$got" -ne "$want" ]; then
    fail "exit $got, expected $want: $*"
    sed 's/^/  | /' "$work/out" >&2
  fi
}

# The xmlsec1 invocation that checks our files: the certificate in KeyInfo
# must chain to the trusted authority certificate, and only same-document
# URI="" references are allowed.
xmlsec1_verify() {
  "$XMLSEC1" --verify --enabled-reference-uris empty --trusted-pem "$1" "$2"
}

# init: a private folder, the key 0600, never overwritten.
expect 0 "$authority" --dir "$dir" init --name "volact test authority"
[ -f "$dir/authority.key" ] && [ -f "$dir/authority.pem" ] || fail "init created no key pair"
[ "$(stat -c %a "$dir/authority.key")" = 600 ] || fail "authority.key mode is $(stat -c %a "$dir/authority.key")"
[ "$(stat -c %a "$dir")" = 700 ] || fail "authority folder mode is $(stat -c %a "$dir")"
before=$(sha256sum < "$dir/authority.key")
expect 1 "$authority" --dir "$dir" init
grep -q "refusing to overwrite" "$work/out" || fail "second init did not say why it refused"
grep -q "0xC0AC0002" "$work/out" || fail "second init printed no error code"
[ "$(sha256sum < "$dir/authority.key")" = "$before" ] || fail "second init changed authority.key"

cat > "$work/test1ppd.xrm" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<license xmlns="urn:volact:xrm:1" kind="ppd" family="testfam" id="test1ppd" version="1">
  <title>Test family, key group 1: product policy</title>
  <issuer name="volact test authority"/>
  <grant>
    <principal keyGroup="1"/>
    <right name="activate"/>
    <resource>
      <application id="testapp" name="Test application"/>
    </resource>
    <condition>
      <policy application="testapp" activationInterval="120" renewalInterval="10080" validityDays="180" retentionDays="30"/>
      <minimumCount edition="test-client" count="25" virtualMachines="ignored"/>
    </condition>
  </grant>
</license>
XML
file="$work/test1ppd.xrm"
chmod 640 "$file"

# sign, verify, and stock xmlsec1 agrees.
expect 0 "$authority" --dir "$dir" sign "$file"
grep -q "^$file: signed" "$work/out" || fail "sign did not report the file"
[ "$(stat -c %a "$file")" = 640 ] || fail "sign changed the file mode"
expect 0 "$authority" --dir "$dir" verify "$file"
grep -q "^$file: OK" "$work/out" || fail "verify did not print FILE: OK"
expect 0 "$authority" --dir "$dir" --json verify "$file"
grep -q '"ok": true' "$work/out" || fail "verify --json did not report ok"
expect 0 xmlsec1_verify "$dir/authority.pem" "$file"

# Signing again replaces the signature rather than adding one.
expect 0 "$authority" --dir "$dir" sign "$file"
[ "$(grep -c '<Signature[ >]' "$file")" = 1 ] || fail "re-signing left more than one Signature"
expect 0 xmlsec1_verify "$dir/authority.pem" "$file"

# One changed byte: both refuse it.
sed 's/count="25"/count="26"/' "$file" > "$work/flipped.xrm"
cmp -s "$file" "$work/flipped.xrm" && fail "the byte flip changed nothing"
expect 1 "$authority" --dir "$dir" verify "$work/flipped.xrm"
grep -q "0xC0AC0008" "$work/out" || fail "verify of a changed file printed no SIGNATURE code"
expect 1 "$authority" --dir "$dir" --json verify "$file" "$work/flipped.xrm"
grep -q '"code": "0xC0AC0008"' "$work/out" || fail "verify --json gave no error code"
expect 1 xmlsec1_verify "$dir/authority.pem" "$work/flipped.xrm"

# Another authority's signature (its certificate in KeyInfo): both refuse it.
expect 0 "$authority" --dir "$work/other" init
cp "$file" "$work/other.xrm"
expect 0 "$authority" --dir "$work/other" sign "$work/other.xrm"
expect 0 xmlsec1_verify "$work/other/authority.pem" "$work/other.xrm"
expect 1 "$authority" --dir "$dir" verify "$work/other.xrm"
expect 1 xmlsec1_verify "$dir/authority.pem" "$work/other.xrm"

# Broken data is never signed, and the file is left alone.
sed 's/count="25"/count="0"/' "$file" > "$work/invalid.xrm"
cp "$work/invalid.xrm" "$work/invalid.orig"
expect 1 "$authority" --dir "$dir" sign "$work/invalid.xrm"
grep -q "0xC0AC0007" "$work/out" || fail "signing invalid data printed no XML_SCHEMA code"
grep -q "invalid.xrm:13:" "$work/out" || fail "signing invalid data did not name file and line"
cmp -s "$work/invalid.xrm" "$work/invalid.orig" || fail "a refused sign changed the file"

# Usage errors exit 2.
expect 2 "$authority" --dir "$dir"
expect 2 "$authority" verify "$file"
expect 2 "$authority" --dir "$dir" frobnicate
expect 2 "$authority" --dir "$dir" sign

exit $status
