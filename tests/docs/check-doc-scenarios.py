#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks every JSON scenario shown in the guide pages with `bleio-sim --check`.

Usage: check-doc-scenarios.py BLEIO_SIM PAGE.md...
"""

import os
import re
import subprocess
import sys
import tempfile

sim, pages = sys.argv[1], sys.argv[2:]
checked = failed = 0
with tempfile.TemporaryDirectory() as tmp:
    for page in pages:
        text = open(page, encoding="utf-8").read()
        for m in re.finditer(r"^```json\n(.*?)^```", text, re.S | re.M):
            checked += 1
            where = f"{os.path.basename(page)}:{text.count(chr(10), 0, m.start()) + 2}"
            path = os.path.join(tmp, f"scenario{checked}.json")
            with open(path, "w") as f:
                f.write(m.group(1))
            r = subprocess.run([sim, "--check", "--scenario", path],
                               capture_output=True, text=True)
            if r.returncode != 0:
                failed += 1
                print(f"FAIL {where}: bleio-sim rejects the scenario\n{r.stdout}{r.stderr}")
            else:
                print(f"ok   {where}: {r.stdout.strip()}")
if checked == 0:
    sys.exit("no ```json scenarios found: wrong page list?")
print(f"{checked - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
