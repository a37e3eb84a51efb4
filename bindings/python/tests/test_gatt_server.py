# SPDX-License-Identifier: MIT
"""The peripheral role's local GATT server through this module, on
two-adapters.json (hci0 and hci1 share one air). hci1 serves a
CircuitPython-style program: a UART service laid out as adafruit_ble's
UARTService (RX: write, TX: notify, through a CharacteristicBuffer and
20-byte value sets), a battery level with a user description, a
descriptor of its own, an indicating characteristic and a PacketBuffer
characteristic. hci0, through the module's central role, connects,
discovers, reads, writes and receives notifications. Then every bound
member, CircuitPython's argument checks and messages, the errors the
library's codes map to (test_leaks.py checks the local members for
leaks)."""

import pytest

import _bleio
from conftest import address, wait_for

HCI0 = address("00:AA:01:00:00:00")
HCI1 = address("00:AA:01:01:00:01")
ADVERTISEMENT = b"\x02\x01\x06\x0a\x09PyBleioGS"

UART_SERVICE = _bleio.UUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E")
UART_RX = _bleio.UUID("6E400002-B5A3-F393-E0A9-E50E24DCCA9E")
UART_TX = _bleio.UUID("6E400003-B5A3-F393-E0A9-E50E24DCCA9E")
BATTERY_SERVICE = _bleio.UUID(0x180F)
BATTERY_LEVEL = _bleio.UUID(0x2A19)
OWN_SERVICE = _bleio.UUID("12345678-1234-5678-1234-56789abc0000")
OWN_DESCRIPTOR = _bleio.UUID("12345678-1234-5678-1234-56789abc0001")
INDICATING = _bleio.UUID("12345678-1234-5678-1234-56789abc0002")
PACKETS = _bleio.UUID("12345678-1234-5678-1234-56789abc0003")
FIXED = _bleio.UUID("12345678-1234-5678-1234-56789abc0004")
LATE = _bleio.UUID("12345678-1234-5678-1234-56789abc0005")

Characteristic = _bleio.Characteristic
Attribute = _bleio.Attribute


class UARTServer:
    """What adafruit_ble's UARTService makes when it is the server: TX is a
    StreamOut (NOTIFY, 64 bytes), RX a StreamIn (WRITE and
    WRITE_NO_RESPONSE, 64 bytes) read through a CharacteristicBuffer;
    write() sends 20 bytes per value set, as its BoundWriteStream does."""

    def __init__(self):
        self.service = _bleio.Service(UART_SERVICE)
        self.tx = Characteristic.add_to_service(
            self.service, UART_TX, properties=Characteristic.NOTIFY,
            read_perm=Attribute.OPEN, write_perm=Attribute.OPEN, max_length=64)
        self.rx = Characteristic.add_to_service(
            self.service, UART_RX,
            properties=Characteristic.WRITE | Characteristic.WRITE_NO_RESPONSE,
            read_perm=Attribute.OPEN, write_perm=Attribute.OPEN, max_length=64)
        self.rx_buffer = _bleio.CharacteristicBuffer(self.rx, timeout=1.0, buffer_size=64)

    def write(self, buf):
        for offset in range(0, len(buf), 20):
            self.tx.value = buf[offset:offset + 20]

    def readline(self):
        return self.rx_buffer.readline()


class Server:
    """hci1's GATT server, made once: `_bleio` has no way to remove a
    service, and every test sees the same table."""

    def __init__(self, adapter):
        central = _bleio.adapter
        _bleio.set_adapter(adapter)
        try:
            self.uart = UARTServer()
            self.battery = _bleio.Service(BATTERY_SERVICE)
            self.level = Characteristic.add_to_service(
                self.battery, BATTERY_LEVEL,
                properties=Characteristic.READ | Characteristic.NOTIFY,
                max_length=1, fixed_length=True, initial_value=b"\x64",
                user_description="Battery level")
            self.own = _bleio.Service(OWN_SERVICE)
            self.indicating = Characteristic.add_to_service(
                self.own, INDICATING,
                properties=Characteristic.READ | Characteristic.INDICATE,
                initial_value=b"start")
            self.descriptor = _bleio.Descriptor.add_to_characteristic(
                self.indicating, OWN_DESCRIPTOR, max_length=8, initial_value=b"desc")
            self.packets = Characteristic.add_to_service(
                self.own, PACKETS,
                properties=Characteristic.NOTIFY | Characteristic.WRITE_NO_RESPONSE,
                max_length=20)
            self.fixed = Characteristic.add_to_service(
                self.own, FIXED, properties=Characteristic.READ | Characteristic.WRITE,
                max_length=4, fixed_length=True)
        finally:
            _bleio.set_adapter(central)


@pytest.fixture(scope="module")
def hci1():
    adapter = _bleio.Adapter("hci1")
    assert adapter.address == HCI1
    return adapter


@pytest.fixture(scope="module")
def server(hci1):
    return Server(hci1)


@pytest.fixture
def central():
    adapter = _bleio.adapter
    assert adapter.address == HCI0, "the default adapter should be hci0"
    return adapter


@pytest.fixture
def link(central, hci1, server):
    """hci0 connected to hci1, which advertised (and so registered its
    services) first."""
    hci1.start_advertising(ADVERTISEMENT)
    conn = central.connect(HCI1, timeout=10)
    yield conn
    conn.disconnect()
    hci1.stop_advertising()
    wait_for(lambda: not hci1.connected, "hci1's link to go")


def remote(services, uuid):
    found = [c for s in services for c in s.characteristics if c.uuid == uuid]
    assert len(found) == 1, "characteristic %r found %d times" % (uuid, len(found))
    return found[0]


def until_heard(send, heard, what):
    """A client's subscription reaches the server a moment after the
    client's own call returned, and `_bleio` does not say when: send()
    until heard() is true."""
    def sent_and_heard():
        send()
        return heard()
    wait_for(sent_and_heard, what)


def drain_line(buffer):
    """Reads a CharacteristicBuffer up to the next newline, across
    readline() timeouts."""
    got = b""
    while not got.endswith(b"\n"):
        got += buffer.readline()
    return got


# ---- the CircuitPython-style program, both roles ----

def test_uart_service_round_trip(server, link):
    uart = server.uart
    services = link.discover_remote_services([UART_SERVICE])
    assert [s.uuid for s in services] == [UART_SERVICE]
    rx, tx = remote(services, UART_RX), remote(services, UART_TX)
    assert rx.properties == Characteristic.WRITE | Characteristic.WRITE_NO_RESPONSE
    assert tx.properties == Characteristic.NOTIFY

    # The central writes the server's RX: the server reads a line.
    rx.value = b"hello, server\n"
    assert uart.readline() == b"hello, server\n"
    assert uart.rx.value == b"hello, server\n"

    # The central subscribes to TX as adafruit_ble's client does; the server
    # writes 20 bytes per notification.
    tx.set_cccd(notify=True)
    incoming = _bleio.CharacteristicBuffer(tx, timeout=1.0, buffer_size=256)
    until_heard(lambda: uart.write(b"."), lambda: incoming.in_waiting > 0,
                "the first notification to reach the central")
    uart.write(b"\n")
    assert set(drain_line(incoming)) <= set(b".\n")
    message = b"0123456789" * 5 + b" from the server\n"
    uart.write(message)
    assert drain_line(incoming) == message
    assert uart.tx.value == message[60:]
    incoming.deinit()


def test_battery_level_read_and_user_description(server, link):
    services = link.discover_remote_services([BATTERY_SERVICE])
    level = remote(services, BATTERY_LEVEL)
    assert level.value == b"\x64"
    server.level.value = b"\x2a"
    assert server.level.value == b"\x2a"
    assert level.value == b"\x2a"
    descriptions = [d for d in level.descriptors if d.uuid == _bleio.UUID(0x2901)]
    assert len(descriptions) == 1
    assert descriptions[0].value == b"Battery level"


def test_descriptor_read_and_written_by_the_client(server, link):
    services = link.discover_remote_services([OWN_SERVICE])
    ch = remote(services, INDICATING)
    desc = [d for d in ch.descriptors if d.uuid == OWN_DESCRIPTOR][0]
    assert desc.value == b"desc"
    desc.value = b"changed"
    assert server.descriptor.value == b"changed"
    server.descriptor.value = b"local"
    assert desc.value == b"local"


def test_indications_reach_the_subscribed_client(server, link):
    services = link.discover_remote_services([OWN_SERVICE])
    ch = remote(services, INDICATING)
    assert ch.properties == Characteristic.READ | Characteristic.INDICATE
    with _bleio.PacketBuffer(ch, buffer_size=8) as incoming:
        got = bytearray(20)

        def heard():
            return incoming.readinto(got) > 0

        until_heard(lambda: setattr(server.indicating, "value", b"ping"), heard,
                    "the first indication")
        server.indicating.value = b"last"

        # Indications are confirmed one at a time, in order: the last set
        # is the last packet.
        def last_heard():
            n = incoming.readinto(got)
            return n > 0 and bytes(got[:n]) == b"last"

        wait_for(last_heard, "the last indication")
    assert ch.value == b"last"


def test_packet_buffers_on_both_sides(server, link):
    services = link.discover_remote_services([OWN_SERVICE])
    ch = remote(services, PACKETS)
    with _bleio.PacketBuffer(server.packets, buffer_size=4) as local, \
            _bleio.PacketBuffer(ch, buffer_size=64) as peer:
        assert local.incoming_packet_length > 0
        assert local.outgoing_packet_length > 0
        # Client to server: a write without response is one packet.
        peer.write(b"to-server")
        got = bytearray(20)
        wait_for(lambda: local.readinto(got) == 9, "the client's packet")
        assert bytes(got[:9]) == b"to-server"
        # Server to client: a notification to the first subscriber.
        until_heard(lambda: local.write(b"sync"), lambda: peer.readinto(got) > 0,
                    "the first notification")
        local.write(b"marker")
        wait_for(lambda: peer.readinto(got) == 6 and bytes(got[:6]) == b"marker",
                 "the marker packet")
        local.write(b"to-client")
        wait_for(lambda: peer.readinto(got) > 0, "the server's packet")
        assert bytes(got[:9]) == b"to-client"


def test_client_writes_outside_the_lengths_are_refused(server, link):
    # FIXED takes writes with response only, so the refusal comes back.
    fixed = remote(link.discover_remote_services([OWN_SERVICE]), FIXED)
    # bluetoothd answers the library's refusal with an ATT error, which
    # the library reports as an invalid value.
    with pytest.raises(ValueError, match="Length"):
        fixed.value = b"\x01\x02"
    with pytest.raises(ValueError, match="Length"):
        fixed.value = b"\x01\x02\x03\x04\x05"
    assert server.fixed.value == bytes(4)
    fixed.value = b"\x01\x02\x03\x04"
    assert server.fixed.value == b"\x01\x02\x03\x04"
    assert fixed.value == b"\x01\x02\x03\x04"


def test_the_servers_view_of_the_link(hci1, link):
    assert hci1.connected is True
    (incoming,) = hci1.connections
    assert incoming is hci1.connections[0]
    assert incoming.connected is True


def test_added_after_registration_is_served(central, hci1, server):
    # bluetoothd reads an application once, at registration; the library
    # registers it again with the new characteristic and every value kept.
    assert hci1.advertising is False
    server.level.value = b"\x33"
    late = Characteristic.add_to_service(server.own, LATE, properties=Characteristic.READ,
                                         initial_value=b"late")
    hci1.start_advertising(ADVERTISEMENT)
    conn = central.connect(HCI1, timeout=10)
    try:
        services = conn.discover_remote_services([OWN_SERVICE, BATTERY_SERVICE])
        assert remote(services, LATE).value == b"late"
        assert remote(services, BATTERY_LEVEL).value == b"\x33"
        assert late in server.own.characteristics
    finally:
        conn.disconnect()
        hci1.stop_advertising()
        wait_for(lambda: not hci1.connected, "hci1's link to go")


# ---- the local objects' members ----

def test_local_members(server):
    uart = server.uart
    assert uart.service.remote is False
    assert uart.service.secondary is False
    assert uart.service.connection is None
    assert uart.service.uuid == UART_SERVICE
    assert uart.service.characteristics[:2] == (uart.tx, uart.rx)
    assert uart.tx.service is uart.service
    assert uart.tx.uuid == UART_TX
    assert uart.tx.properties == Characteristic.NOTIFY
    assert uart.tx.max_length == 64
    assert uart.rx.max_length == 64
    assert server.level.max_length == 1
    (description,) = server.level.descriptors
    assert description.uuid == _bleio.UUID(0x2901)
    assert description.characteristic is server.level
    assert description.value == b"Battery level"
    assert server.descriptor.characteristic is server.indicating
    assert repr(uart.service).startswith("<Service UUID(")
    assert repr(server.descriptor).startswith("<Descriptor UUID(")


def test_secondary_service(hci1, server):
    central = _bleio.adapter
    _bleio.set_adapter(hci1)
    try:
        secondary = _bleio.Service(_bleio.UUID(0x1234), secondary=True)
    finally:
        _bleio.set_adapter(central)
    assert secondary.secondary is True
    assert secondary.remote is False


def test_initial_values():
    fixed = Characteristic.add_to_service(_bleio.Service(_bleio.UUID(0x1235)),
                                          _bleio.UUID(0x2A00), properties=Characteristic.READ,
                                          max_length=3, fixed_length=True)
    # CircuitPython: no initial value means zeros.
    assert fixed.value == bytes(3)
    varying = Characteristic.add_to_service(fixed.service, _bleio.UUID(0x2A01),
                                            properties=Characteristic.READ,
                                            initial_value=memoryview(b"mv"))
    assert varying.value == b"mv"
    desc = _bleio.Descriptor.add_to_characteristic(varying, _bleio.UUID(0x2904), max_length=2,
                                                   fixed_length=True)
    assert desc.value == bytes(2)
    desc = _bleio.Descriptor.add_to_characteristic(varying, _bleio.UUID(0x2905),
                                                   initial_value=bytearray(b"ba"))
    assert desc.value == b"ba"


def test_local_value_set_checks_its_length_and_type():
    ch = Characteristic.add_to_service(_bleio.Service(_bleio.UUID(0x1236)), _bleio.UUID(0x2A02),
                                       properties=Characteristic.READ, max_length=4)
    ch.value = bytearray(b"abcd")
    assert ch.value == b"abcd"
    ch.value = b""
    assert ch.value == b""
    with pytest.raises(ValueError, match="at most 4"):
        ch.value = b"abcde"
    with pytest.raises(TypeError):
        ch.value = "text"
    with pytest.raises(TypeError):
        del ch.value
    fixed = Characteristic.add_to_service(ch.service, _bleio.UUID(0x2A03),
                                          properties=Characteristic.READ, max_length=2,
                                          fixed_length=True)
    with pytest.raises(ValueError, match="exactly 2"):
        fixed.value = b"x"
    assert fixed.value == bytes(2)


def test_security_modes():
    service = _bleio.Service(_bleio.UUID(0x1237))
    for mode in (Attribute.NO_ACCESS, Attribute.OPEN, Attribute.ENCRYPT_NO_MITM,
                 Attribute.ENCRYPT_WITH_MITM, Attribute.LESC_ENCRYPT_WITH_MITM):
        for read_perm, write_perm in ((mode, Attribute.OPEN), (Attribute.OPEN, mode)):
            ch = Characteristic.add_to_service(
                service, _bleio.UUID(0x2A04),
                properties=Characteristic.READ | Characteristic.WRITE,
                read_perm=read_perm, write_perm=write_perm)
            _bleio.Descriptor.add_to_characteristic(ch, _bleio.UUID(0x2906),
                                                    read_perm=read_perm, write_perm=write_perm)
    # A characteristic whose every property is NO_ACCESS offers nothing.
    with pytest.raises(ValueError, match="NO_ACCESS"):
        Characteristic.add_to_service(service, _bleio.UUID(0x2A04),
                                      properties=Characteristic.READ,
                                      read_perm=Attribute.NO_ACCESS)
    Characteristic.add_to_service(service, _bleio.UUID(0x2A05),
                                  properties=Characteristic.WRITE,
                                  write_perm=Attribute.SIGNED_NO_MITM)
    # BlueZ's Flags have no signed write with an authenticated key.
    with pytest.raises(NotImplementedError):
        Characteristic.add_to_service(service, _bleio.UUID(0x2A06),
                                      properties=Characteristic.WRITE,
                                      write_perm=Attribute.SIGNED_WITH_MITM)
    # A read cannot be signed.
    with pytest.raises(ValueError):
        Characteristic.add_to_service(service, _bleio.UUID(0x2A07),
                                      properties=Characteristic.READ,
                                      read_perm=Attribute.SIGNED_NO_MITM)
    with pytest.raises(ValueError, match="Invalid security_mode"):
        Characteristic.add_to_service(service, _bleio.UUID(0x2A08),
                                      properties=Characteristic.READ, read_perm=0x99)
    with pytest.raises(ValueError, match="Invalid security_mode"):
        _bleio.Descriptor.add_to_characteristic(ch, _bleio.UUID(0x2907), write_perm=0x13)


# ---- errors ----

def test_argument_checks():
    service = _bleio.Service(_bleio.UUID(0x1238))
    uuid = _bleio.UUID(0x2A09)
    with pytest.raises(TypeError):
        _bleio.Service()
    with pytest.raises(TypeError):
        _bleio.Service(0x180F)
    with pytest.raises(TypeError):
        _bleio.Service(uuid, True)
    with pytest.raises(TypeError, match="Service"):
        Characteristic.add_to_service(uuid, uuid)
    with pytest.raises(TypeError):
        Characteristic.add_to_service(service, "2a09")
    with pytest.raises(TypeError):
        Characteristic.add_to_service(service, uuid, Characteristic.READ)
    with pytest.raises(TypeError):
        Characteristic.add_to_service(service, uuid, properties="read")
    with pytest.raises(ValueError, match="Invalid properties"):
        Characteristic.add_to_service(service, uuid, properties=0x40)
    with pytest.raises(ValueError, match="max_length must be 0-512"):
        Characteristic.add_to_service(service, uuid, properties=Characteristic.READ,
                                      max_length=513)
    with pytest.raises(ValueError, match="max_length must be 0-512"):
        Characteristic.add_to_service(service, uuid, properties=Characteristic.READ,
                                      max_length=-1)
    with pytest.raises(TypeError, match="initial_value"):
        Characteristic.add_to_service(service, uuid, properties=Characteristic.READ,
                                      initial_value="text")
    with pytest.raises(ValueError, match="initial_value"):
        Characteristic.add_to_service(service, uuid, properties=Characteristic.READ,
                                      max_length=2, initial_value=b"abc")
    with pytest.raises(TypeError, match="user_description"):
        Characteristic.add_to_service(service, uuid, properties=Characteristic.READ,
                                      user_description=b"bytes")
    ch = Characteristic.add_to_service(service, uuid, properties=Characteristic.READ)
    with pytest.raises(TypeError, match="Characteristic"):
        _bleio.Descriptor.add_to_characteristic(service, uuid)
    with pytest.raises(TypeError):
        _bleio.Descriptor.add_to_characteristic(ch, uuid, Attribute.OPEN)
    with pytest.raises(ValueError, match="max_length"):
        _bleio.Descriptor.add_to_characteristic(ch, uuid, max_length=600)
    with pytest.raises(TypeError, match="initial_value"):
        _bleio.Descriptor.add_to_characteristic(ch, uuid, initial_value=5)
    # bluetoothd makes the CCCD itself.
    with pytest.raises(ValueError, match="CCCD"):
        _bleio.Descriptor.add_to_characteristic(ch, _bleio.UUID(0x2902))


def test_adding_to_a_peers_service_is_a_role_error(server, link):
    services = link.discover_remote_services([UART_SERVICE])
    with pytest.raises(_bleio.RoleError, match="peer"):
        Characteristic.add_to_service(services[0], _bleio.UUID(0x2A0A),
                                      properties=Characteristic.READ)
    with pytest.raises(_bleio.RoleError, match="peer"):
        _bleio.Descriptor.add_to_characteristic(services[0].characteristics[0],
                                                _bleio.UUID(0x2908))


def test_set_cccd_on_a_local_characteristic_is_an_error(server):
    with pytest.raises(_bleio.BluetoothError):
        server.uart.tx.set_cccd(notify=True)


def test_service_without_an_adapter():
    central = _bleio.adapter
    _bleio.set_adapter(None)
    try:
        with pytest.raises(_bleio.BluetoothError, match="No adapter"):
            _bleio.Service(_bleio.UUID(0x180F))
    finally:
        _bleio.set_adapter(central)


def test_buffers_on_local_characteristics_after_deinit(server):
    buf = _bleio.CharacteristicBuffer(server.fixed, timeout=0.1, buffer_size=8)
    assert buf.in_waiting == 0
    # Nothing written within the timeout.
    assert buf.read(1) == b""
    buf.deinit()
    with pytest.raises(ValueError, match="deinitialized"):
        buf.read(1)
    with pytest.raises(ValueError, match="deinitialized"):
        buf.readinto(bytearray(4))
    pbuf = _bleio.PacketBuffer(server.packets, buffer_size=2)
    assert pbuf.readinto(bytearray(20)) == 0
    pbuf.deinit()
    with pytest.raises(ValueError, match="deinitialized"):
        pbuf.readinto(bytearray(20))
    with pytest.raises(ValueError, match="deinitialized"):
        pbuf.write(b"x")

