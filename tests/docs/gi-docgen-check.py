#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs `gi-docgen check` on Bleio-0.1.gir and fails on undocumented API.

Usage: gi-docgen-check.py [--strict] GI_DOCGEN CONFIG GIR_FILE [INCLUDE_DIR]

gi-docgen calls a symbol "not documented" when its comment has no
description, even when the comment documents every parameter and the
return value (a getter documented by its "Returns:" line alone). That is a
documented symbol, so it is listed here as a note and does not fail; a
symbol with no comment at all, an undocumented parameter, an undocumented
return value, signal or property fails the test. With --strict, a missing
description fails too.
"""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

args = sys.argv[1:]
strict = "--strict" in args
args = [a for a in args if a != "--strict"]
gidocgen, config, gir_path = args[0:3]
include = args[3:4]

CORE = "{http://www.gtk.org/introspection/core/1.0}"
GLIB = "{http://www.gtk.org/introspection/glib/1.0}"

cmd = [gidocgen, "check", "--config", config]
if include:
    cmd += ["--add-include-path", include[0]]
cmd.append(gir_path)
proc = subprocess.run(cmd, capture_output=True, text=True)
output = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
# It exits with 1 when it warned; anything else, or 1 without a warning, is
# gi-docgen itself failing (a GIR it cannot read, a bad configuration).
if proc.returncode not in (0, 1) or (proc.returncode == 1 and "WARNING" not in output):
    print(output)
    sys.exit(f"gi-docgen check itself failed (exit status {proc.returncode})")

namespace = ET.parse(gir_path).getroot().find(CORE + "namespace")


def lookup(path):
    """The GIR element for 'Bleio.Type.member' or 'Bleio.function'."""
    parts = path.split(".")[1:]
    el = namespace
    for part in parts:
        found = None
        for child in el:
            if child.get("name") == part:
                found = child
                break
        if found is None:
            return None
        el = found
    return el


def has_comment(el):
    """True when some part of the symbol's gtk-doc comment reached the GIR."""
    if el is None:
        return False
    for tag in ("return-value", "parameters"):
        part = el.find(CORE + tag)
        if part is None:
            continue
        if part.find(CORE + "doc") is not None:
            return True
        for param in part:
            if param.find(CORE + "doc") is not None:
                return True
    return False


failures, notes = [], []
# --strict: a symbol needs a description too (gi-docgen's own rule).
for line in output.splitlines():
    m = re.search(r"WARNING: (.*)$", line)
    if not m:
        continue
    text = m.group(1)
    sym = re.match(r"Symbol '([^']+)' at .* is not documented", text)
    if sym:
        el = lookup(sym.group(1))
        if not strict and el is not None and \
                el.tag in (CORE + "method", CORE + "function", CORE + "constructor") and \
                has_comment(el):
            notes.append(f"{sym.group(1)}: documented by its parameters and "
                         f"Returns: only; a sentence of description would help")
            continue
    failures.append(text)

for n in notes:
    print(f"note: {n}")
for f in failures:
    print(f"FAIL: {f}")
print(f"gi-docgen check: {len(failures)} undocumented, {len(notes)} without a description")
sys.exit(1 if failures else 0)
