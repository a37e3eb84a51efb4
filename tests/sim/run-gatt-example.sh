#!/bin/sh
# Runs a GATT client example under `bleio-sim run` and checks its output.
# Usage: run-gatt-example.sh BLEIO_SIM SCENARIO|demo PATTERN MIN_LINES EXAMPLE [ARGS...]
# Passes when EXAMPLE exits 0 and at least MIN_LINES lines of its output
# match the grep -E PATTERN.
set -u
sim=$1
scenario=$2
pattern=$3
min=$4
shift 4
if [ "$scenario" = demo ]; then
  out=$("$sim" run -- "$@" 2>&1)
else
  out=$("$sim" run --scenario "$scenario" -- "$@" 2>&1)
fi
status=$?
printf '%s\n' "$out"
if [ "$status" -ne 0 ]; then
  echo "FAIL: $1 exited with $status" >&2
  exit 1
fi
count=$(printf '%s\n' "$out" | grep -cE "$pattern")
if [ "$count" -lt "$min" ]; then
  echo "FAIL: $count lines match '$pattern', expected at least $min" >&2
  exit 1
fi
echo "ok: $count lines match '$pattern'"
