# SPDX-License-Identifier: MIT
"""A CircuitPython BLE central for the Nordic UART Service, unchanged: find
a peripheral that advertises the service's UUID, send a line to RX, read
lines from TX.

`bleio-sim run --scenario tests/sim/scenarios/nus.json -- python3 uart_client.py`
runs it against the simulator's NUS-Echo peripheral.
"""

import _bleio

NUS_SERVICE = _bleio.UUID("6e400001-b5a3-f393-e0a9-e50e24dcca9e")
NUS_RX = _bleio.UUID("6e400002-b5a3-f393-e0a9-e50e24dcca9e")
NUS_TX = _bleio.UUID("6e400003-b5a3-f393-e0a9-e50e24dcca9e")

# An AD structure listing the service's 128-bit UUID: [17][0x07][16 bytes].
packed = bytearray(16)
NUS_SERVICE.pack_into(packed)
PREFIX = bytes([17, 0x07]) + bytes(packed)

adapter = _bleio.adapter
entry = None
for entry in adapter.start_scan(PREFIX, timeout=10):
    break
adapter.stop_scan()
if entry is None:
    raise RuntimeError("no Nordic UART Service peripheral found")
print("found a UART peripheral at", entry.address)

connection = adapter.connect(entry.address, timeout=10)
(service,) = connection.discover_remote_services([NUS_SERVICE])
chars = {c.uuid: c for c in service.characteristics}
rx, tx = chars[NUS_RX], chars[NUS_TX]

tx.set_cccd(notify=True)
uart = _bleio.CharacteristicBuffer(tx, timeout=5, buffer_size=256)
rx.value = b"hello\n"
for _ in range(3):
    print("received:", uart.readline().decode().rstrip())
uart.deinit()
connection.disconnect()
