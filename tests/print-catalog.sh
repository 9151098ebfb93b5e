#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# volactd --print-catalog shows the reference catalog, and names the file at fault when data is bad.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
volactd="$top_builddir/core/volactd/volactd"

cat > "$work/ok.conf" <<CONF
[host]
plugin-dir = $top_builddir/plugins
license-dir = $top_srcdir/licenses
trust = $top_srcdir/licenses/reference-authority.pem
demo-authority = true
CONF
"$volactd" --config "$work/ok.conf" --print-catalog > "$work/out"
grep -q '^  kms12 ' "$work/out"
grep -q 'vista-business .*Windows Vista Business .*client *25 ' "$work/out"
grep -q 'server2008r2-itanium .*server *5 ' "$work/out"
grep -q 'kmsw7-4' "$work/out"
[ "$(grep -c '^  [0-9]' "$work/out")" -eq 8 ] # eight key groups

# A bad config key is named with file, group and key.
printf '[host]\nport = 99999\n' > "$work/bad.conf"
if "$volactd" --config "$work/bad.conf" --print-catalog 2> "$work/err"; then exit 1; fi
grep -q "bad.conf: \[host\] key \"port\"" "$work/err"
grep -q '0xC0AC0003' "$work/err"

# A tampered license file is named, with the signature error code.
mkdir -p "$work/lic"
cp "$top_srcdir"/licenses/kms11/*.xrm "$work/lic/"
sed -i 's/count="25"/count="2"/' "$work/lic/kms1ppd.xrm"
sed "s|^license-dir = .*|license-dir = $work/lic|" "$work/ok.conf" > "$work/tampered.conf"
if "$volactd" --config "$work/tampered.conf" --print-catalog > /dev/null 2> "$work/err"; then exit 1; fi
grep -q 'kms1ppd.xrm' "$work/err"
grep -q '0xC0AC0008' "$work/err"
echo "print-catalog: ok"
