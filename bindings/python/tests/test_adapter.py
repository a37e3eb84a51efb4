# SPDX-License-Identifier: MIT
"""Adapter: its properties, scanning the way CircuitPython programs do
(iterate start_scan(), match prefixes), connecting, and the argument checks
of every member."""

import pytest

import _bleio
from conftest import INTERESTING, address, sim

# AD structure prefix of the complete local name "InterestingPeripheral".
NAME_PREFIX = bytes([len(b"InterestingPeripheral") + 1, 0x09]) + b"InterestingPeripheral"


def test_address_and_name(adapter):
    assert adapter.address == address("00:AA:01:00:00:00")
    assert isinstance(adapter.name, str)


def test_set_name(adapter):
    old = adapter.name
    adapter.name = "bleio-python"
    assert adapter.name == "bleio-python"
    adapter.name = old
    assert adapter.name == old


def test_enabled(adapter):
    assert adapter.enabled is True
    adapter.enabled = False
    assert adapter.enabled is False
    adapter.enabled = True
    assert adapter.enabled is True


@pytest.mark.parametrize("attr,value", [("enabled", 1), ("enabled", None), ("name", 5),
                                        ("name", b"bytes")])
def test_setters_check_types(adapter, attr, value):
    with pytest.raises(TypeError):
        setattr(adapter, attr, value)


def test_scan_yields_scan_entries(adapter):
    seen = {}
    for entry in adapter.start_scan(timeout=2):
        assert isinstance(entry, _bleio.ScanEntry)
        seen[entry.address] = entry
        if len(seen) >= 5:
            break
    adapter.stop_scan()
    assert len(seen) >= 5
    for entry in seen.values():
        assert isinstance(entry.address, _bleio.Address)
        assert isinstance(entry.advertisement_bytes, bytes)
        assert isinstance(entry.rssi, int) and -127 <= entry.rssi <= 20
        assert entry.connectable in (True, False)
        assert entry.scan_response is False


def test_scan_prefix_matches_by_name(adapter):
    found = None
    for entry in adapter.start_scan(NAME_PREFIX, timeout=5):
        found = entry
        break
    adapter.stop_scan()
    assert found is not None
    assert found.address == address(INTERESTING)
    assert NAME_PREFIX in found.advertisement_bytes
    assert found.connectable is True
    assert found.matches(NAME_PREFIX)
    assert found.matches(NAME_PREFIX, match_all=False)
    other = bytes([4, 0x09]) + b"Zzz"
    assert not found.matches(other)
    assert found.matches(NAME_PREFIX + other, match_all=False)
    assert not found.matches(NAME_PREFIX + other, match_all=True)
    assert "ScanEntry" in repr(found)


def test_scan_prefix_filters_everything_else(adapter):
    entries = list(adapter.start_scan(bytes([3, 0x09]) + b"Th", timeout=2))
    assert entries, "the Thermometer advertises within 2 s"
    assert {e.address for e in entries} == {address("00:1B:DC:00:00:04")}


def test_scan_minimum_rssi_drops_weak_ones(adapter):
    entries = list(adapter.start_scan(timeout=2, minimum_rssi=-60))
    assert entries
    assert all(e.rssi >= -60 for e in entries)
    # FarAway advertises at -96 dBm.
    assert address("00:0C:00:00:00:09") not in {e.address for e in entries}


def test_scan_timeout_ends_the_iteration(adapter):
    results = adapter.start_scan(timeout=0.5)
    assert isinstance(results, _bleio.ScanResults)
    assert iter(results) is results
    list(results)
    with pytest.raises(StopIteration):
        next(results)


def test_stop_scan_ends_the_iteration(adapter):
    results = adapter.start_scan()
    next(results)
    adapter.stop_scan()
    # What was buffered comes out, then the iteration ends.
    for _ in results:
        pass


def test_second_scan_is_an_error(adapter):
    adapter.start_scan()
    with pytest.raises(_bleio.BluetoothError):
        adapter.start_scan()
    adapter.stop_scan()
    adapter.start_scan(timeout=0.1)


def test_scan_arguments_are_keyword_only(adapter):
    with pytest.raises(TypeError):
        adapter.start_scan(b"", 512)


@pytest.mark.parametrize("kwargs,exc,message", [
    ({"buffer_size": 0}, ValueError, "buffer_size"),
    ({"buffer_size": "1"}, TypeError, ""),
    ({"timeout": -1}, ValueError, "timeout"),
    ({"timeout": "1"}, TypeError, "timeout"),
    ({"timeout": float("nan")}, ValueError, "NaN"),
    ({"interval": 0.001}, ValueError, "interval must be in range"),
    ({"interval": 41}, ValueError, "interval must be in range"),
    ({"interval": 0.1, "window": 0.2}, ValueError, "window must be <= interval"),
    ({"minimum_rssi": "x"}, TypeError, ""),
    ({"bogus": 1}, TypeError, "bogus"),
])
def test_scan_argument_checks(adapter, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        adapter.start_scan(**kwargs)


def test_scan_prefixes_must_be_bytes(adapter):
    with pytest.raises(TypeError):
        adapter.start_scan("InterestingPeripheral")
    # Any readable buffer does.
    adapter.start_scan(bytearray(NAME_PREFIX), timeout=0.1)
    adapter.stop_scan()
    adapter.start_scan(memoryview(NAME_PREFIX), timeout=0.1)


def test_connect_and_connections(adapter):
    assert adapter.connected is False
    assert adapter.connections == ()
    conn = adapter.connect(address(INTERESTING), timeout=10)
    try:
        assert isinstance(conn, _bleio.Connection)
        assert conn.connected
        assert adapter.connected is True
        # The same object for the same link, every time.
        assert adapter.connections == (conn,)
        assert adapter.connections[0] is conn
        assert adapter.connect(address(INTERESTING), timeout=10) is conn
    finally:
        conn.disconnect()
    assert adapter.connections == ()
    assert adapter.connected is False


def test_connect_timeout_is_keyword_only_and_required(adapter):
    with pytest.raises(TypeError):
        adapter.connect(address(INTERESTING), 10)
    with pytest.raises(TypeError):
        adapter.connect(address(INTERESTING))
    with pytest.raises(TypeError, match="Address"):
        adapter.connect("00:AA:01:01:00:01", timeout=10)
    with pytest.raises(ValueError, match="timeout"):
        adapter.connect(address(INTERESTING), timeout=0)
    with pytest.raises(TypeError, match="timeout"):
        adapter.connect(address(INTERESTING), timeout=None)


def test_connect_timeout_message(adapter):
    # Nobody advertises this address: the attempt times out and is undone.
    with pytest.raises(_bleio.BluetoothError, match="Failed to connect: timeout"):
        adapter.connect(address("00:AA:0F:0F:0F:0F"), timeout=0.5)
    assert adapter.connections == ()


def test_connect_refused(adapter):
    # A peripheral whose connects always fail with a reason the library does
    # not retry.
    sim("AddDevice", "hci0",
        "'{\"address\": \"00:AA:0E:00:00:01\", \"name\": \"Refuses\", "
        "\"connect\": {\"outcome\": \"le-connection-abort-by-remote\"}}'")
    with pytest.raises(_bleio.BluetoothError, match="le-connection-abort-by-remote"):
        adapter.connect(address("00:AA:0E:00:00:01"), timeout=5)
    assert adapter.connections == ()


def test_erase_bonding(adapter):
    conn = adapter.connect(address(INTERESTING), timeout=10)
    conn.pair()
    assert conn.paired
    conn.disconnect()
    adapter.erase_bonding()
    conn = adapter.connect(address(INTERESTING), timeout=10)
    try:
        assert conn.paired is False
    finally:
        conn.disconnect()


def test_adapter_repr(adapter):
    assert repr(adapter) == "<Adapter hci0>"
