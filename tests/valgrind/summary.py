#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One line for a CI step from a meson test log (meson-logs/testlog*.json):
LABEL: N passed, N failed (names)[, N skipped][ in S s].

Usage: summary.py LABEL TESTLOG_JSON [SECONDS]"""
import json
import sys

label, path = sys.argv[1], sys.argv[2]
passed, skipped, failed = 0, 0, []
for line in open(path):
    r = json.loads(line)
    if r["result"] in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif r["result"] == "SKIP":
        skipped += 1
    else:
        failed.append(r["name"])
tail = f" in {int(sys.argv[3])} s" if len(sys.argv) > 3 else ""
names = f" ({', '.join(failed)})" if failed else ""
skips = f", {skipped} skipped" if skipped else ""
print(f"{label}: {passed} passed, {len(failed)} failed{names}{skips}{tail}")
