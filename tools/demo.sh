#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The newcomer's demo, run by 'make demo' (see README.md):
#   tools/demo.sh BUILDDIR SRCDIR
set -euo pipefail
builddir=${1:?usage: demo.sh BUILDDIR SRCDIR}
srcdir=${2:?usage: demo.sh BUILDDIR SRCDIR}
work=$(mktemp -d "${TMPDIR:-/tmp}/volact-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat > "$work/volactd.conf" <<CONF
# Demo configuration: the build tree's plugins and the DEMO ONLY reference data.
[host]
plugin-dir = $builddir/plugins
license-dir = $srcdir/licenses
trust = $srcdir/licenses/reference-authority.pem
state-dir = $work/state
admin-socket = $work/admin.sock
listen = 127.0.0.1
CONF

echo "== volact demo: the catalog the host loads (plugins, editions, key groups) =="
echo "   config: $work/volactd.conf"
echo
"$builddir/core/volactd/volactd" --config "$work/volactd.conf" --print-catalog
