#!/bin/sh
# Runs a beacon peripheral example (examples/beacon-*.c) on hci1 of the
# two-adapters scenario while bleioctl, as the central on hci0, finds it,
# connects and disconnects; the example must report both and exit 0.
# Usage: run-beacon.sh BLEIO_SIM BLEIOCTL EXAMPLE SCENARIO_DIR
set -u
sim=$1
ctl=$2
example=$3
if [ "${BLEIO_BEACON_INNER:-}" != 1 ]; then
  BLEIO_BEACON_INNER=1 exec "$sim" run --scenario "$4/two-adapters.json" -- "$0" "$@"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$example" hci1 > "$log" 2>&1 &
pid=$!
fail () {
  echo "FAIL: $1" >&2
  cat "$log" >&2
  kill "$pid" 2>/dev/null
  exit 1
}
# Waits (at most 20 s) for a line of the example's output.
wait_line () {
  i=0
  until grep -q "$1" "$log"; do
    i=$((i + 1))
    [ "$i" -gt 200 ] && fail "no '$1' from the example"
    sleep 0.1
  done
}
wait_line '^advertising on '
found=$("$ctl" --json --adapter hci0 scan --name BleioBeacon --count 1 --timeout 10) ||
  fail "bleioctl did not find BleioBeacon"
address=$(printf '%s\n' "$found" | sed -n 's/^{"address":"\([0-9A-F:]*\)".*/\1/p')
[ -n "$address" ] || fail "no address in: $found"
"$ctl" --adapter hci0 connect "$address" > /dev/null || fail "bleioctl connect $address"
wait_line '^connected '
"$ctl" --adapter hci0 disconnect "$address" > /dev/null || fail "bleioctl disconnect $address"
wait "$pid"
status=$?
cat "$log"
[ "$status" -eq 0 ] || { echo "FAIL: the example exited with $status" >&2; exit 1; }
grep -q '^disconnected ' "$log" || { echo "FAIL: no 'disconnected' line" >&2; exit 1; }
echo "ok: $address connected and disconnected"
