#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Python programs against Python programs: scan entries and notifications
per second received through the CPython _bleio module (bindings/python,
bench/pybleio-bench.py) against the same work through bleak (Debian's
python3-bleak, bench/bleak-bench.py), on the same simulator in the same
run, alternately, --reps times each; the best rate of each is kept (the
machine is shared: the best run is the least disturbed), and the lowest
CPU per operation.

usage: bench/python-bench.py [BUILDDIR] [--reps N] [--quick]

BUILDDIR (default: build) holds bleio-sim and the _bleio module. Each
phase starts its own `bleio-sim run` (a private bus): the scan phase with
hci0 alone, the notification phase with bench/bench-peripheral.h's
peripheral. bench/run runs this too. Rows are printed as they come and
appended to $BENCH_TSV when set (columns as bench-common.c writes them:
program, case, unit, _bleio, bleak, ratio, then the CPU per operation of
each in microseconds).

The exit status says whether the programs ran, not whether goals were met.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = os.environ.get("BENCH_PYTHON", "/usr/bin/python3")

# bench/bench-peripheral.h's BENCH_PERIPH_SCENARIO, kept the same.
PERIPHERAL = "C0:FF:EE:00:0B:01"
NOTIFY_SCENARIO = {
    "adapters": [{"name": "hci0", "address": "00:AA:01:00:00:00"}],
    "peripherals": [{
        "address": PERIPHERAL, "name": "BenchPeripheral",
        "advertising_interval_ms": 50,
        "connect": {"delay_ms": 1, "resolve_delay_ms": 1},
        "gatt": [{"uuid": "aaa0", "characteristics": [
            {"uuid": "aaa1", "flags": ["read", "notify"], "value": "00"},
            {"uuid": "aaa2", "flags": ["read", "notify"], "value": "00",
             "acquire_notify": False},
        ]}],
    }],
}
SCAN_SCENARIO = {"adapters": [{"name": "hci0", "address": "00:AA:01:00:00:00"}],
                 "peripherals": []}
UUID_BASE = "0000%s-0000-1000-8000-00805f9b34fb"


def gdbus(*args):
    return subprocess.run(["gdbus", "call", "--system"] + list(args), check=True,
                          capture_output=True, text=True).stdout


def sim_name():
    out = gdbus("-d", "org.freedesktop.DBus", "-o", "/org/freedesktop/DBus",
                "-m", "org.freedesktop.DBus.GetNameOwner", "org.bluez")
    return out.split("'")[1]


def side(script, args, env):
    """One measurement by SCRIPT: (rate, CPU seconds per operation), or None
    when the side cannot run (bleak not installed: exit status 3)."""
    proc = subprocess.run([PYTHON, os.path.join(HERE, script)] + [str(a) for a in args],
                          capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode == 3:
        return None
    for line in proc.stdout.splitlines():
        if line.startswith("result "):
            _, seconds, cpu_seconds, count = line.split()
            return int(count) / float(seconds), float(cpu_seconds) / int(count)
    raise RuntimeError("%s %s failed:\n%s%s" % (script, args[0], proc.stdout, proc.stderr))


def measure(name, unit, args, reps, env, rows):
    best = {"_bleio": None, "bleak": None}
    cpu = {"_bleio": None, "bleak": None}
    for _ in range(reps):
        for label, script in (("_bleio", "pybleio-bench.py"), ("bleak", "bleak-bench.py")):
            got = side(script, args, env)
            if got is None:
                continue
            rate, per_op = got
            best[label] = rate if best[label] is None else max(best[label], rate)
            cpu[label] = per_op if cpu[label] is None else min(cpu[label], per_op)
    rows.append((name, unit, best, cpu))
    print_row(name, unit, best, cpu)


def fmt(value, scale=1.0):
    if value is None:
        return "-"
    value *= scale
    return "{:,.0f}".format(value) if value >= 100 else "{:.1f}".format(value)


def print_row(name, unit, best, cpu):
    ratio = ("%.2fx" % (best["_bleio"] / best["bleak"])
             if best["_bleio"] and best["bleak"] else "-")
    cpu_ratio = ("%.2fx" % (cpu["_bleio"] / cpu["bleak"])
                 if cpu["_bleio"] and cpu["bleak"] else "-")
    print("%-30s %-16s %10s %10s %8s | %8s %8s %8s" % (
        name, unit, fmt(best["_bleio"]), fmt(best["bleak"]), ratio,
        fmt(cpu["_bleio"], 1e6), fmt(cpu["bleak"], 1e6), cpu_ratio), flush=True)
    tsv = os.environ.get("BENCH_TSV")
    if tsv:
        with open(tsv, "a", encoding="utf-8") as f:
            f.write("python-bench\t%s\t%s\t%s\t%s\t%s\t-\t%s\t%s\n" % (
                name, unit, best["_bleio"] or "-", best["bleak"] or "-", ratio,
                "%.3f" % (cpu["_bleio"] * 1e6) if cpu["_bleio"] else "-",
                "%.3f" % (cpu["bleak"] * 1e6) if cpu["bleak"] else "-"))


def inner(phase, reps, quick):
    """Runs inside `bleio-sim run`: the measurements of one phase."""
    env = dict(os.environ)
    name = sim_name()
    gdbus("-d", name, "-o", "/org/bleio/sim", "-m", "org.bleio.Sim1.SetTemporaryTimeout",
          "3600000")
    rows = []
    if phase == "scan":
        runs = [(1000, 2), (1000, 4)] if quick else [(1000, 20), (10000, 3)]
        for devices, rounds in runs:
            measure("scan %d devices x %d" % (devices, rounds), "entries/s",
                    ["scan", name, devices, rounds], reps, env, rows)
        return 0
    # The notification phase: the link is made once, here, and both sides
    # find it up (bench-notify.c does the same before bleak runs).
    device = "/org/bluez/hci0/dev_" + PERIPHERAL.replace(":", "_")
    gdbus("-d", "org.bluez", "-o", "/org/bluez/hci0", "-m", "org.bluez.Adapter1.ConnectDevice",
          "{'Address': <'%s'>}" % PERIPHERAL)
    paths = {}
    for _ in range(600):
        out = subprocess.run(["gdbus", "introspect", "--system", "-d", "org.bluez", "-o",
                              device, "-r", "-p"], capture_output=True, text=True).stdout
        current = None
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("node ") and "/char" in line and "/desc" not in line:
                current = line.split()[1]
            if current and "UUID = '0000aaa" in line:
                paths[line.split("'")[1]] = current
        if "ServicesResolved = true" in out and len(paths) >= 2:
            break
        subprocess.run(["sleep", "0.05"])
    else:
        raise RuntimeError("the bench peripheral's services never resolved")
    count = 2000 if quick else 20000
    for uuid16, path in (("aaa2", "signal"), ("aaa1", "fd")):
        uuid = UUID_BASE % uuid16
        for length in (20, 244):
            measure("notify %s %d B" % (path, length), "notifications/s",
                    ["notify", name, device, paths[uuid], uuid, length, count], reps, env, rows)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("builddir", nargs="?", default="build")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--inner", choices=["scan", "notify"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        return inner(args.inner, max(1, args.reps), args.quick)

    builddir = os.path.abspath(args.builddir)
    sim = os.path.join(builddir, "tools", "bleio-sim", "bleio-sim")
    modules = glob.glob(os.path.join(builddir, "bindings", "python", "_bleio*.so"))
    if not os.path.exists(sim) or not modules:
        sys.exit("python-bench: build bleio-sim and the _bleio module in %s first" % builddir)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(modules[0])
    env.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
    print("Python programs: _bleio (this module) against bleak, on bleio-sim")
    print("%-30s %-16s %10s %10s %8s | %8s %8s %8s" % (
        "case", "unit", "_bleio", "bleak", "ratio", "_bleio us", "bleak us", "cpu ratio"))
    print("-" * 30 + " " + "-" * 16 + " " + " ".join(["-" * 10] * 2) + " " + "-" * 8 + " | " +
          " ".join(["-" * 8] * 3), flush=True)
    ok = True
    with tempfile.TemporaryDirectory(prefix="bleio-pybench-") as tmp:
        for phase, scenario in (("scan", SCAN_SCENARIO), ("notify", NOTIFY_SCENARIO)):
            path = os.path.join(tmp, phase + ".json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(scenario, f)
            cmd = [sim, "run", "--scenario", path, "--", PYTHON, os.path.abspath(__file__),
                   "--inner", phase, "--reps", str(args.reps)] + (["--quick"] if args.quick else [])
            proc = subprocess.run(cmd, env=env, stderr=subprocess.PIPE, text=True)
            if proc.returncode != 0:
                print(proc.stderr[-3000:])
                print("python-bench: the %s phase failed (status %d)" % (phase, proc.returncode))
                ok = False
    print("rates: best of %d runs each, alternately; CPU per operation: getrusage of the "
          "receiving Python process (all its threads), lowest of the runs; bleak: Debian's "
          "python3-bleak (a BleakScanner with DuplicateData; start_notify); _bleio: "
          "start_scan() iterated, a CharacteristicBuffer read in chunks of 64 "
          "notifications" % args.reps)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
