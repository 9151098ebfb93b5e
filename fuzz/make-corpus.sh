#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerates fuzz/corpus/: computed seeds from fuzz-seeds (a --enable-fuzzing
# build), reference license files, and the configuration examples.
# Usage: fuzz/make-corpus.sh SRCDIR BUILDDIR
set -eu
srcdir=$1 builddir=$2
corpus=$srcdir/fuzz/corpus
"$builddir/fuzz/fuzz-seeds" "$corpus"
mkdir -p "$corpus/license" "$corpus/config"
for f in kms11/kms1pl kms11/kms1ppd kms11/kms08cfg kms12/w7k2oob kms12/w7k2phn; do
	cp "$srcdir/licenses/$f.xrm" "$corpus/license/"
done
cp "$srcdir/data/volactd.conf" "$corpus/config/volactd.conf"
# The remote administration body is an admin frame without its length prefix.
mkdir -p "$corpus/remote"
for f in "$corpus"/admin/*; do
	tail -c +5 "$f" > "$corpus/remote/$(basename "$f")"
done
