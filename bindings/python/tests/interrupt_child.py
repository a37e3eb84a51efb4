# SPDX-License-Identifier: MIT
"""Child of test_interrupt.py: blocks in one call until SIGINT, then shows
what state the interrupted call left.
Usage: interrupt_child.py scan|connect|read|bufread|bufline|advertise"""

import sys

import _bleio
from conftest import INTERESTING, address, find, sim

mode = sys.argv[1]
adapter = _bleio.adapter
connection = None
try:
    if mode == "scan":
        # A prefix nothing advertises and no timeout: blocks until stopped.
        print("blocking", flush=True)
        for entry in adapter.start_scan(bytes([4, 0x09]) + b"Zzz"):
            print("unexpected entry", entry, flush=True)
    elif mode == "connect":
        print("blocking", flush=True)
        # Nobody advertises this address; an hour is far beyond any test.
        adapter.connect(address("00:AA:0F:0F:0F:0F"), timeout=3600)
    elif mode == "read":
        connection = adapter.connect(address(INTERESTING), timeout=10)
        battery = find(connection.discover_remote_services(), 0x2A19)
        sim("NoReplyNext", "ReadValue", 1)
        print("blocking", flush=True)
        battery.value
    elif mode == "bufread":
        connection = adapter.connect(address(INTERESTING), timeout=10)
        services = connection.discover_remote_services()
        # Not subscribed: nothing ever arrives, and the timeout is an hour.
        buf = _bleio.CharacteristicBuffer(find(services, 0x2A37), timeout=3600)
        print("blocking", flush=True)
        find(services, 0x2A29).value  # the marker the parent waits for
        buf.read(100)
    elif mode == "bufline":
        connection = adapter.connect(address(INTERESTING), timeout=10)
        services = connection.discover_remote_services()
        battery = find(services, 0x2A19)  # notifies only when told to
        buf = _bleio.CharacteristicBuffer(battery, timeout=3600)
        battery.set_cccd(notify=True)
        print("blocking", flush=True)
        find(services, 0x2A29).value  # the marker the parent waits for
        # The parent sends bytes without a newline: the line never ends.
        buf.readline()
    elif mode == "advertise":
        # bluetoothd never answers this registration.
        sim("NoReplyNext", "RegisterAdvertisement", 1)
        print("blocking", flush=True)
        adapter.start_advertising(b"\x02\x01\x06")
    print("not interrupted", flush=True)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)

# Nothing half-done: the same work can be done again at once.
if mode == "scan":
    results = adapter.start_scan(timeout=0.2)
    list(results)
    print("scan again: ok", flush=True)
elif mode == "connect":
    print("connections:", len(adapter.connections), flush=True)
    conn = adapter.connect(address(INTERESTING), timeout=10)
    print("connect again:", conn.connected, flush=True)
    conn.disconnect()
elif mode == "read":
    print("still connected:", connection.connected, flush=True)
    print("read other:", find(connection.discover_remote_services(), 0x2A29).value, flush=True)
    connection.disconnect()
elif mode == "bufread":
    print("in_waiting:", buf.in_waiting, flush=True)
    buf.deinit()
    print("still connected:", connection.connected, flush=True)
    connection.disconnect()
elif mode == "bufline":
    # The bytes the interrupted readline() had taken are not lost.
    waiting = buf.in_waiting
    print("in_waiting:", waiting, flush=True)
    if waiting == 6:
        print("read:", buf.read(6), flush=True)
    buf.deinit()
    connection.disconnect()
elif mode == "advertise":
    print("advertising:", adapter.advertising, flush=True)
    adapter.start_advertising(b"\x02\x01\x06")
    print("advertise again:", adapter.advertising, flush=True)
    adapter.stop_advertising()
