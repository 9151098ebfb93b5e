#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs each named fuzz target for FUZZ_SECONDS (default 60) seconds, one at a
# time, on a temporary copy of fuzz/corpus/NAME plus fuzz/regressions/NAME,
# with the target's dictionary if there is one. Stops at the first target that
# finds a crash or a leak; the input is left as fuzz/artifacts/NAME-crash-* in
# the build tree. Usage: run.sh SRCDIR BUILDDIR NAME...
set -eu
srcdir=$1 builddir=$2
shift 2
seconds=${FUZZ_SECONDS:-60}
work=$(mktemp -d "${TMPDIR:-/tmp}/volact-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$builddir/fuzz/artifacts"
for name in "$@"; do
	mkdir -p "$work/$name"
	cp -R "$srcdir/fuzz/corpus/$name/." "$work/$name/"
	set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$builddir/fuzz/artifacts/$name-"
	for dict in "$srcdir/fuzz/$name.dict"; do
		[ -f "$dict" ] && set -- "$@" -dict="$dict"
	done
	[ -d "$srcdir/fuzz/regressions/$name" ] && set -- "$@" "$work/$name" "$srcdir/fuzz/regressions/$name" \
		|| set -- "$@" "$work/$name"
	echo "fuzz-$name: $seconds s"
	"$builddir/fuzz/fuzz-$name" "$@" 2>"$work/$name.log" || {
		tail -n 60 "$work/$name.log"
		echo "fuzz-$name FAILED; the input is in $builddir/fuzz/artifacts/" >&2
		exit 1
	}
	grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$work/$name.log" || true
done
