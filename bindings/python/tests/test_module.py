# SPDX-License-Identifier: MIT
"""The module's surface: names, exceptions, value classes and constants,
and the local GATT server's constructors and their argument checks."""

import pytest

import _bleio
from conftest import address


CIRCUITPYTHON_NAMES = [
    "adapter", "set_adapter", "BluetoothError", "RoleError", "SecurityError",
    "ConnectionError", "Adapter", "Address", "Attribute", "Characteristic",
    "CharacteristicBuffer", "Connection", "Descriptor", "PacketBuffer",
    "ScanEntry", "ScanResults", "Service", "UUID",
]


@pytest.mark.parametrize("name", CIRCUITPYTHON_NAMES)
def test_module_has(name):
    assert hasattr(_bleio, name)


def test_exception_hierarchy():
    assert issubclass(_bleio.BluetoothError, Exception)
    for sub in (_bleio.RoleError, _bleio.SecurityError, _bleio.ConnectionError):
        assert issubclass(sub, _bleio.BluetoothError)
        assert sub is not _bleio.BluetoothError
    # _bleio's ConnectionError is its own, not the builtin one.
    assert _bleio.ConnectionError is not ConnectionError
    assert _bleio.ConnectionError.__module__ == "_bleio"


def test_default_adapter_is_an_adapter():
    assert isinstance(_bleio.adapter, _bleio.Adapter)


def test_set_adapter():
    original = _bleio.adapter
    try:
        _bleio.set_adapter(None)
        assert _bleio.adapter is None
        _bleio.set_adapter(original)
        assert _bleio.adapter is original
    finally:
        _bleio.set_adapter(original)


def test_set_adapter_refuses_other_types():
    with pytest.raises(TypeError, match="Adapter or None"):
        _bleio.set_adapter("hci0")
    assert isinstance(_bleio.adapter, _bleio.Adapter)


def test_adapter_by_name_is_the_same_object():
    assert _bleio.Adapter("hci0") is _bleio.adapter


def test_adapter_unknown_name():
    with pytest.raises(_bleio.BluetoothError):
        _bleio.Adapter("hci9")


# ---- UUID ----

def test_uuid16():
    u = _bleio.UUID(0x180F)
    assert u.size == 16
    assert u.uuid16 == 0x180F
    assert repr(u) == "UUID(0x180f)"
    with pytest.raises(AttributeError):
        u.uuid128


def test_uuid128_from_string_and_bytes():
    text = "12345678-1234-5678-1234-56789abcdef0"
    u = _bleio.UUID(text)
    assert u.size == 128
    assert u.uuid128 == bytes.fromhex(text.replace("-", ""))[::-1]
    assert _bleio.UUID(u.uuid128) == u
    assert _bleio.UUID(bytearray(u.uuid128)) == u
    assert _bleio.UUID(memoryview(u.uuid128)) == u
    assert repr(u) == "UUID('%s')" % text
    assert u.uuid16 == 0x5678


def test_uuid_equality_and_hash():
    assert _bleio.UUID(0x2A19) == _bleio.UUID(0x2A19)
    assert _bleio.UUID(0x2A19) != _bleio.UUID(0x2A37)
    assert hash(_bleio.UUID(0x2A19)) == hash(_bleio.UUID(0x2A19))
    assert len({_bleio.UUID(0x2A19), _bleio.UUID(0x2A19), _bleio.UUID(0x2A37)}) == 2
    # Equality needs equal sizes: the base-UUID spelling of 0x2A19 is 128-bit.
    base = _bleio.UUID("00002a19-0000-1000-8000-00805f9b34fb")
    assert base != _bleio.UUID(0x2A19)
    assert _bleio.UUID(0x2A19) != 0x2A19


def test_uuid_pack_into():
    buf = bytearray(20)
    _bleio.UUID(0x180F).pack_into(buf, 3)
    assert buf[3:5] == b"\x0f\x18"
    assert buf[:3] == b"\0\0\0" and buf[5:] == bytes(15)
    u = _bleio.UUID("12345678-1234-5678-1234-56789abcdef0")
    u.pack_into(buf, offset=4)
    assert bytes(buf[4:20]) == u.uuid128


def test_uuid_pack_into_too_small():
    with pytest.raises(IndexError):
        _bleio.UUID("12345678-1234-5678-1234-56789abcdef0").pack_into(bytearray(16), 1)
    with pytest.raises(IndexError):
        _bleio.UUID(0x180F).pack_into(bytearray(1))
    with pytest.raises(TypeError):
        _bleio.UUID(0x180F).pack_into(b"read-only")


@pytest.mark.parametrize("bad,exc,message", [
    (-1, ValueError, "0-0xffff"),
    (0x10000, ValueError, "0-0xffff"),
    (2 ** 80, ValueError, "0-0xffff"),
    ("180f", ValueError, "xxxxxxxx-xxxx"),
    ("12345678-1234-5678-1234-56789abcdefg", ValueError, "xxxxxxxx-xxxx"),
    (b"\x01\x02", ValueError, "16 bytes"),
    (1.5, ValueError, "not str, int or byte buffer"),
    (None, ValueError, "not str, int or byte buffer"),
])
def test_uuid_bad_values(bad, exc, message):
    with pytest.raises(exc, match=message):
        _bleio.UUID(bad)


# ---- Address ----

def test_address():
    a = _bleio.Address(b"\x01\x02\x03\x04\x05\x06", _bleio.Address.RANDOM_STATIC)
    assert a.address_bytes == b"\x01\x02\x03\x04\x05\x06"
    assert a.type == _bleio.Address.RANDOM_STATIC
    assert repr(a) == "<Address 06:05:04:03:02:01>"


def test_address_constants():
    assert (_bleio.Address.PUBLIC, _bleio.Address.RANDOM_STATIC,
            _bleio.Address.RANDOM_PRIVATE_RESOLVABLE,
            _bleio.Address.RANDOM_PRIVATE_NON_RESOLVABLE) == (0, 1, 2, 3)


def test_address_equality_and_hash():
    a = address("00:AA:01:01:00:01")
    assert a == address("00:AA:01:01:00:01")
    assert hash(a) == hash(address("00:AA:01:01:00:01"))
    assert a != address("00:AA:01:01:00:01", _bleio.Address.RANDOM_STATIC)
    assert a != address("00:AA:01:01:00:02")
    assert len({a, address("00:AA:01:01:00:01")}) == 1


@pytest.mark.parametrize("args,exc,message", [
    ((b"\x01" * 5, 0), ValueError, "6 bytes"),
    ((b"\x01" * 7, 0), ValueError, "6 bytes"),
    ((b"\x01" * 6, 4), ValueError, "out of range"),
    ((b"\x01" * 6, -1), ValueError, "out of range"),
    (("abcdef", 0), TypeError, ""),
    ((b"\x01" * 6,), TypeError, ""),
])
def test_address_bad(args, exc, message):
    with pytest.raises(exc, match=message):
        _bleio.Address(*args)


# ---- constants ----

def test_characteristic_properties():
    c = _bleio.Characteristic
    assert (c.BROADCAST, c.READ, c.WRITE_NO_RESPONSE, c.WRITE, c.NOTIFY, c.INDICATE) == \
        (0x01, 0x02, 0x04, 0x08, 0x10, 0x20)


def test_attribute_modes():
    a = _bleio.Attribute
    modes = [a.NO_ACCESS, a.OPEN, a.ENCRYPT_NO_MITM, a.ENCRYPT_WITH_MITM,
             a.LESC_ENCRYPT_WITH_MITM, a.SIGNED_NO_MITM, a.SIGNED_WITH_MITM]
    # CircuitPython's values (0x<level><mode>), which programs may compare.
    assert modes == [0x00, 0x11, 0x21, 0x31, 0x41, 0x12, 0x22]
    with pytest.raises(TypeError):
        _bleio.Attribute()


# ---- classes the library creates ----

@pytest.mark.parametrize("cls", ["Connection", "Characteristic", "Descriptor",
                                 "ScanEntry", "ScanResults"])
def test_not_constructible(cls):
    with pytest.raises(TypeError):
        getattr(_bleio, cls)()


# ---- the peripheral role's local GATT server (test_gatt_server.py serves) ----

def test_local_service_is_made_on_the_module_adapter():
    service = _bleio.Service(_bleio.UUID(0x180F))
    assert service.remote is False
    assert service.secondary is False
    assert service.connection is None
    assert service.characteristics == ()
    level = _bleio.Characteristic.add_to_service(service, _bleio.UUID(0x2A19),
                                                 properties=_bleio.Characteristic.READ)
    assert level.service is service
    with pytest.raises(TypeError, match="Service"):
        _bleio.Characteristic.add_to_service(None, _bleio.UUID(0x2A19),
                                             properties=_bleio.Characteristic.READ)
    with pytest.raises(TypeError, match="Characteristic"):
        _bleio.Descriptor.add_to_characteristic(None, _bleio.UUID(0x2901))


def test_peripheral_members_keep_keyword_only_arguments():
    with pytest.raises(TypeError):
        _bleio.Service(_bleio.UUID(0x180F), True)
    with pytest.raises(TypeError):
        _bleio.Characteristic.add_to_service(None, _bleio.UUID(1), 0x02)
    with pytest.raises(TypeError):
        _bleio.Service("180f")


def test_address_cannot_be_set():
    with pytest.raises(NotImplementedError, match="address"):
        _bleio.adapter.address = _bleio.adapter.address
