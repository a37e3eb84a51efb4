#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Both roles through _bleio in one plain script: hci1 serves a UART
service laid out as adafruit_ble's UARTService and advertises, hci0 scans,
finds the bytes and connects, the link shows up in hci1's
Adapter.connections, and hci0 writes RX and hears TX's notifications. It runs in the e2e guest against real bluetoothd (its
name begins with test-peripheral-, so init.sh starts no test peripheral)
and under `bleio-sim run --scenario two-adapters.json`. Exit status 0 when
all held."""

import os
import sys
import time

import _bleio

# Flags, then manufacturer data of company 0x0059; the name in the scan
# response.
ADVERTISEMENT = b"\x02\x01\x06" + b"\x07\xff\x59\x00\xb1\xe0\x00\x18"
SCAN_RESPONSE = b"\x0a\x09PyBleioAd"
UART_SERVICE = _bleio.UUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E")
UART_RX = _bleio.UUID("6E400002-B5A3-F393-E0A9-E50E24DCCA9E")
UART_TX = _bleio.UUID("6E400003-B5A3-F393-E0A9-E50E24DCCA9E")
MANUFACTURER_PREFIX = b"\x03\xff\x59\x00"
failures = []


def check(what, condition, detail=""):
    print("%s: %s%s" % ("ok" if condition else "FAIL", what,
                        "" if condition else " (%s)" % detail), flush=True)
    if not condition:
        failures.append(what)


def wait_for(condition):
    # Turns a hang into a failure; asserts nothing about speed.
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


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

def serve_uart(peripheral):
    """adafruit_ble's UARTService as the server makes it, on hci1: the
    module's Service() goes to _bleio.adapter, as on a board."""
    central = _bleio.adapter
    _bleio.set_adapter(peripheral)
    try:
        service = _bleio.Service(UART_SERVICE)
    finally:
        _bleio.set_adapter(central)
    tx = _bleio.Characteristic.add_to_service(
        service, UART_TX, properties=_bleio.Characteristic.NOTIFY, max_length=64)
    rx = _bleio.Characteristic.add_to_service(
        service, UART_RX,
        properties=_bleio.Characteristic.WRITE | _bleio.Characteristic.WRITE_NO_RESPONSE,
        max_length=64)
    return tx, _bleio.CharacteristicBuffer(rx, timeout=1.0, buffer_size=64)


def talk_to_uart(link, tx, rx_buffer):
    """hci0, the client, writes the server's RX and hears its TX."""
    services = link.discover_remote_services([UART_SERVICE])
    check("hci0 finds hci1's UART service", [s.uuid for s in services] == [UART_SERVICE],
          services)
    if not services:
        return
    chars = {c.uuid: c for c in services[0].characteristics}
    check("RX and TX with their properties",
          chars.get(UART_TX) is not None and chars.get(UART_RX) is not None and
          chars[UART_TX].properties == _bleio.Characteristic.NOTIFY, chars)
    if UART_TX not in chars or UART_RX not in chars:
        return
    chars[UART_RX].value = b"hello, server\n"
    line = b""
    deadline = time.monotonic() + 30
    while not line.endswith(b"\n") and time.monotonic() < deadline:
        line += rx_buffer.readline()
    check("the server reads the client's line", line == b"hello, server\n", line)
    chars[UART_TX].set_cccd(notify=True)
    incoming = _bleio.CharacteristicBuffer(chars[UART_TX], timeout=1.0, buffer_size=256)

    # The subscription reaches the server a moment after set_cccd()
    # returned: send until the first notification is heard.
    def heard():
        tx.value = b"."
        time.sleep(0.1)
        return incoming.in_waiting > 0

    check("a notification reaches the client", wait_for(heard))
    tx.value = b"\n"
    message = b"0123456789" * 3 + b" from the server\n"
    for offset in range(0, len(message), 20):
        tx.value = message[offset:offset + 20]
    got = b""
    deadline = time.monotonic() + 30
    while not got.endswith(message) and time.monotonic() < deadline:
        got += incoming.readline()
    check("the server's notifications in order", got.endswith(message), got)
    incoming.deinit()


def main():
    central = _bleio.adapter
    peripheral = _bleio.Adapter("hci1")
    check("two adapters", central is not None and central.address != peripheral.address)
    tx, rx_buffer = serve_uart(peripheral)

    peripheral.start_advertising(ADVERTISEMENT, scan_response=SCAN_RESPONSE)
    check("advertising", peripheral.advertising)
    found = None
    for entry in central.start_scan(MANUFACTURER_PREFIX, timeout=30):
        if entry.address == peripheral.address:
            found = entry
            central.stop_scan()
            break
    check("hci0 hears hci1's advertisement", found is not None)
    if found is None:
        return
    check("the manufacturer data as given", b"\x07\xff\x59\x00\xb1\xe0\x00\x18"
          in found.advertisement_bytes, found.advertisement_bytes.hex())

    link = connect(central, found.address)
    check("hci0 connected", link.connected)
    check("the link in hci1's connections", wait_for(lambda: len(peripheral.connections) == 1),
          peripheral.connections)
    if peripheral.connections:
        incoming = peripheral.connections[0]
        check("the same Connection object each time", incoming is peripheral.connections[0])
        check("hci1 connected", peripheral.connected and incoming.connected)
        check("a central connecting ended the advertisement",
              wait_for(lambda: not peripheral.advertising))
    talk_to_uart(link, tx, rx_buffer)
    link.disconnect()
    check("the link gone on hci1's side", wait_for(lambda: not peripheral.connected),
          peripheral.connections)
    try:
        peripheral.start_advertising(ADVERTISEMENT, anonymous=True)
        check("anonymous raises NotImplementedError", False, "no exception")
    except NotImplementedError:
        check("anonymous raises NotImplementedError", True)
    peripheral.start_advertising(ADVERTISEMENT)
    peripheral.stop_advertising()
    check("advertise and stop again", not peripheral.advertising)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - reported as a failure, with its type
        check("no unexpected exception", False, "%s: %s" % (type(e).__name__, e))
    print("%s, %d failed" % ("PASS" if not failures else "FAIL", len(failures)), flush=True)
    sys.exit(1 if failures else 0)
