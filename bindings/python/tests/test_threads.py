# SPDX-License-Identifier: MIT
"""Blocking calls release the GIL: another Python thread runs, and uses the
module, while one thread waits in a scan iteration or a read. Each test
would hang (and meson's timeout fail it) if the waiting thread held the
GIL, because the other thread's work is what ends the wait."""

import threading

import _bleio
from conftest import find, sim


def test_scan_iteration_lets_another_thread_read(adapter, services):
    # A prefix nothing advertises: the iteration blocks until stop_scan().
    results = adapter.start_scan(bytes([4, 0x09]) + b"Zzz")
    ended = []

    def iterate():
        ended.append(list(results))

    t = threading.Thread(target=iterate)
    t.start()
    battery = find(services, 0x2A19)
    values = [battery.value for _ in range(20)]
    assert ended == []  # still blocked: nothing matched
    adapter.stop_scan()
    t.join()
    assert ended == [[]]
    assert values == [b"\x62"] * 20


def test_two_threads_reading_at_once(services):
    reads = {0x2A19: b"\x62", 0x2A29: b"bleio", 0x2A24: b"Sim-1"}
    results = {}

    def worker(uuid16):
        ch = find(services, uuid16)
        results[uuid16] = [ch.value for _ in range(50)]

    threads = [threading.Thread(target=worker, args=(u,)) for u in reads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for uuid16, value in reads.items():
        assert results[uuid16] == [value] * 50


def test_two_threads_scan_and_connect(adapter):
    from conftest import INTERESTING, address
    conns = []

    def connect():
        conns.append(adapter.connect(address(INTERESTING), timeout=10))

    results = adapter.start_scan(timeout=1)
    t = threading.Thread(target=connect)
    t.start()
    entries = list(results)
    t.join()
    assert entries
    assert conns[0].connected
    assert adapter.connections == (conns[0],)
    conns[0].disconnect()


def test_read_lets_another_thread_end_it(adapter, connection, services):
    # Last in this file: it restarts the simulated bluetoothd.
    battery = find(services, 0x2A19)
    sim("NoReplyNext", "ReadValue", 1)
    errors = []

    def read():
        try:
            battery.value
        except _bleio.BluetoothError as e:
            errors.append(e)

    t = threading.Thread(target=read)
    t.start()
    # The read never gets an answer, until this thread makes bluetoothd
    # "crash": pending calls then fail at once, as when a daemon dies.
    while "ReadValue" not in sim("GetCalls"):
        pass
    assert t.is_alive()
    sim("Restart", 100)
    t.join()
    assert len(errors) == 1
