#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every fuzz target's harness, built without libFuzzer, runs on its seed corpus
# and on every input that once crashed it (fuzz/regressions/NAME/): a parser
# fix that regresses fails here in the normal build (fuzz/README.md).
set -euo pipefail
for name in request response admin remote key activation-id license config; do
  dirs=("$top_srcdir/fuzz/corpus/$name")
  [ -d "$top_srcdir/fuzz/regressions/$name" ] && dirs+=("$top_srcdir/fuzz/regressions/$name")
  "$top_builddir/fuzz/replay-$name" "${dirs[@]}"
done
