# SPDX-License-Identifier: MIT
"""No leak over 10,000 scan entries. Its own scenario (scenarios/chatty.json):
twenty advertisers every 10 ms with a jittery RSSI give a steady stream the
module keeps up with. A Flood outruns the library's worker on a loaded
machine and builds a backlog in the bus and the library that would show in
RSS without being a leak of this module."""

import _bleio
from test_leaks import N, measure


def test_scan_entries_do_not_leak(adapter):
    seen = 0
    results = adapter.start_scan(buffer_size=64 * 1024)

    def work():
        nonlocal seen
        entry = next(results)
        assert isinstance(entry.address, _bleio.Address)
        entry.advertisement_bytes, entry.rssi, entry.connectable
        seen += 1

    py, rss = measure(work, N)
    adapter.stop_scan()
    assert seen == N + N // 10
    assert py < 32 * 1024, "Python memory grew by %d bytes over %d entries" % (py, N)
    assert rss < 1024, "RSS grew by %d KiB over %d entries" % (rss, N)
