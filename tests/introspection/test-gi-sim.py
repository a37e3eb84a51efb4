#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""libbleio from Python through GObject Introspection, against bleio-sim.

Usage: bleio-sim run -- test-gi-sim.py DEMO_SCENARIO

The seed task written in Python: scan for InterestingPeripheral, connect,
discover its services, read the Battery Level (0x2A19) and compare it with
the value the demo scenario gives; then a notification through a
CharacteristicBuffer, the disconnect, and a passkey pairing answered by a
Python callback. bleio-sim run points
DBUS_SYSTEM_BUS_ADDRESS at its private bus, so Bleio.Adapter.get_default()
finds the simulator. Prints TAP.
"""

import json
import sys

import gi
gi.require_version("GLib", "2.0")
gi.require_version("Gio", "2.0")
gi.require_version("Bleio", "0.1")
from gi.repository import Bleio, Gio, GLib  # noqa: E402

WANTED = "InterestingPeripheral"
demo = json.load(open(sys.argv[1]))


def scenario_value(uuid):
    """The hex value the demo scenario gives characteristic @uuid of WANTED."""
    for p in demo["peripherals"]:
        if p.get("name") != WANTED:
            continue
        for service in p["gatt"]:
            for c in service["characteristics"]:
                if c["uuid"] == uuid:
                    return bytes.fromhex(c["value"].replace(" ", ""))
    raise KeyError(uuid)


def demo_peripheral(name):
    return next(p for p in demo["peripherals"] if p.get("name") == name)


steps = []
state = {}


def step(name):
    def wrap(fn):
        steps.append((name, fn))
        return fn
    return wrap


@step("Adapter.get_default finds the simulator's hci0")
def _():
    adapter = Bleio.Adapter.get_default(None)
    assert adapter.get_object_path() == "/org/bluez/hci0", adapter.get_object_path()
    assert adapter.get_enabled()
    state["adapter"] = adapter


@step(f"start_scan finds {WANTED}")
def _():
    adapter = state["adapter"]
    results = adapter.start_scan(None, 4096, False, 20.0, 0.1, 0.1, -127, True)
    found = None
    while found is None:
        try:
            entry = results.next(1.0)
        except GLib.Error as e:
            if e.matches(Bleio.error_quark(), int(Bleio.Error.TIMEOUT)):
                continue
            raise
        if entry is None:
            break  # the scan's own timeout ended it
        if entry.dup_complete_name() == WANTED:
            found = entry.get_address()
            assert entry.get_connectable()
            assert -127 <= entry.get_rssi() <= 20
    adapter.stop_scan()
    assert found is not None, f"{WANTED} not seen within 20 s"
    assert found.to_bluez_string() == "00:AA:01:01:00:01", found.to_bluez_string()
    state["address"] = found


@step("connect with a 10 s timeout")
def _():
    connection = state["adapter"].connect(state["address"], 10.0, None)
    assert connection.get_connected()
    state["connection"] = connection


@step("discover_remote_services lists Battery (0x180F) with 0x2A19")
def _():
    services = state["connection"].discover_remote_services(None, 10.0)
    uuids = [s.get_uuid().to_string() for s in services]
    assert "0x180f" in uuids and "0x180d" in uuids, uuids
    battery = services[uuids.index("0x180f")]
    chars = battery.dup_characteristics()
    level = [c for c in chars if c.get_uuid().get_size() == 16
             and c.get_uuid().get_uuid16() == 0x2A19]
    assert len(level) == 1, [c.get_uuid().to_string() for c in chars]
    props = level[0].get_properties()
    assert props & Bleio.CharacteristicProperties.READ
    assert props & Bleio.CharacteristicProperties.NOTIFY
    state["level"] = level[0]


@step("read_value of the Battery Level equals the scenario's value")
def _():
    value = state["level"].read_value()
    want = scenario_value("2a19")
    assert bytes(value.get_data()) == want, (bytes(value.get_data()), want)
    assert want == b"\x62"  # 98 %, as demo.json says


@step("a notification through CharacteristicBuffer.read()")
def _():
    level = state["level"]
    buffer = Bleio.CharacteristicBuffer.new(level, 5.0, 64)
    # Ask the simulator's control interface for one notification.
    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    bus.call_sync("org.bluez", "/org/bleio/sim", "org.bleio.Sim1", "Notify",
                  GLib.Variant("(oay)", (level.get_object_path(), b"\x2a")),
                  None, Gio.DBusCallFlags.NONE, 10000, None)
    # readinto() is C-only (skip): bindings read into new bytes.
    data = buffer.read(0)  # 0: whatever arrived, once something has
    assert bytes(data.get_data()) == b"\x2a", bytes(data.get_data())
    assert not hasattr(buffer, "readinto")
    buffer.deinit()


@step("disconnect")
def _():
    connection = state["connection"]
    connection.disconnect()
    assert not connection.get_connected()


@step("passkey pairing with a Python callback (set_passkey_request_func)")
def _():
    adapter = state["adapter"]
    lock = demo_peripheral("SmartLock")
    asked = []

    def request(peer):
        # Runs on libbleio's worker thread; returns (answered, passkey).
        asked.append(peer.to_bluez_string())
        return True, lock["pairing"]["passkey"]

    adapter.set_passkey_request_func(request)
    results = adapter.start_scan(None, 4096, False, 20.0, 0.1, 0.1, -127, True)
    address = None
    while address is None:
        entry = results.next(-1)
        if entry is None:
            break
        if entry.dup_complete_name() == "SmartLock":
            address = entry.get_address()
    adapter.stop_scan()
    assert address is not None, "SmartLock not seen"
    connection = adapter.connect(address, 10.0, None)
    connection.pair(True)
    assert connection.get_paired(), "not paired"
    assert asked == [lock["address"]], asked
    services = connection.discover_remote_services(None, 10.0)
    secret = [c for s in services for c in s.dup_characteristics()
              if c.get_uuid().to_string() == "0xfff1"]
    assert len(secret) == 1
    value = secret[0].read_value()  # encrypt-read: needs the pairing
    assert bytes(value.get_data()) == b"\x00", bytes(value.get_data())
    adapter.set_passkey_request_func(None)
    connection.disconnect()


print(f"1..{len(steps)}")
failed = False
for n, (name, fn) in enumerate(steps, 1):
    if failed:
        print(f"not ok {n} - {name} # an earlier step failed")
        continue
    try:
        fn()
        print(f"ok {n} - {name}")
    except Exception as e:  # report and stop: later steps need this one
        failed = True
        print(f"not ok {n} - {name}")
        for line in f"{type(e).__name__}: {e}".splitlines():
            print(f"# {line}")
sys.exit(1 if failed else 0)
