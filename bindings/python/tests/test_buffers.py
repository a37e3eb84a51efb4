# SPDX-License-Identifier: MIT
"""CharacteristicBuffer and PacketBuffer on a notifying characteristic, the
way adafruit_ble's UART and packet services use them. Notifications are sent
by the test through the simulator (scenarios/buffers.json), so every byte is
known."""

import time

import pytest

import _bleio
from conftest import address, sim

PERIPHERAL = "00:AA:02:00:00:01"
DEVICE = "/org/bluez/hci0/dev_00_AA_02_00_00_01"
TX_PATH = DEVICE + "/service0010/char0013"
BOTH_PATH = DEVICE + "/service0010/char0016"


def uuid(n):
    return _bleio.UUID("6e40000%d-b5a3-f393-e0a9-e50e24dcca9e" % n)


def notify(path, data):
    sim("Notify", path, "[byte " + ", ".join("0x%02x" % b for b in data) + "]")


@pytest.fixture
def link(adapter):
    conn = adapter.connect(address(PERIPHERAL), timeout=10)
    chars = {c.uuid: c for s in conn.discover_remote_services() for c in s.characteristics}
    yield conn, chars
    conn.disconnect()


@pytest.fixture
def cbuf(link):
    _, chars = link
    tx = chars[uuid(3)]
    buf = _bleio.CharacteristicBuffer(tx, timeout=5, buffer_size=64)
    tx.set_cccd(notify=True)
    yield buf
    buf.deinit()


def wait_packet(pbuf, size=64):
    """PacketBuffer.readinto() does not block: poll until a packet is there."""
    buf = bytearray(size)
    for _ in range(500):
        n = pbuf.readinto(buf)
        if n:
            return bytes(buf[:n])
        time.sleep(0.01)
    raise AssertionError("no packet arrived")


# ---- CharacteristicBuffer ----

def test_read_nbytes(cbuf):
    notify(TX_PATH, b"hello")
    assert cbuf.read(5) == b"hello"


def test_read_none_reads_what_has_arrived(cbuf):
    notify(TX_PATH, b"abc")
    data = cbuf.read()
    # Whatever was there when the first byte arrived: a prefix of the notification.
    assert data and b"abc".startswith(data)
    rest = cbuf.read(3 - len(data)) if len(data) < 3 else b""
    assert data + rest == b"abc"


def test_read_across_notifications(cbuf):
    notify(TX_PATH, b"12")
    notify(TX_PATH, b"34")
    assert cbuf.read(4) == b"1234"


def test_read_times_out_with_fewer_bytes(link):
    _, chars = link
    buf = _bleio.CharacteristicBuffer(chars[uuid(3)], timeout=0.2)
    chars[uuid(3)].set_cccd(notify=True)
    assert buf.read(4) == b""
    notify(TX_PATH, b"x")
    while buf.in_waiting == 0:
        time.sleep(0.01)
    assert buf.read(4) == b"x"
    buf.deinit()


def test_readinto_writes_into_the_callers_buffer(cbuf):
    notify(TX_PATH, b"wxyz")
    target = bytearray(b"....")
    assert cbuf.readinto(target) == 4
    assert target == bytearray(b"wxyz")
    with pytest.raises(TypeError):
        cbuf.readinto(b"read-only")


def test_readline(cbuf):
    notify(TX_PATH, b"line one\nrest")
    assert cbuf.readline() == b"line one\n"
    assert cbuf.read(4) == b"rest"


def test_readline_across_notifications(cbuf):
    notify(TX_PATH, b"ab")
    notify(TX_PATH, b"c\nde")
    assert cbuf.readline() == b"abc\n"
    assert cbuf.in_waiting == 2
    assert cbuf.read(2) == b"de"


def test_readline_longer_than_the_buffer_comes_in_pieces(link):
    _, chars = link
    buf = _bleio.CharacteristicBuffer(chars[uuid(3)], timeout=5, buffer_size=4)
    chars[uuid(3)].set_cccd(notify=True)
    notify(TX_PATH, b"abcd")
    assert buf.readline() == b"abcd"
    buf.deinit()


def test_readline_times_out_with_what_arrived(link):
    _, chars = link
    buf = _bleio.CharacteristicBuffer(chars[uuid(3)], timeout=0.3)
    chars[uuid(3)].set_cccd(notify=True)
    notify(TX_PATH, b"no newline")
    while buf.in_waiting < 10:
        time.sleep(0.01)
    assert buf.readline() == b"no newline"
    assert buf.readline() == b""
    buf.deinit()


def test_in_waiting_and_reset(cbuf):
    notify(TX_PATH, b"abcdef")
    while cbuf.in_waiting < 6:
        time.sleep(0.01)
    assert cbuf.in_waiting == 6
    cbuf.reset_input_buffer()
    assert cbuf.in_waiting == 0


def test_full_buffer_drops_new_bytes(link):
    _, chars = link
    buf = _bleio.CharacteristicBuffer(chars[uuid(3)], timeout=1, buffer_size=4)
    chars[uuid(3)].set_cccd(notify=True)
    notify(TX_PATH, b"1234")
    while buf.in_waiting < 4:
        time.sleep(0.01)
    notify(TX_PATH, b"5678")
    notify(TX_PATH, b"9")  # a marker that must be dropped too
    # The marker's notification has been handled once a read of another
    # characteristic (queued after it on the same bus) returns.
    chars[uuid(5)].value
    assert buf.read(8) == b"1234"
    buf.deinit()


def test_deinit(link):
    _, chars = link
    with _bleio.CharacteristicBuffer(chars[uuid(3)]) as buf:
        pass
    with pytest.raises(ValueError, match="deinitialized"):
        buf.read(1)


def test_characteristic_buffer_argument_checks(link):
    _, chars = link
    tx = chars[uuid(3)]
    with pytest.raises(TypeError):
        _bleio.CharacteristicBuffer(tx, 1.0)
    with pytest.raises(TypeError, match="Characteristic"):
        _bleio.CharacteristicBuffer("tx")
    with pytest.raises(ValueError, match="buffer_size"):
        _bleio.CharacteristicBuffer(tx, buffer_size=0)
    with pytest.raises(ValueError, match="timeout"):
        _bleio.CharacteristicBuffer(tx, timeout=-1)
    with pytest.raises(TypeError, match="timeout"):
        _bleio.CharacteristicBuffer(tx, timeout="1")
    buf = _bleio.CharacteristicBuffer(tx)
    with pytest.raises(ValueError, match="nbytes"):
        buf.read(0)
    with pytest.raises(TypeError, match="nbytes"):
        buf.read("1")
    buf.deinit()


def test_read_after_link_lost_is_a_connection_error(adapter):
    conn = adapter.connect(address(PERIPHERAL), timeout=10)
    chars = {c.uuid: c for s in conn.discover_remote_services() for c in s.characteristics}
    buf = _bleio.CharacteristicBuffer(chars[uuid(3)], timeout=1)
    chars[uuid(3)].set_cccd(notify=True)
    notify(TX_PATH, b"ab")
    while buf.in_waiting < 2:
        time.sleep(0.01)
    sim("DropLink", DEVICE, "test")
    while conn.connected:
        time.sleep(0.01)
    # What arrived before the link went is still there, then the error.
    assert buf.read(2) == b"ab"
    with pytest.raises(_bleio.ConnectionError):
        buf.read(1)
    buf.deinit()


# ---- PacketBuffer ----

def test_packet_buffer_keeps_boundaries(link):
    _, chars = link
    pbuf = _bleio.PacketBuffer(chars[uuid(3)], buffer_size=4)
    assert pbuf.incoming_packet_length == 244
    notify(TX_PATH, b"one")
    notify(TX_PATH, b"two!")
    assert wait_packet(pbuf) == b"one"
    assert wait_packet(pbuf) == b"two!"
    assert pbuf.readinto(bytearray(8)) == 0
    pbuf.deinit()


def test_packet_buffer_too_short(link):
    _, chars = link
    pbuf = _bleio.PacketBuffer(chars[uuid(3)], buffer_size=4)
    notify(TX_PATH, b"0123456789")
    small = bytearray(4)
    for _ in range(500):
        try:
            if pbuf.readinto(small):
                raise AssertionError("a 10-byte packet fitted in 4 bytes")
        except ValueError as e:
            assert str(e) == "Buffer too short by 6 bytes"
            break
        time.sleep(0.01)
    else:
        raise AssertionError("the packet never arrived")
    pbuf.deinit()


def test_packet_buffer_write(link):
    _, chars = link
    with _bleio.PacketBuffer(chars[uuid(4)], buffer_size=2) as pbuf:
        assert pbuf.outgoing_packet_length == 244
        assert pbuf.write(b"hi") == 2
        assert pbuf.write(b"hi", header=b"\x01") == 3
        with pytest.raises(ValueError):
            pbuf.write(bytes(245))
        with pytest.raises(TypeError):
            pbuf.write(b"hi", b"\x01")
        with pytest.raises(TypeError):
            pbuf.write("text")


def test_packet_buffer_max_packet_size(link):
    _, chars = link
    with _bleio.PacketBuffer(chars[uuid(4)], buffer_size=2, max_packet_size=20) as pbuf:
        assert pbuf.outgoing_packet_length == 20
        with pytest.raises(ValueError):
            pbuf.write(bytes(21))


def test_packet_buffer_argument_checks(link):
    _, chars = link
    tx = chars[uuid(3)]
    with pytest.raises(TypeError, match="buffer_size"):
        _bleio.PacketBuffer(tx)
    with pytest.raises(TypeError):
        _bleio.PacketBuffer(tx, 4)
    with pytest.raises(ValueError, match="buffer_size"):
        _bleio.PacketBuffer(tx, buffer_size=0)
    with pytest.raises(ValueError, match="max_packet_size"):
        _bleio.PacketBuffer(tx, buffer_size=1, max_packet_size=0)
    with pytest.raises(TypeError, match="max_packet_size"):
        _bleio.PacketBuffer(tx, buffer_size=1, max_packet_size="20")
    with pytest.raises(TypeError, match="Characteristic"):
        _bleio.PacketBuffer(None, buffer_size=1)


def test_packet_buffer_deinit(link):
    _, chars = link
    pbuf = _bleio.PacketBuffer(chars[uuid(3)], buffer_size=1)
    pbuf.deinit()
    with pytest.raises(ValueError, match="deinitialized"):
        pbuf.readinto(bytearray(4))
