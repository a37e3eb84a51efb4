#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The central role through _bleio as CircuitPython programs use it, in one
plain script (no pytest: the e2e guest carries Python's standard library
and nothing else). It runs in the e2e guest against real bluetoothd and the
test peripheral (tests/e2e/peripheral.c), and under `bleio-sim run` against
the demo scenario's InterestingPeripheral, which holds the same values.

Scan for the name in ScanEntry.advertisement_bytes, connect with a timeout,
discover_remote_services() with a UUID list and without, read the battery
level, the custom "Hello" characteristic and a 0x2901 descriptor, write and
read back, three heart-rate notifications through a CharacteristicBuffer,
four counter notifications through a PacketBuffer, disconnect, and the
ConnectionError a spent connection raises. Exit status 0 when all held."""

import os
import sys
import time

import _bleio

NAME = b"InterestingPeripheral"
CUSTOM = "12345678-1234-5678-1234-56789abcdef"
failures = []


def check(what, condition, detail=""):
    print("%s: %s%s" % ("ok" if condition else "FAIL", what,
                        "" if condition else " (%s)" % detail), flush=True)
    if not condition:
        failures.append(what)


def find(services, uuid):
    return [c for s in services for c in s.characteristics if c.uuid == uuid]


def scan_by_name(adapter):
    prefix = bytes([len(NAME) + 1, 0x09]) + NAME
    for entry in adapter.start_scan(timeout=30):
        if entry.matches(prefix, match_all=True):
            adapter.stop_scan()
            return entry
    return None


def connect(adapter, address):
    """adapter.connect(), tried again in the e2e guest: bluetoothd under TCG
    sometimes leaves a Device1.Connect unanswered (tests/e2e/README.md), as
    the C tests' e2e_connect() knows."""
    attempts = 3 if os.environ.get("BLEIO_TEST_TARGET") == "e2e" else 1
    for attempt in range(1, attempts + 1):
        try:
            return adapter.connect(address, timeout=10)
        except _bleio.BluetoothError as e:
            if attempt == attempts or "timeout" not in str(e):
                raise
            print("connect attempt %d of %d: %s; trying again" % (attempt, attempts, e),
                  flush=True)
    return None

def main():
    adapter = _bleio.adapter
    check("a default adapter", adapter is not None)
    if adapter is None:
        return
    entry = scan_by_name(adapter)
    check("InterestingPeripheral heard by its name", entry is not None)
    if entry is None:
        return
    connection = connect(adapter, entry.address)
    check("connected", connection.connected)
    check("the same Connection in adapter.connections",
          any(c is connection for c in adapter.connections))

    battery_service = connection.discover_remote_services([_bleio.UUID(0x180F)])
    check("discover with a UUID list gives that service alone",
          [s.uuid for s in battery_service] == [_bleio.UUID(0x180F)],
          [s.uuid for s in battery_service])
    services = connection.discover_remote_services()
    uuids = [s.uuid for s in services]
    for wanted in (0x180D, 0x180F, 0x180A):
        check("service %04x discovered" % wanted, _bleio.UUID(wanted) in uuids, uuids)

    battery = find(services, _bleio.UUID(0x2A19))[0]
    check("battery level 98", battery.value == b"\x62", battery.value)
    hello = find(services, _bleio.UUID(CUSTOM + "1"))[0]
    check("custom read gives Hello", hello.value == b"Hello", hello.value)
    user = [d for d in hello.descriptors if d.uuid == _bleio.UUID(0x2901)]
    check("0x2901 descriptor reads 'Read me'", user and user[0].value == b"Read me",
          [d.value for d in user])

    writable = find(services, _bleio.UUID(CUSTOM + "2"))[0]
    writable.value = b"\x2a"
    check("write then read back", writable.value == b"\x2a", writable.value)

    heart_rate = find(services, _bleio.UUID(0x2A37))[0]
    measurements = _bleio.CharacteristicBuffer(heart_rate, timeout=10, buffer_size=64)
    rates = []
    for _ in range(3):
        data = measurements.read(2)
        if data is None or len(data) != 2:
            break
        rates.append(data[1])
    measurements.deinit()
    cycle = [72, 74, 76, 80, 78]
    check("three heart-rate notifications in the peripheral's order",
          len(rates) == 3 and rates[0] in cycle and
          rates == [cycle[(cycle.index(rates[0]) + i) % 5] for i in range(3)], rates)

    counter = find(services, _bleio.UUID(CUSTOM + "4"))[0]
    packets = _bleio.PacketBuffer(counter, buffer_size=8)
    got = []
    buf = bytearray(packets.incoming_packet_length)
    deadline = time.monotonic() + 30  # turns a hang into a failure only
    while len(got) < 4 and time.monotonic() < deadline:
        n = packets.readinto(buf)
        if n:
            got.append(bytes(buf[:n]))
        else:
            time.sleep(0.02)
    packets.deinit()
    values = [p[0] for p in got]
    check("four counter notifications through a PacketBuffer, one byte each",
          len(got) == 4 and all(len(p) == 1 for p in got) and
          all(b == (values[0] + i) % 4 for i, b in enumerate(values)), got)

    connection.disconnect()
    check("disconnected", not connection.connected)
    try:
        battery.value
        check("a spent connection raises ConnectionError", False, "no exception")
    except _bleio.ConnectionError:
        check("a spent connection raises ConnectionError", True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - reported as a failure, with its type
        check("no unexpected exception", False, "%s: %s" % (type(e).__name__, e))
    print("%s, %d failed" % ("PASS" if not failures else "FAIL", len(failures)), flush=True)
    sys.exit(1 if failures else 0)
