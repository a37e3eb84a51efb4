# SPDX-License-Identifier: MIT
"""No leak over many scans and reads: Python objects (tracemalloc) and the
process's memory (RSS, which also shows what the C side keeps) stay flat
after a warm-up, and wrapper objects hold exactly the references they
should."""

import gc
import sys
import tracemalloc

import _bleio
from conftest import find, sim

N = 10_000


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def measure(work, rounds, warm_up=None):
    """Runs work() `rounds` times after a warm-up (a tenth of that unless
    given); returns (bytes of Python memory still allocated, KiB of RSS
    gained)."""
    for _ in range(rounds // 10 if warm_up is None else warm_up):
        work()
    gc.collect()
    tracemalloc.start()
    base_py = tracemalloc.get_traced_memory()[0]
    base_rss = rss_kib()
    for _ in range(rounds):
        work()
    gc.collect()
    grown_py = tracemalloc.get_traced_memory()[0] - base_py
    tracemalloc.stop()
    return grown_py, rss_kib() - base_rss


def test_reads_do_not_leak(services):
    battery = find(services, 0x2A19)

    def read():
        assert battery.value == b"\x62"

    py, rss = measure(read, N)
    # A leaked bytes object per read would be 10,000 x 34 bytes.
    assert py < 32 * 1024, "Python memory grew by %d bytes over %d reads" % (py, N)
    # A leaked GBytes or GTask per read would be several hundred KiB.
    assert rss < 1024, "RSS grew by %d KiB over %d reads" % (rss, N)


def test_writes_and_descriptor_reads_do_not_leak(services):
    ch = [c for s in services for c in s.characteristics
          if c.uuid == _bleio.UUID("12345678-1234-5678-1234-56789abcdef2")][0]
    desc = ch.descriptors[0]

    def work():
        ch.value = b"\x01"
        assert desc.value == b"Write me"

    py, rss = measure(work, N // 2)
    assert py < 32 * 1024, py
    assert rss < 1024, rss


def test_scans_do_not_leak(adapter):
    def work():
        results = adapter.start_scan(timeout=0)
        adapter.stop_scan()
        list(results)

    # Each scan starts and joins worker-side state; the allocator settles
    # only after several hundred of them, so warm up as long as we measure.
    py, rss = measure(work, 1000, warm_up=1000)
    assert py < 32 * 1024, py
    assert rss < 1024, rss


def test_wrappers_hold_the_references_they_should(adapter, connection, services):
    before = sys.getrefcount(connection)
    for _ in range(1000):
        assert adapter.connections[0] is connection
        assert services[0].connection is connection
    assert sys.getrefcount(connection) == before
    ch = services[0].characteristics[0]
    before = sys.getrefcount(ch)
    for _ in range(1000):
        assert ch.descriptors[0].characteristic is ch
    assert sys.getrefcount(ch) == before
    uuid = _bleio.UUID(0x180F)
    before = sys.getrefcount(uuid)
    for _ in range(1000):
        hash(uuid), uuid == uuid, repr(uuid)
    assert sys.getrefcount(uuid) == before


def test_local_values_and_buffers_do_not_leak(adapter):
    # The local GATT server's members on the demo adapter (nobody connects:
    # test_gatt_server.py serves a client).
    service = _bleio.Service(_bleio.UUID(0x1830))
    level = _bleio.Characteristic.add_to_service(
        service, _bleio.UUID(0x2A19), properties=_bleio.Characteristic.READ |
        _bleio.Characteristic.NOTIFY | _bleio.Characteristic.WRITE_NO_RESPONSE,
        user_description="Level")
    desc = level.descriptors[0]

    def values():
        level.value = b"\x10"
        assert level.value == b"\x10"
        assert desc.value == b"Level"
        assert level.service is service

    py, rss = measure(values, N)
    assert py < 32 * 1024, py
    assert rss < 1024, rss

    # A local value is read without a wait: enough gets that one leaked
    # GBytes each (some 80 bytes) would be megabytes of RSS.
    def gets():
        assert level.value == b"\x10"
        assert desc.value == b"Level"

    py, rss = measure(gets, 10 * N)
    assert py < 32 * 1024, py
    assert rss < 1024, rss

    def buffers():
        _bleio.CharacteristicBuffer(level, timeout=0, buffer_size=16).deinit()
        with _bleio.PacketBuffer(level, buffer_size=2) as pbuf:
            assert pbuf.readinto(bytearray(8)) == 0

    py, rss = measure(buffers, 1000)
    assert py < 32 * 1024, py
    assert rss < 1024, rss
    before = sys.getrefcount(service)
    for _ in range(1000):
        assert level.service is service
        assert service.characteristics[0] is level
    assert sys.getrefcount(service) == before
