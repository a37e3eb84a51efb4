# SPDX-License-Identifier: MIT
"""The CircuitPython-style examples run unchanged: the central against the
demo peripheral (scan by name, connect, discover, battery level, three
heart-rate notifications through a CharacteristicBuffer), and the Nordic UART
client against tests/sim/scenarios/nus.json (scan by service UUID, write a
line, read lines)."""

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


def test_uart_client(examples):
    # Its own simulator, on the NUS scenario the C example uses.
    scenario = os.path.join(os.path.dirname(__file__), "..", "..", "..",
                            "tests", "sim", "scenarios", "nus.json")
    out = subprocess.run([os.environ["BLEIO_SIM"], "run", "--scenario", scenario, "--",
                          sys.executable, os.path.join(examples, "uart_client.py")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "found a UART peripheral at <Address 00:aa:03:00:00:01>"
    received = [l[len("received: "):] for l in lines if l.startswith("received: ")]
    assert len(received) == 3
    assert set(received) <= {"hello from nus", "tick 1", "tick 2", "tick 3"}
