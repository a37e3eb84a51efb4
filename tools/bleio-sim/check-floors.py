#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that bleio-sim's files keep to their floors (README.md, "Floors").

FLOORS lists the simulator's files bottom first. A file may include the
header of, and name a non-static function or variable defined in, a file
listed before it, never one listed after it: that rules out every circle
between files. Hooks (function pointers a higher file registers) are the
way up and are not names, so they pass. The check is textual: comments and
string literals are removed, a definition is a name at the start of a line
followed by " (" (GNU style puts the return type on the line before) or a
file-scope variable, a use is the name as a word anywhere else.

It also checks that no .c or .h file of the simulator is over MAX_LINES
lines.

Usage: check-floors.py [DIR]   (default: the directory of this file)
Exit status 0 when everything holds; otherwise it lists what does not.
"""
import os
import re
import sys

MAX_LINES = 1200

# Bottom first; a header belongs to the .c of the same name. sim-bus.c and
# sim-run.c are the `bleio-sim run` side, which only main.c calls.
FLOORS = [
    "sim-json",        # 0 values: JSON with positions
    "sim-scenario",    # 0 values: the scenario model, the built-in demo
    "sim-registry",    # 1 the bus: objects, ObjectManager, Introspect, filter
    "sim-hostile",     # 2 faults in what the bus shows (hooks into 1)
    "sim-world",       # 3 the world: runtime structs, shared state, hooks
    "sim-battery",     # 3 Battery1
    "sim-agent",       # 3 AgentManager1, pairing
    "sim-notify",      # 3 notifications, sessions, acquired sockets
    "sim-gatt-server", # 3 GattManager1, each adapter's local database
    "sim-gatt-peer",   # 3 the local database served to other adapters
    "sim-gatt",        # 3 GATT objects, reads and writes
    "sim-device",      # 3 Device1, the link
    "sim-monitor",     # 3 AdvertisementMonitorManager1, monitors
    "sim-adapter-misc", # 3 an adapter's property-only interfaces
    "sim-adapter",     # 3 Adapter1, discovery, the advertising loop
    "sim-air",         # 3 the adapters' shared air, links between them
    "sim-advertisement", # 3 one LEAdvertisement1: parsing, length, air
    "sim-advertising", # 3 LEAdvertisingManager1
    "sim-daemon",      # 4 bring-up, /org/bluez, Restart
    "sim-control",     # 5 org.bleio.Sim1 (restarts the daemon)
    "sim-bus",         # 5 the private bus of `bleio-sim run` and the tests
    "sim-run",         # 5 `bleio-sim run`
    "main",            # 6 the program
]


def strip(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)
    text = re.sub(r"'(?:\\.|[^'\\\n])'", "''", text)
    return text


def definitions(text):
    names = set()
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = re.match(r"^([a-z_][a-z0-9_]*) \(", line)
        if m and i > 0 and not re.search(r"\bstatic\b", lines[i - 1]):
            names.add(m.group(1))
        m = re.match(r"^(?!static\b|typedef\b|extern\b|#)[A-Za-z_][\w\s\*]*?\b"
                     r"([a-z_][a-z0-9_]*)\s*(?:\[\])?\s*(?:=|;)", line)
        if m and "(" not in line.split("=")[0]:
            names.add(m.group(1))
    return names


def main():
    sim = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    problems = []

    floor = {name: i for i, name in enumerate(FLOORS)}
    texts = {}
    includes = {}
    for f in sorted(os.listdir(sim)):
        if not f.endswith((".c", ".h")):
            continue
        stem = f[:-2]
        if stem not in floor:
            problems.append(f"{f}: not in FLOORS (say where it belongs)")
            continue
        with open(os.path.join(sim, f), encoding="utf-8") as fh:
            raw = fh.read()
        if raw.count("\n") > MAX_LINES:
            problems.append(f"{f}: {raw.count(chr(10))} lines (more than {MAX_LINES})")
        texts[f] = strip(raw)
        includes[f] = re.findall(r'^#\s*include\s+"([^"]+)\.h"', raw, flags=re.M)

    owner = {}
    for f, text in texts.items():
        if f.endswith(".c"):
            for name in definitions(text):
                owner[name] = f[:-2]

    edges = 0
    for f, text in texts.items():
        me = f[:-2]
        for inc in includes[f]:
            if inc not in floor:
                continue
            edges += 1
            if floor[inc] > floor[me]:
                problems.append(f"{f} includes {inc}.h, a higher floor")
        for name, where in owner.items():
            if where == me or not re.search(r"\b" + re.escape(name) + r"\b", text):
                continue
            edges += 1
            if floor[where] > floor[me]:
                problems.append(f"{f} uses {name} of {where}.c, a higher floor")

    for p in problems:
        print(p)
    print(f"{len(texts)} files, {len(owner)} non-static names, {edges} include/use "
          f"edges checked: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
