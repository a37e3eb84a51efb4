# SPDX-License-Identifier: MIT
"""A CircuitPython BLE peripheral, unchanged: serve the Nordic UART Service
as adafruit_ble's UARTService lays it out (RX 6e400002: the central writes;
TX 6e400003: we notify), advertise its UUID with a name in the scan
response, echo every line a central writes back in capitals, and stop when
the central leaves.

`bleio-sim run --scenario tools/bleio-sim/scenarios/two-adapters.json --
python3 uart_advertiser.py` serves on hci0 of the simulator, where a
central on hci1 can find, connect to and talk to it.
"""

import time

import _bleio

NUS_SERVICE = _bleio.UUID("6e400001-b5a3-f393-e0a9-e50e24dcca9e")
NUS_RX = _bleio.UUID("6e400002-b5a3-f393-e0a9-e50e24dcca9e")
NUS_TX = _bleio.UUID("6e400003-b5a3-f393-e0a9-e50e24dcca9e")
NAME = b"bleio-uart"

# The service on _bleio.adapter: adafruit_ble's StreamOut (TX) and StreamIn
# (RX), 64 bytes each.
service = _bleio.Service(NUS_SERVICE)
tx = _bleio.Characteristic.add_to_service(
    service, NUS_TX, properties=_bleio.Characteristic.NOTIFY,
    read_perm=_bleio.Attribute.OPEN, write_perm=_bleio.Attribute.OPEN, max_length=64)
rx = _bleio.Characteristic.add_to_service(
    service, NUS_RX,
    properties=_bleio.Characteristic.WRITE | _bleio.Characteristic.WRITE_NO_RESPONSE,
    read_perm=_bleio.Attribute.OPEN, write_perm=_bleio.Attribute.OPEN, max_length=64)
incoming = _bleio.CharacteristicBuffer(rx, timeout=0.1, buffer_size=64)

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
line = b""
while adapter.connected:
    line += incoming.readline()
    if line.endswith(b"\n"):
        reply = line.upper()
        # 20 bytes per notification, as adafruit_ble's BoundWriteStream.
        for offset in range(0, len(reply), 20):
            tx.value = reply[offset:offset + 20]
        line = b""
print("disconnected", flush=True)
