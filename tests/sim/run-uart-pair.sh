#!/bin/sh
# examples/uart-peripheral on hci1 and examples/nus-client on hci0 exchange a
# line through the simulator's air (issue 17 item 9).
# Usage: run-uart-pair.sh BLEIO_SIM SCENARIO UART_PERIPHERAL NUS_CLIENT
# Passes when both exit 0, the client prints the line echoed back and the
# peripheral the line it echoed.
set -u
sim=$1
scenario=$2
peripheral=$3
client=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# The peripheral says when it advertises; the client scans for 5 s, so it
# starts after that line (or once the peripheral has given up).
cat > "$dir/pair.sh" <<SCRIPT
"$peripheral" UART-Pair 1 hci1 > "$dir/peripheral.out" 2>&1 &
p=\$!
i=0
while ! grep -q '^advertising' "$dir/peripheral.out" && kill -0 \$p 2>/dev/null && [ \$i -lt 300 ]; do
  sleep 0.1; i=\$((i + 1))
done
"$client" UART-Pair 1 > "$dir/client.out" 2>&1
c=\$?
wait \$p
p=\$?
exit \$((c * 2 + p))
SCRIPT
"$sim" run --scenario "$scenario" -- sh "$dir/pair.sh"
status=$?
echo "--- uart-peripheral"; cat "$dir/peripheral.out"
echo "--- nus-client"; cat "$dir/client.out"
if [ "$status" -ne 0 ]; then
  echo "FAIL: exit status $status (client * 2 + peripheral)" >&2
  exit 1
fi
grep -qx 'received: hello from the central' "$dir/client.out" || { echo "FAIL: the client got no echo" >&2; exit 1; }
grep -qx 'echoed: hello from the central' "$dir/peripheral.out" || { echo "FAIL: the peripheral echoed nothing" >&2; exit 1; }
echo "ok: a line each way"
