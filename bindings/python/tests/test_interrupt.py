# SPDX-License-Identifier: MIT
"""Ctrl-C (SIGINT) interrupts a blocking scan iteration, connect, read or
start_advertising with KeyboardInterrupt, and the interrupted call leaves
nothing behind. The child (interrupt_child.py) blocks in a call that would
not end on its own within the test's time; SIGINT is sent once the
simulator's call log shows the child's request arrived, so the child is
inside the call."""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import sim

HERE = os.path.dirname(os.path.abspath(__file__))


def run_interrupted(mode, methods, before_signal=None):
    sim("ResetCalls")
    child = subprocess.Popen([sys.executable, os.path.join(HERE, "interrupt_child.py"), mode],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=HERE)
    try:
        assert child.stdout.readline() == "blocking\n"
        # A bound only so that a broken child fails rather than hangs.
        deadline = time.monotonic() + 60
        while not any("'%s'" % m in sim("GetCalls") for m in methods):
            assert child.poll() is None, child.stderr.read()
            assert time.monotonic() < deadline, "the child never called %s" % (methods,)
            time.sleep(0.01)
        # The request is out: the child is in the call or a few instructions
        # from it (the reply has to come back first).
        if before_signal is not None:
            before_signal()
        time.sleep(0.2)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    return out.splitlines()


def test_interrupt_scan_iteration():
    lines = run_interrupted("scan", ["StartDiscovery"])
    assert lines == ["KeyboardInterrupt", "scan again: ok"]


def test_interrupt_connect():
    lines = run_interrupted("connect", ["StartDiscovery", "ConnectDevice"])
    assert lines == ["KeyboardInterrupt", "connections: 0", "connect again: True"]


def test_interrupt_read():
    lines = run_interrupted("read", ["ReadValue"])
    assert lines == ["KeyboardInterrupt", "still connected: True", "read other: b'bleio'"]


def test_interrupt_characteristic_buffer_read():
    lines = run_interrupted("bufread", ["ReadValue"])
    assert lines == ["KeyboardInterrupt", "in_waiting: 0", "still connected: True"]


def test_interrupt_readline_keeps_what_it_had_taken():
    battery = "/org/bluez/hci0/dev_00_AA_01_01_00_01/service0045/char0046"

    def send():
        sim("Notify", battery, "[byte 0x61, 0x62, 0x63]")
        sim("Notify", battery, "[byte 0x64, 0x65, 0x66]")
        # Time for the child's readline() to take them (it waits in 0.1 s
        # slices); the assertion holds whether it did or not.
        time.sleep(0.5)

    lines = run_interrupted("bufline", ["ReadValue"], before_signal=send)
    assert lines == ["KeyboardInterrupt", "in_waiting: 6", "read: b'abcdef'"]


def test_interrupt_start_advertising():
    lines = run_interrupted("advertise", ["RegisterAdvertisement"])
    assert lines == ["KeyboardInterrupt", "advertising: False", "advertise again: True"]
