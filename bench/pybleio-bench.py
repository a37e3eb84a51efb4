#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The CPython _bleio side of bench/python-bench.py: the work bleak-bench.py
does, written as a CircuitPython program would write it.

usage: pybleio-bench.py scan SIM_NAME DEVICES ROUNDS
       pybleio-bench.py notify SIM_NAME DEVICE_PATH CHAR_PATH CHAR_UUID LEN COUNT

scan: iterate Adapter.start_scan() with the prefix of the Flood's
manufacturer data (company 0xFFFF) until DEVICES x ROUNDS entries are in
hand. notify: connect, discover the characteristic, read the notifications'
bytes out of a CharacteristicBuffer until COUNT x LEN are in hand. As in
bleak-bench.py, the clock starts at the request to the simulator (Flood or
NotifyBurst, sent by a gdbus process: this program loads nothing but
_bleio) and stops when the last entry or byte is in the program's hands.
Prints one line:

    result SECONDS CPU_SECONDS COUNT

CPU_SECONDS is getrusage(RUSAGE_SELF) over the measured part: every thread
of this process, the library's included. Exit status 3: _bleio cannot be
imported (build bindings/python; PYTHONPATH).
"""

import os
import resource
import subprocess
import sys
import time

try:
    import _bleio
except ImportError as e:
    print("pybleio-bench: %s" % e, file=sys.stderr)
    sys.exit(3)

WAIT = 120  # bound on any wait, never a measured duration


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def sim_call(sim_name, member, *args):
    """Starts org.bleio.Sim1.MEMBER; the reply is not waited for (the
    simulator answers at once and works in the background)."""
    return subprocess.Popen(["gdbus", "call", "--system", "-d", sim_name, "-o", "/org/bleio/sim",
                             "-m", "org.bleio.Sim1." + member] + [str(a) for a in args],
                            stdout=subprocess.DEVNULL)


def finish(call):
    if call.wait(WAIT) != 0:
        raise RuntimeError("the simulator refused the request")


def scan(sim_name, devices, rounds):
    adapter = _bleio.adapter
    expected = devices * rounds
    seen = 0
    nbytes = 0
    # The Flood's manufacturer data: company 0xFFFF. The buffer holds a
    # whole Flood, as the C benchmark's does, so nothing is dropped.
    results = adapter.start_scan(b"\x03\xff\xff\xff", buffer_size=256 << 20, minimum_rssi=-127)
    t0, c0 = time.monotonic(), cpu()
    call = sim_call(sim_name, "Flood", "hci0", devices, rounds)
    for entry in results:
        nbytes += len(entry.advertisement_bytes)
        seen += 1
        if seen >= expected:
            break
    t1, c1 = time.monotonic(), cpu()
    adapter.stop_scan()
    finish(call)
    if seen < expected or nbytes == 0:
        raise RuntimeError("%d of %d entries" % (seen, expected))
    return t1 - t0, c1 - c0, expected


def notify(sim_name, device_path, char_path, char_uuid, length, count):
    payload = bytes((i + 4 * 7) & 0xFF for i in range(length))
    text = device_path.rsplit("/dev_", 1)[1].replace("_", "")
    address = _bleio.Address(bytes.fromhex(text)[::-1], _bleio.Address.PUBLIC)
    connection = _bleio.adapter.connect(address, timeout=WAIT)
    # bleak names every UUID in its 128-bit form; _bleio keeps a 16-bit
    # one as such (a 16-bit and a 128-bit UUID are not equal in _bleio).
    if char_uuid.endswith("-0000-1000-8000-00805f9b34fb") and char_uuid.startswith("0000"):
        wanted = _bleio.UUID(int(char_uuid[4:8], 16))
    else:
        wanted = _bleio.UUID(char_uuid)
    characteristic = None
    for service in connection.discover_remote_services():
        for c in service.characteristics:
            if c.uuid == wanted:
                characteristic = c
    if characteristic is None:
        raise RuntimeError("no characteristic %s" % char_uuid)
    # Room for 4096 notifications; read in chunks of 64 as they come.
    chunk = 64 * length
    buffer = _bleio.CharacteristicBuffer(characteristic, timeout=WAIT,
                                         buffer_size=4096 * length)
    characteristic.set_cccd(notify=True)
    total = count * length
    got = 0
    t0, c0 = time.monotonic(), cpu()
    call = sim_call(sim_name, "NotifyBurst", char_path, "[%s]" % ", ".join(
        "byte 0x%02x" % b for b in payload), count)
    while got < total:
        data = buffer.read(min(chunk, total - got))
        if not data:
            break
        if data[0] != payload[(got % length)]:
            raise RuntimeError("unexpected bytes")
        got += len(data)
    t1, c1 = time.monotonic(), cpu()
    buffer.deinit()
    finish(call)
    if got < total:
        raise RuntimeError("%d of %d bytes" % (got, total))
    return t1 - t0, c1 - c0, count


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    what, args = argv[1], argv[2:]
    if what == "scan" and len(args) == 3:
        seconds, cpu_seconds, count = scan(args[0], int(args[1]), int(args[2]))
    elif what == "notify" and len(args) == 6:
        seconds, cpu_seconds, count = notify(args[0], args[1], args[2], args[3], int(args[4]),
                                             int(args[5]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print("result %.9f %.9f %d" % (seconds, cpu_seconds, count), flush=True)
    # The link belongs to the benchmark, as for bleak-bench.py: leave it up.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
