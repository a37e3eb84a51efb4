# SPDX-License-Identifier: MIT
"""The CircuitPython-style central example runs unchanged against the demo
peripheral: scan by name, connect, discover, battery level, three heart-rate
notifications through a CharacteristicBuffer."""

import os
import subprocess
import sys


def test_central_heart_rate(examples):
    script = os.path.join(examples, "central_heart_rate.py")
    out = subprocess.run([sys.executable, script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "found InterestingPeripheral at <Address 00:aa:01:01:00:01>"
    assert "connected: True" in lines
    # The demo's battery level is 0x62.
    assert "battery level: 98 %" in lines
    rates = [l for l in lines if l.startswith("heart rate: ")]
    # The demo notifies 0648, 064a, 064c, 0650, 064e in a loop: three
    # consecutive ones, whichever the subscription started at.
    cycle = [72, 74, 76, 80, 78]
    got = [int(l.split()[2]) for l in rates]
    assert len(got) == 3
    start = cycle.index(got[0])
    assert got == [cycle[(start + i) % 5] for i in range(3)]
    assert lines[-1] == "disconnected: True"
