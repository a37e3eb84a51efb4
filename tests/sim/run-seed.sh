#!/bin/sh
# Runs a seed example under `bleio-sim run` and checks its output.
# Usage: run-seed.sh BLEIO_SIM EXAMPLE             (demo scenario: must find
#                                                   InterestingPeripheral and
#                                                   print its services)
#        run-seed.sh BLEIO_SIM EXAMPLE SCENARIO    (no such peripheral: must
#                                                   fail and say so)
set -u
sim=$1
example=$2
if [ $# -ge 3 ]; then
  out=$("$sim" run --scenario "$3" -- "$example" 2>&1)
  status=$?
  printf '%s\n' "$out"
  if [ "$status" -eq 0 ]; then
    echo "FAIL: $example succeeded without InterestingPeripheral" >&2
    exit 1
  fi
  printf '%s\n' "$out" | grep -q "'InterestingPeripheral' not found" || {
    echo "FAIL: no clear 'not found' message" >&2; exit 1; }
  echo "ok: failed clearly (status $status)"
  exit 0
fi
out=$("$sim" run -- "$example" 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" -ne 0 ]; then
  echo "FAIL: $example exited with $status" >&2
  exit 1
fi
printf '%s\n' "$out" | grep -q '^found InterestingPeripheral at ' || {
  echo "FAIL: no 'found InterestingPeripheral' line" >&2; exit 1; }
count=$(printf '%s\n' "$out" | grep -c '^  service ')
header=$(printf '%s\n' "$out" | sed -n 's/^\([0-9][0-9]*\) services:$/\1/p')
if [ -z "$header" ] || [ "$count" -eq 0 ] || [ "$count" -ne "$header" ]; then
  echo "FAIL: expected the services listed (header '$header', lines $count)" >&2
  exit 1
fi
echo "ok: $count services"
