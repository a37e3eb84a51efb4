#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The bleak side of bench-scan, bench-notify and bench-connect.

usage: bleak-bench.py scan SIM_NAME DEVICES ROUNDS
       bleak-bench.py notify SIM_NAME DEVICE_PATH CHAR_PATH CHAR_UUID LEN COUNT
       bleak-bench.py connect DEVICE_PATH EXPECTED

The C benchmark starts this program once per measurement with
DBUS_SYSTEM_BUS_ADDRESS pointing at its private bus, where bleio-sim owns
org.bluez, and with Debian's python3 (python3-bleak is a Debian package,
not a pip one). It does the same work as the libbleio and raw GDBus sides,
starts the simulator's Flood or NotifyBurst itself through org.bleio.Sim1
(SIM_NAME is the simulator's unique bus name) so that the clock starts at
the request as in the C sides, and prints one line:

    result SECONDS CPU_SECONDS COUNT

SECONDS is the wall time of the measured part, CPU_SECONDS what this
process used meanwhile (getrusage RUSAGE_SELF: user + system time of all
its threads), COUNT the operations done. Anything else (setup, Python's
start-up, bleak's first GetManagedObjects) is outside the clock. Exit
status 3 means bleak cannot be imported; the C side then prints no bleak
figure.
"""

import asyncio
import os
import resource
import sys
import time

try:
    from bleak import BleakClient, BleakScanner
    from bleak.backends.bluezdbus.manager import get_global_bluez_manager
    from bleak.backends.device import BLEDevice
    from dbus_fast import BusType, Message, MessageType
    from dbus_fast.aio import MessageBus
except ImportError as e:  # the C side says what to install
    print("bleak-bench: %s" % e, file=sys.stderr)
    sys.exit(3)

SIM_PATH = "/org/bleio/sim"
SIM_IFACE = "org.bleio.Sim1"
WAIT = 120  # bound on any wait, never a measured duration


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def sim_call(bus, sim_name, member, signature, body):
    reply = await bus.call(Message(destination=sim_name, path=SIM_PATH, interface=SIM_IFACE,
                                   member=member, signature=signature, body=body))
    if reply.message_type == MessageType.ERROR:
        raise RuntimeError("%s.%s: %s %s" % (SIM_IFACE, member, reply.error_name, reply.body))


def device_for(path):
    # A BLEDevice made from the object path, so that BleakClient does not
    # scan for a device BlueZ already knows (the C sides do not scan either).
    address = path.rsplit("/dev_", 1)[1].replace("_", ":")
    return BLEDevice(address, None, {"path": path, "props": {}}, -127)


async def scan(sim_name, devices, rounds):
    expected = devices * rounds
    seen = 0
    nbytes = 0
    done = asyncio.Event()

    def on_advertisement(device, adv):
        nonlocal seen, nbytes
        data = adv.manufacturer_data.get(0xFFFF)
        if data is None:
            return
        nbytes += len(data)
        seen += 1
        if seen >= expected:
            done.set()

    control = await MessageBus(bus_type=BusType.SYSTEM).connect()
    scanner = BleakScanner(detection_callback=on_advertisement, scanning_mode="active",
                           bluez={"filters": {"DuplicateData": True}})
    await scanner.start()
    t0, c0 = time.monotonic(), cpu()
    await sim_call(control, sim_name, "Flood", "suu", ["hci0", devices, rounds])
    await asyncio.wait_for(done.wait(), WAIT)
    t1, c1 = time.monotonic(), cpu()
    await scanner.stop()
    control.disconnect()
    if nbytes == 0:
        raise RuntimeError("no manufacturer data seen")
    return t1 - t0, c1 - c0, expected


async def notify(sim_name, device_path, char_path, char_uuid, length, count):
    payload = bytes((i + 4 * 7) & 0xFF for i in range(length))
    received = 0
    done = asyncio.Event()

    def on_value(_char, data):
        nonlocal received
        if len(data) == length and data[0] == payload[0]:
            received += 1
            if received >= count:
                done.set()

    control = await MessageBus(bus_type=BusType.SYSTEM).connect()
    await get_global_bluez_manager()
    client = BleakClient(device_for(device_path))
    await client.connect()
    char = client.services.get_characteristic(char_uuid)
    if char is None or char.path != char_path:
        raise RuntimeError("characteristic %s is not at %s" % (char_uuid, char_path))
    await client.start_notify(char, on_value)
    t0, c0 = time.monotonic(), cpu()
    await sim_call(control, sim_name, "NotifyBurst", "oayu", [char_path, payload, count])
    await asyncio.wait_for(done.wait(), WAIT)
    t1, c1 = time.monotonic(), cpu()
    await client.stop_notify(char)
    control.disconnect()
    return t1 - t0, c1 - c0, count


async def connect(device_path, expected):
    # bleak's first use in a process reads every object BlueZ has; the
    # library's adapter does the same before its clock starts.
    await get_global_bluez_manager()
    client = BleakClient(device_for(device_path))
    t0, c0 = time.monotonic(), cpu()
    await client.connect(timeout=WAIT)
    found = 0
    for service in client.services:
        found += 1
        for char in service.characteristics:
            found += 1 + len(char.descriptors)
    t1, c1 = time.monotonic(), cpu()
    # The benchmark drops the link through the simulator, as for the others.
    if found != expected:
        raise RuntimeError("%d GATT objects, expected %d" % (found, expected))
    return t1 - t0, c1 - c0, 1


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    what, args = argv[1], argv[2:]
    if what == "scan" and len(args) == 3:
        job = scan(args[0], int(args[1]), int(args[2]))
    elif what == "notify" and len(args) == 6:
        job = notify(args[0], args[1], args[2], args[3], int(args[4]), int(args[5]))
    elif what == "connect" and len(args) == 2:
        job = connect(args[0], int(args[1]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    loop = asyncio.new_event_loop()
    seconds, cpu_seconds, count = loop.run_until_complete(job)
    print("result %.9f %.9f %d" % (seconds, cpu_seconds, count), flush=True)
    # Leave without running bleak's clean-up: when its tasks are cancelled
    # at the end of a loop it sends Device1.Disconnect, and the link
    # belongs to the benchmark (which keeps it up, or drops it through the
    # simulator as for the other sides).
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
