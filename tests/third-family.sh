#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A third product family end to end (docs/plugins.md, "A new product family"):
# the plugin kms13 (tests/third-family/kms13.c) is compiled out of tree
# against a `make install DESTDIR=...` of this build, using only the
# installed <volact/plugin.h> and volact-plugin.pc; its license data (family
# kmsr2) is signed with `volact-authority sign` by the DEMO ONLY reference
# authority. Both are dropped into a running host's folders, `volactctl
# reload` takes them, a key of the new group installs (it was refused with
# 0xC004F050 before), and the new editions activate at their minimums while
# the old pool's count stays what it was.
set -euo pipefail
. "$top_srcdir/tests/lib.sh"

ctl() { "$volactctl" --socket "$work/host/admin.sock" "$@"; }
field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^,\"}]*\)\"\{0,1\}.*/\1/p" | head -1; }
# activate EDITION CMID: one client machine asks; prints the JSON reply.
activate() {
  "$client" --host "127.0.0.1:$port" --trust "$work/authority/authority.pem" --json \
    --state "$work/clients/$2.state" activate --edition "$1" --cmid "$2" \
    --name "pc-${2: -4}.example.org" || true
}
# pool_count POOL: the host's current count of POOL (dli --json).
pool_count() {
  ctl --json dli | tr -d ' \n' | grep -o '"current_count":{[^}]*}' \
    | grep -o "\"$1\":[0-9]*" | cut -d: -f2
}
cmid() { printf '00000000-0000-4000-8000-%012d' "$1"; }

# 1. Install the build and compile the plugin against the installed files only.
root="$work/root"
env -u MAKEFLAGS -u MFLAGS make -s -C "$top_builddir" install DESTDIR="$root" \
  > "$work/install.log" 2>&1 || { tail -20 "$work/install.log" >&2; fail "make install"; }
pc=$(find "$root" -name volact-plugin.pc | head -1)
[ -n "$pc" ] || fail "make install did not install volact-plugin.pc"
[ -n "$(find "$root" -path '*/include/volact/plugin.h')" ] || fail "no installed <volact/plugin.h>"
prefix=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=prefix volact-plugin)
plugindir=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=plugindir volact-plugin)
[ "${plugindir#"$prefix"/}" != "$plugindir" ] || fail "plugindir $plugindir is not under $prefix"
# The .pc names the configured prefix, which lives under DESTDIR here: point
# a copy at the staged tree, as a packager's sysroot would (only this
# package's prefix; GLib's flags must stay those of the system).
mkdir -p "$work/pkgconfig"
sed "s|^prefix=.*|prefix=$root$prefix|" "$pc" > "$work/pkgconfig/volact-plugin.pc"
export PKG_CONFIG_PATH="$work/pkgconfig"
cflags=$(pkg-config --cflags volact-plugin)
case $cflags in
  *"-I$root$prefix/include"*) ;;
  *) fail "pkg-config --cflags does not name the installed include folder: $cflags" ;;
esac
mkdir -p "$work/plugins"
# shellcheck disable=SC2086
${CC:-cc} $cflags -Wall -Werror -shared -fPIC -fvisibility=hidden \
  -o "$work/kms13.so" "$top_srcdir/tests/third-family/kms13.c" || fail "building kms13 out of tree"
exports=$(nm -D --defined-only "$work/kms13.so" | awk '$2 ~ /^[A-Z]$/ && $2 != "A" { print $3 }')
[ "$exports" = kms13_LTX_volact_plugin ] || fail "kms13.so exports more than its descriptor: $exports"

# 2. Sign the new family's data with the DEMO ONLY reference authority.
mkdir -p "$work/signer" "$work/kms13-data"
cp "$top_srcdir/licenses/reference-authority.key" "$work/signer/authority.key"
cp "$top_srcdir/licenses/reference-authority.pem" "$work/signer/authority.pem"
chmod 600 "$work/signer/authority.key"
for f in "$top_srcdir"/tests/third-family/*.xml; do
  b=$(basename "$f" .xml)
  cp "$f" "$work/kms13-data/$b.xrm"
done
"$authority" --dir "$work/signer" sign "$work"/kms13-data/*.xrm > /dev/null || fail "signing"

# 3. A running host on the reference plugins and data, activated with a key of
#    the Windows 7 era's highest group, and some clients in its pool.
start_authority "$work/authority"
old_key=$("$authority" --dir "$work/authority" issue-key --group 24)
new_key=$("$authority" --dir "$work/authority" issue-key --group 31)
cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
mkdir -p "$work/host" "$work/licenses" "$work/clients"
cp -r "$top_srcdir/licenses/kms11" "$top_srcdir/licenses/kms12" "$work/licenses/"
chmod -R u+w "$work/licenses"
host_plugin_dir="$top_builddir/plugins:$work/plugins"
host_license_dir="$work/licenses"
start_host "$work/host" "$work/trust.pem"
ctl ipk "$old_key" > /dev/null || fail "ipk of the kmsw7 key"
ctl ato > /dev/null || fail "ato"
for i in 1 2 3; do activate server2008r2-standard "$(cmid $i)" > /dev/null; done
old_count=$(pool_count windows)
[ "$old_count" = 3 ] || fail "the windows pool counts $old_count, expected 3"

# Before the drop: the new edition is unknown and a key of group 31 is invalid.
out=$(activate r2-server "$(cmid 100)")
[ "$(echo "$out" | field licensed)" != true ] || fail "r2-server licensed before the drop: $out"
if out=$(ctl ipk "$new_key" 2>&1); then fail "a key of group 31 installed before the drop"; fi
echo "$out" | grep -q 0xC004F050 || fail "ipk of an unknown group: $out"

# 4. The drop: plugin and data into the running host's folders, then reload.
cp "$work/kms13.so" "$work/plugins/kms13.so"
cp -r "$work/kms13-data" "$work/licenses/kms13"
ctl reload > "$work/reload.out" 2>&1 || { cat "$work/reload.out" >&2; fail "reload"; }
grep -q "^Reloaded: 2 plugins" "$work/reload.out" || fail "reload: $(cat "$work/reload.out")"
ctl ipk "$new_key" > /dev/null || fail "ipk of the kmsr2 key after the reload"
ctl ato > /dev/null || fail "ato with the kmsr2 key"

# 5. The new editions activate at their minimums (r2-server 1, r2-desktop 2).
out=$(activate r2-desktop "$(cmid 101)")
[ "$(echo "$out" | field result)" = 0xC004F038 ] || fail "r2-desktop at count 1: $out"
[ "$(echo "$out" | field count)" = 1 ] || fail "r2-desktop count: $out"
out=$(activate r2-server "$(cmid 102)")
[ "$(echo "$out" | field licensed)" = true ] || fail "r2-server at count 2: $out"
out=$(activate r2-desktop "$(cmid 101)")
[ "$(echo "$out" | field licensed)" = true ] || fail "r2-desktop at count 2: $out"
[ "$(echo "$out" | field count)" = 2 ] || fail "r2-desktop count after the repeat: $out"

# The old pool kept its count through the reload and the key change, and the
# new key still serves the old editions (the new group lists them).
[ "$(pool_count windows)" = "$old_count" ] || fail "the windows pool changed: $(pool_count windows)"
[ "$(pool_count volact-r2)" = 2 ] || fail "the volact-r2 pool counts $(pool_count volact-r2)"
out=$(activate server2008r2-standard "$(cmid 1)")
[ "$(echo "$out" | field count)" = "$old_count" ] || fail "an old edition after the switch: $out"
[ "$(echo "$out" | field result)" = 0xC004F038 ] || fail "an old edition after the switch: $out"
echo "third family: kms13 built out of tree, reloaded and activating; old pool count $old_count kept"
