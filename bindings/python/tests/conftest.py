# SPDX-License-Identifier: MIT
"""Shared fixtures of the _bleio tests: the demo scenario's peripherals and
a way to drive the simulator's control interface (org.bleio.Sim1)."""

import os
import subprocess
import time

import pytest

import _bleio

# The demo scenario's InterestingPeripheral (tools/bleio-sim/scenarios/demo.json).
INTERESTING = "00:AA:01:01:00:01"


def address(text, address_type=_bleio.Address.PUBLIC):
    """An Address from the usual most-significant-first text."""
    return _bleio.Address(bytes.fromhex(text.replace(":", ""))[::-1], address_type)


def sim(method, *args):
    """Calls org.bleio.Sim1.METHOD on the simulator; returns gdbus's output."""
    out = subprocess.run(
        ["gdbus", "call", "--system", "-d", "org.bluez", "-o", "/org/bleio/sim",
         "-m", "org.bleio.Sim1." + method, *[str(a) for a in args]],
        check=True, capture_output=True, text=True)
    return out.stdout


def wait_for(condition, what="the condition"):
    """Polls condition() until true. The bound only turns a hang into a
    failure; it asserts nothing about how fast the module is."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting for " + what
        time.sleep(0.01)


def find(services, uuid16):
    """The first characteristic with that 16-bit UUID among services."""
    wanted = _bleio.UUID(uuid16)
    for service in services:
        for characteristic in service.characteristics:
            if characteristic.uuid == wanted:
                return characteristic
    raise AssertionError("no characteristic %04x" % uuid16)


def find128(services, text):
    wanted = _bleio.UUID(text)
    return [c for s in services for c in s.characteristics if c.uuid == wanted]


@pytest.fixture
def adapter():
    assert _bleio.adapter is not None, "no default adapter: is bleio-sim running?"
    yield _bleio.adapter
    # No test leaves a scan running for the next one.
    try:
        _bleio.adapter.stop_scan()
    except _bleio.BluetoothError:
        pass


@pytest.fixture
def connection(adapter):
    conn = adapter.connect(address(INTERESTING), timeout=10)
    yield conn
    conn.disconnect()


@pytest.fixture
def services(connection):
    return connection.discover_remote_services()


@pytest.fixture
def examples():
    return os.environ["BLEIO_PY_EXAMPLES"]
