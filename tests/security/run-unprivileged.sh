#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# libbleio needs no root (issue 8 item 6; docs/security.md). Run as root
# (CI does): it creates the system user `bleiotest` (not in the bluetooth
# group) if missing, and as that user
#   1. configures, builds and runs a subset of the `sim` suite (scan,
#      connect, GATT, buffers, pairing, security, the examples) in a build
#      directory of its own, so nothing of it is done as root;
#   2. runs the seed example, bleioctl (scan, connect, discover, read,
#      notify, pair just works and with a passkey, encrypted reads) and
#      the NUS client (AcquireNotify and AcquireWrite descriptors) against
#      bleio-sim on a bus that enforces Debian 12's own system-bus policy:
#      /usr/share/dbus-1/system.conf with /etc/dbus-1/system.d (bluez's
#      bluetooth.conf), the simulator running as root like bluetoothd.
#      That the user may not own org.bluez there shows the policy is real.
# Usage: run-unprivileged.sh [SOURCE_DIR]   (default: this checkout)
# Takes about 4 minutes on 2 cores (the build is most of it; 6 minutes
# with the machine's cores busy with other builds).
set -euo pipefail

src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
user=bleiotest

if [ "$(id -u)" != 0 ]; then
  echo "run-unprivileged: must start as root (to create $user and the system-like bus)" >&2
  exit 2
fi
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
fi
if id -nG "$user" | tr ' ' '\n' | grep -qx bluetooth; then
  echo "run-unprivileged: $user is in the bluetooth group; the point is that it need not be" >&2
  exit 2
fi

work=$(mktemp -d /tmp/bleio-unprivileged.XXXXXX)
chmod 755 "$work"
chown "$user:" "$work"
pids=()
cleanup() {
  # The simulator first, then its bus.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# A clean environment with Debian's python3 (python3-gi) and meson first.
as_user() {
  runuser -u "$user" -- env -i HOME="$work" PATH=/usr/local/bin:/usr/bin:/bin \
    LC_ALL=C.UTF-8 "$@"
}

echo "== 1. build and the sim suite's core tests as $user ($(id "$user"))"
as_user meson setup "$work/build" "$src" -Dwarning_level=3 -Dwerror=true >/dev/null
as_user meson compile -C "$work/build" >/dev/null
as_user meson test -C "$work/build" --print-errorlogs --num-processes 2 \
  test-adapter test-scan test-connection test-gatt test-buffers test-pair \
  test-security test-gateway run-seed-blocking run-seed-async \
  run-heart-rate-monitor run-nus-client

echo "== 2. against bleio-sim under Debian's system-bus policy"
conf="$work/system.conf"
# The distribution's file, pointed at our socket, without the parts that
# are about being the machine's one system bus (user switch, fork, pid file).
sed -e "s|<listen>.*</listen>|<listen>unix:path=$work/system_bus_socket</listen>|" \
    -e '/<user>messagebus<\/user>/d' -e '/<fork\/>/d' -e '/<pidfile>/d' \
    /usr/share/dbus-1/system.conf >"$conf"
grep -q "<includedir>/etc/dbus-1/system.d</includedir>" "$conf"
grep -q 'policy context="default"' /etc/dbus-1/system.d/bluetooth.conf
dbus-daemon --config-file="$conf" --nofork --print-address=3 3>"$work/address" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/address" ] && break; sleep 0.1; done
address=$(head -n 1 "$work/address")
[ -n "$address" ] || { echo "run-unprivileged: the bus did not start" >&2; exit 1; }
# bluetoothd runs as root and owns org.bluez; so does its double.
wait_for_bluez() {
  for _ in $(seq 100); do
    dbus-send --bus="$address" --print-reply --dest=org.freedesktop.DBus / \
      org.freedesktop.DBus.NameHasOwner string:org.bluez 2>/dev/null | grep -q true && return
    sleep 0.1
  done
  echo "run-unprivileged: bleio-sim did not take org.bluez" >&2
  exit 1
}
"$work/build/tools/bleio-sim/bleio-sim" --address "$address" &
pids+=($!)
wait_for_bluez

bus_user() { as_user env DBUS_SYSTEM_BUS_ADDRESS="$address" "$@"; }
peer=00:AA:01:01:00:01
fail() { echo "not ok - $*"; exit 1; }

if bus_user dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
     org.freedesktop.DBus.RequestName string:org.bluez uint32:0 >/dev/null 2>&1; then
  fail "$user could own org.bluez: the bus is not enforcing the system policy"
fi
echo "ok - $user may not own org.bluez (the policy is enforced)"

out=$(bus_user "$work/build/examples/seed-blocking") || fail "seed-blocking: $out"
grep -q "found InterestingPeripheral" <<<"$out" || fail "seed-blocking: $out"
grep -q "0x180f" <<<"$out" || fail "seed-blocking listed no battery service: $out"
echo "ok - scan, connect, discover (seed-blocking)"

ctl="$work/build/tools/bleioctl/bleioctl"
out=$(bus_user "$ctl" --json read "$peer" 2a19) || fail "bleioctl read: $out"
grep -q '"value": *"62"' <<<"$out" || fail "bleioctl read: $out"
echo "ok - read the battery level (62)"

out=$(bus_user "$ctl" --json notify "$peer" 2a37 --count 2) || fail "bleioctl notify: $out"
[ "$(grep -c '"value"' <<<"$out")" = 2 ] || fail "bleioctl notify: $out"
echo "ok - two heart-rate notifications (Value signals)"

out=$(bus_user "$ctl" pair "$peer" 2>&1) || fail "bleioctl pair: $out"
echo "ok - paired (just works)"

# SmartLock displays a passkey: the simulator, as root like bluetoothd,
# calls RequestPasskey on the agent of $user's connection.
lock=D4:11:22:33:44:05
status=0
out=$(bus_user "$ctl" pair "$lock" --passkey 111111 2>&1) || status=$?
[ "$status" = 6 ] || fail "a wrong passkey: exit $status (wanted 6, security): $out"
echo "ok - a wrong passkey fails as a security error"
out=$(bus_user "$ctl" pair "$lock" --passkey 246810 2>&1) || fail "passkey pairing: $out"
out=$(bus_user "$ctl" --json read "$lock" fff1) || fail "SmartLock encrypted read: $out"
grep -q '"value": *"00"' <<<"$out" || fail "SmartLock encrypted read: $out"
echo "ok - passkey entry through $user's agent, then an encrypted read"

out=$(bus_user "$ctl" --json read "$peer" 12345678-1234-5678-1234-56789abcdef5) ||
  fail "encrypted read: $out"
grep -q '"value": *"736563726574"' <<<"$out" || fail "encrypted read: $out"
echo "ok - encrypted read after pairing"
# File descriptors across the policy: the NUS client's PacketBuffers use
# AcquireNotify and AcquireWrite; the simulator restarts on its scenario.
kill "${pids[1]}"
wait "${pids[1]}" 2>/dev/null || true
"$work/build/tools/bleio-sim/bleio-sim" --address "$address" \
  --scenario "$src/tests/sim/scenarios/nus.json" &
pids[1]=$!
wait_for_bluez
out=$(bus_user env G_MESSAGES_DEBUG=all "$work/build/examples/nus-client" NUS-Echo 3 2>&1) ||
  fail "nus-client: $out"
grep -q "^received: hello from nus" <<<"$out" || fail "nus-client: $out"
if grep -q "Acquire[A-Za-z]* on .* refused" <<<"$out"; then
  fail "a descriptor was refused under the policy: $(grep refused <<<"$out")"
fi
# The simulator's record of the calls it answered.
calls=$(dbus-send --bus="$address" --print-reply --dest=org.bluez /org/bleio/sim \
          org.bleio.Sim1.GetCalls)
for method in AcquireNotify AcquireWrite; do
  grep -q "\"$method\"" <<<"$calls" || fail "nus-client did not call $method: $calls"
done
echo "ok - PacketBuffer in and out through AcquireNotify and AcquireWrite descriptors"
echo "run-unprivileged: all passed as $user"
