# SPDX-License-Identifier: MIT
"""A CircuitPython BLE central, unchanged: find InterestingPeripheral by the
name in its advertisement, read its battery level and three heart-rate
notifications.

The same file runs on a CircuitPython board with BLE and, through libbleio's
`_bleio`, on Linux (`bleio-sim run -- python3 central_heart_rate.py` runs it
against the simulator's demo peripheral).
"""

import _bleio

NAME = b"InterestingPeripheral"
BATTERY_LEVEL = _bleio.UUID(0x2A19)
HEART_RATE_MEASUREMENT = _bleio.UUID(0x2A37)


def complete_name(advertisement):
    # AD structures: [length][type][data...]; 0x09 is the complete local name.
    i = 0
    while i + 1 < len(advertisement):
        length = advertisement[i]
        if length == 0:
            break
        if advertisement[i + 1] == 0x09:
            return advertisement[i + 2:i + 1 + length]
        i += 1 + length
    return None


def find_peripheral(adapter):
    for entry in adapter.start_scan(timeout=10, minimum_rssi=-90):
        if complete_name(entry.advertisement_bytes) == NAME:
            adapter.stop_scan()
            return entry
    return None


def find_characteristic(services, uuid):
    for service in services:
        for characteristic in service.characteristics:
            if characteristic.uuid == uuid:
                return characteristic
    return None


adapter = _bleio.adapter
entry = find_peripheral(adapter)
if entry is None:
    raise RuntimeError("InterestingPeripheral not found")
print("found", NAME.decode(), "at", entry.address)

connection = adapter.connect(entry.address, timeout=10)
print("connected:", connection.connected)
services = connection.discover_remote_services()

battery = find_characteristic(services, BATTERY_LEVEL)
print("battery level:", battery.value[0], "%")

heart_rate = find_characteristic(services, HEART_RATE_MEASUREMENT)
heart_rate.set_cccd(notify=True)
measurements = _bleio.CharacteristicBuffer(heart_rate, timeout=5, buffer_size=64)
for _ in range(3):
    data = measurements.read(2)
    # Flags byte, then the rate as one byte when bit 0 of the flags is clear.
    print("heart rate:", data[1], "bpm")
measurements.deinit()

connection.disconnect()
print("disconnected:", not connection.connected)
