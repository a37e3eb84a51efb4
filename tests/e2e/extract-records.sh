#!/bin/sh
# Saves what a recording program (record-*.c) printed on the guest's console
# between "E2E-RECORD-BEGIN NAME" and "E2E-RECORD-END NAME" lines as
# OUTDIR/NAME, one file per block (the last block of a name wins).
#
#   extract-records.sh BUILDDIR/tests/e2e/image/console.log tests/data/bluez-5.66
set -eu
[ $# -eq 2 ] || { echo "usage: $0 CONSOLE OUTDIR" >&2; exit 2; }
console=$1
outdir=$2
mkdir -p "$outdir"
awk -v dir="$outdir" '
  /^E2E-RECORD-BEGIN / { name = $2; file = dir "/" name; printf "" > file; inside = 1; next }
  /^E2E-RECORD-END /   { if (inside) { close(file); print file }; inside = 0; next }
  inside               { print >> file }
' "$console"
