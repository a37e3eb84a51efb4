# SPDX-License-Identifier: MIT
"""A CircuitPython BLE peripheral's advertising, unchanged: advertise the
Nordic UART Service's UUID with a name in the scan response, wait for a
central to connect, and for it to leave.

Serving the service itself needs a local GATT server (Service(uuid),
Characteristic.add_to_service()), which libbleio does not offer yet: those
raise NotImplementedError. A central that connects finds bluetoothd's own
services only.

`bleio-sim run --scenario tools/bleio-sim/scenarios/two-adapters.json --
python3 uart_advertiser.py` advertises on hci0 of the simulator, where a
central on hci1 can find and connect to it.
"""

import time

import _bleio

NUS_SERVICE = _bleio.UUID("6e400001-b5a3-f393-e0a9-e50e24dcca9e")
NAME = b"bleio-uart"

# Flags (general discoverable, LE only), then the complete list of 128-bit
# service UUIDs; the complete local name in the scan response.
packed = bytearray(16)
NUS_SERVICE.pack_into(packed)
ADVERTISEMENT = b"\x02\x01\x06" + bytes([17, 0x07]) + bytes(packed)
SCAN_RESPONSE = bytes([len(NAME) + 1, 0x09]) + NAME

adapter = _bleio.adapter
adapter.start_advertising(ADVERTISEMENT, scan_response=SCAN_RESPONSE)
print("advertising:", adapter.advertising, flush=True)
while not adapter.connected:
    time.sleep(0.05)
print("connected", flush=True)
while adapter.connected:
    time.sleep(0.05)
print("disconnected", flush=True)
