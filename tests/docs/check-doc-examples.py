#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compiles every C example of the guide pages against the public headers.

Usage: check-doc-examples.py CC INCLUDE_DIR PAGE.md...

A ```c block that defines main() is compiled as it is; a block that starts
with a static definition is compiled at file scope; any other block is a
fragment and is compiled as a block inside a function that has `adapter`
(BleioAdapter *), `peer` (const BleioAddress *) and `loop` (GMainLoop *) in
scope (a fragment may declare its own). Each is checked with -fsyntax-only -Wall -Werror, so a page that
calls a function that does not exist, or with the wrong arguments, fails.
"""

import os
import re
import shlex
import subprocess
import sys
import tempfile

cc = shlex.split(sys.argv[1])
incdir = sys.argv[2]
pages = sys.argv[3:]

cflags = subprocess.run(["pkg-config", "--cflags", "glib-2.0", "gobject-2.0", "gio-2.0"],
                        capture_output=True, text=True, check=True).stdout.split()
warn = ["-Wall", "-Werror", "-Wno-unused-variable", "-Wno-unused-function",
        "-Wno-unused-but-set-variable"]


def wrap(block, n):
    if re.search(r"^\s*(int\s+)?main\s*\(", block, re.M):
        return block if "#include <bleio/bleio.h>" in block else \
            "#include <bleio/bleio.h>\n" + block
    head = "#include <bleio/bleio.h>\n"
    if block.lstrip().startswith("static"):
        return head + block
    fn = f"doc_fragment_{n}"
    return (head +
            f"int {fn} (BleioAdapter *adapter, const BleioAddress *peer, GMainLoop *loop);\n"
            f"int\n{fn} (BleioAdapter *adapter, const BleioAddress *peer, GMainLoop *loop)\n{{\n"
            "  (void) adapter; (void) peer; (void) loop;\n"
            f"  {{\n{block}\n  }}\n  return 0;\n}}\n")


failed = compiled = 0
with tempfile.TemporaryDirectory() as tmp:
    for page in pages:
        text = open(page, encoding="utf-8").read()
        for m in re.finditer(r"^```c\n(.*?)^```", text, re.S | re.M):
            compiled += 1
            line = text.count("\n", 0, m.start()) + 2
            src = os.path.join(tmp, f"example{compiled}.c")
            with open(src, "w") as f:
                f.write(wrap(m.group(1), compiled))
            r = subprocess.run(cc + ["-std=gnu11", "-fsyntax-only", "-I", incdir] + cflags + warn + [src],
                               capture_output=True, text=True)
            where = f"{os.path.basename(page)}:{line}"
            if r.returncode != 0:
                failed += 1
                print(f"FAIL {where}: the example does not compile")
                print(r.stdout + r.stderr)
            else:
                print(f"ok   {where}")

if compiled == 0:
    sys.exit("no ```c examples found: wrong page list?")
print(f"{compiled - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
