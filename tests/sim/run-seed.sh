#!/bin/sh
# Runs a seed example under `bleio-sim run` (the demo scenario) and checks
# that it found the peripheral and printed its services.
# Usage: run-seed.sh BLEIO_SIM EXAMPLE
set -u
sim=$1
example=$2
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
