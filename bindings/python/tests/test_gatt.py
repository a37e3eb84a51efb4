# SPDX-License-Identifier: MIT
"""Connection, Service, Characteristic and Descriptor of a peer, used the
way CircuitPython programs use them: discover_remote_services() with and
without a UUID list, read and write Characteristic.value, set_cccd."""

import pytest

import _bleio
from conftest import INTERESTING, address, find, find128, sim, wait_for

CUSTOM_SERVICE = "12345678-1234-5678-1234-56789abcdef0"


def test_connection_members(connection):
    assert connection.connected is True
    assert connection.paired is False
    assert connection.max_packet_length >= 20
    assert "Connection 00:aa:01:01:00:01" in repr(connection)


def test_discover_all_services_in_handle_order(connection):
    services = connection.discover_remote_services()
    assert isinstance(services, tuple)
    assert [s.uuid for s in services] == [
        _bleio.UUID(0x1801), _bleio.UUID(0x180A), _bleio.UUID(0x180D),
        _bleio.UUID(0x180F), _bleio.UUID(CUSTOM_SERVICE)]
    for s in services:
        assert isinstance(s, _bleio.Service)
        assert s.remote is True
        assert s.secondary is False
        assert s.connection is connection


def test_discover_with_whitelist(connection):
    services = connection.discover_remote_services([_bleio.UUID(0x180F),
                                                    _bleio.UUID(CUSTOM_SERVICE)])
    assert [s.uuid for s in services] == [_bleio.UUID(0x180F), _bleio.UUID(CUSTOM_SERVICE)]
    # Any iterable of UUID; the keyword is CircuitPython's.
    services = connection.discover_remote_services(
        service_uuids_whitelist=(u for u in [_bleio.UUID(0x180D)]))
    assert [s.uuid for s in services] == [_bleio.UUID(0x180D)]
    assert connection.discover_remote_services([_bleio.UUID(0xABCD)]) == ()


def test_discover_argument_checks(connection):
    with pytest.raises(TypeError):
        connection.discover_remote_services([0x180F])
    with pytest.raises(TypeError):
        connection.discover_remote_services(5)


def test_same_objects_every_time(connection):
    services = connection.discover_remote_services()
    ch = services[3].characteristics[0]
    assert ch.service is services[3]
    assert services[3].characteristics[0] is ch
    assert ch.descriptors[0].characteristic is ch
    assert connection.discover_remote_services()[3].connection is connection


def test_characteristic_members(services):
    battery = find(services, 0x2A19)
    assert battery.uuid == _bleio.UUID(0x2A19)
    assert battery.properties == _bleio.Characteristic.READ | _bleio.Characteristic.NOTIFY
    assert battery.max_length == 512
    assert battery.service.uuid == _bleio.UUID(0x180F)
    assert [d.uuid for d in battery.descriptors] == [_bleio.UUID(0x2902)]
    assert repr(battery) == "<Characteristic UUID(0x2a19)>"


def test_read_value(services):
    assert find(services, 0x2A19).value == bytes([0x62])
    assert find(services, 0x2A29).value == b"bleio"
    assert find128(services, "12345678-1234-5678-1234-56789abcdef1")[0].value == b"Hello"


def test_write_then_read(services):
    ch = find128(services, "12345678-1234-5678-1234-56789abcdef2")[0]
    ch.value = b"\x2a"
    assert ch.value == b"\x2a"
    ch.value = bytearray(b"\x01\x02\x03")
    assert ch.value == b"\x01\x02\x03"
    ch.value = memoryview(b"\x07")
    assert ch.value == b"\x07"


def test_write_without_response(services):
    ch = find128(services, "12345678-1234-5678-1234-56789abcdef3")[0]
    assert ch.properties == _bleio.Characteristic.WRITE_NO_RESPONSE
    ch.value = b"go"


@pytest.mark.parametrize("value", ["text", 5, None])
def test_write_value_type_checks(services, value):
    ch = find128(services, "12345678-1234-5678-1234-56789abcdef2")[0]
    with pytest.raises(TypeError, match="bytes-like"):
        ch.value = value


def test_read_of_a_write_only_characteristic_fails(services):
    with pytest.raises(_bleio.BluetoothError):
        find(services, 0x2A39).value


def test_read_needing_encryption_is_a_security_error_until_paired(adapter, connection, services):
    ch = find128(services, "12345678-1234-5678-1234-56789abcdef5")[0]
    with pytest.raises(_bleio.SecurityError, match="Not paired"):
        ch.value
    connection.pair()
    assert ch.value == b"secret"
    adapter.erase_bonding()


def test_descriptors(services):
    ch = find128(services, "12345678-1234-5678-1234-56789abcdef1")[0]
    (desc,) = ch.descriptors
    assert isinstance(desc, _bleio.Descriptor)
    assert desc.uuid == _bleio.UUID(0x2901)
    assert desc.characteristic is ch
    assert desc.value == b"Read me"
    assert repr(desc) == "<Descriptor UUID(0x2901)>"
    with pytest.raises(TypeError):
        desc.value = "text"


def test_set_cccd(services):
    hr = find(services, 0x2A37)
    hr.set_cccd(notify=True)
    hr.set_cccd(notify=False)
    with pytest.raises(TypeError):
        hr.set_cccd(True)


def test_set_cccd_without_cccd_is_an_error(services):
    with pytest.raises(_bleio.BluetoothError):
        find(services, 0x2A29).set_cccd(notify=True)


def test_connection_interval_is_not_supported(connection):
    with pytest.raises(NotImplementedError):
        connection.connection_interval
    with pytest.raises(NotImplementedError):
        connection.connection_interval = 15
    with pytest.raises(TypeError):
        connection.connection_interval = "15"


def test_pair(adapter, connection):
    connection.pair()
    assert connection.paired is True
    with pytest.raises(TypeError):
        connection.pair(True)
    adapter.erase_bonding()


def test_pair_without_bond_is_not_supported(connection):
    with pytest.raises(NotImplementedError, match="bond"):
        connection.pair(bond=False)


def test_after_disconnect_members_raise_connection_error(adapter):
    conn = adapter.connect(address(INTERESTING), timeout=10)
    services = conn.discover_remote_services()
    battery = find(services, 0x2A19)
    conn.disconnect()
    assert conn.connected is False
    conn.disconnect()  # no-op when already disconnected
    message = ("Connection has been disconnected and can no longer be used. "
               "Create a new connection.")
    with pytest.raises(_bleio.ConnectionError) as info:
        conn.paired
    assert str(info.value) == message
    for action in (lambda: conn.max_packet_length, conn.discover_remote_services, conn.pair):
        with pytest.raises(_bleio.ConnectionError):
            action()
    with pytest.raises(_bleio.ConnectionError):
        battery.value
    assert adapter.connections == ()


def test_link_lost_shows_as_disconnected(adapter):
    conn = adapter.connect(address(INTERESTING), timeout=10)
    sim("DropLink", "/org/bluez/hci0/dev_00_AA_01_01_00_01", "test")
    wait_for(lambda: not conn.connected)
    with pytest.raises(_bleio.ConnectionError):
        conn.discover_remote_services()
    assert adapter.connections == ()
