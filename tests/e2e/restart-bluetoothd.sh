#!/bin/sh
# Installed in the e2e guest as /bin/e2e-restart-bluetoothd; tests find it
# through $BLEIO_TEST_RESTART_BLUEZ.
#
#   e2e-restart-bluetoothd        stop bluetoothd if it runs, start a new one,
#                                 return once both adapters are on the bus
#   e2e-restart-bluetoothd stop   only stop it
#   e2e-restart-bluetoothd kill   SIGKILL it (a crash: it closes nothing
#                                 itself), then start a new one
pidfile=/run/e2e/bluetoothd.pid

# A zombie still has /proc/PID: look at its state too.
alive() {
  [ -e "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

pid=$(cat "$pidfile" 2>/dev/null)
if [ -n "$pid" ] && alive "$pid" && [ "${1:-}" = kill ]; then
  kill -9 "$pid"
  tries=50
  while [ "$tries" -gt 0 ] && alive "$pid"; do
    tries=$((tries - 1))
    sleep 0.1
  done
elif [ -n "$pid" ] && alive "$pid"; then
  kill "$pid"
  tries=50
  while [ "$tries" -gt 0 ] && alive "$pid"; do
    tries=$((tries - 1))
    sleep 0.1
  done
  alive "$pid" && kill -9 "$pid"
fi
rm -f "$pidfile"
[ "${1:-}" = stop ] && exit 0

# -E: experimental interfaces (Adapter1.ConnectDevice). -P vcp,mcp: the LE
# audio plugins make the peripheral side (the same bluetoothd) offer Volume
# Control and Media Control services, and the central side's clients for
# them read each other in a loop that kept Device1.Connect from answering;
# the demo peripheral has no such services.
#
# The configuration: [GATT] Channels from $BLEIO_E2E_GATT_CHANNELS (default
# 3, bluetoothd's own default; 1 turns EATT off).
# $BLEIO_E2E_BLUETOOTHD_ARGS adds options (-d for debug logs).
conf=/run/e2e-main.conf
printf '[GATT]\nChannels = %s\n' "${BLEIO_E2E_GATT_CHANNELS:-3}" > "$conf"
# shellcheck disable=SC2086
/usr/libexec/bluetooth/bluetoothd -n -E -P vcp,mcp -f "$conf" \
  ${BLEIO_E2E_BLUETOOTHD_ARGS:-} >> /tmp/bluetoothd.log 2>&1 &
echo $! > "$pidfile"
# Ready means both adapters are exported on the bus (a test-only helper from
# the appended cpio: busybox has no D-Bus client).
exec /e2e/bin/bleio-e2e-wait-bluez
