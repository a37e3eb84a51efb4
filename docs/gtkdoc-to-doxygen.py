#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Doxygen INPUT_FILTER: rewrites libbleio's gtk-doc comments for Doxygen.

Used only when the API reference is built without introspection (the
gi-docgen path reads the comments as they are). Keeps the line count, so
Doxygen's warnings point at the right lines. For headers:
  "name:" first lines      -> dropped (a function's comment sits right above
                              it) or \\def / \\struct for macros and types
  "@param: text"           -> "@param param text"
  "@BLEIO_VALUE: text"     -> "- BLEIO_VALUE: text" (enumeration values)
  "Returns: text"          -> "@return text"
  %CONST, #Type, @param    -> CONST, Type, \\p param
For the Markdown guide pages it drops the gi-docgen "Title:"/"Slug:" header
and turns the first heading into the page title.
"""

import re
import sys

path = sys.argv[1]
text = open(path, encoding="utf-8").read()

if path.endswith(".md"):
    lines = text.split("\n")
    out = []
    for line in lines:
        if re.match(r"^(Title|Slug):", line):
            out.append("")
        else:
            out.append(line)
    sys.stdout.write("\n".join(out))
    sys.exit(0)


def rewrite(block, following):
    lines = block.split("\n")
    out = []
    first_done = False
    for line in lines:
        m = re.match(r"^(\s*\*\s*)([A-Za-z_][\w:-]*)\s*:\s*(\(.*\))?\s*$", line)
        if not first_done and m:
            first_done = True
            name = m.group(2)
            if re.match(r"^[A-Z][A-Z0-9_]+$", name):
                out.append(f"{m.group(1)}\\def {name}")
            elif re.match(r"^Bleio\w+$", name) and "::" not in name \
                    and not re.match(r"\s*typedef\b", following):
                out.append(f"{m.group(1)}\\struct {name}")
            else:
                out.append(m.group(1).rstrip())
            continue
        p = re.match(r"^(\s*\*\s*)@(\w+)\s*:\s?(.*)$", line)
        if p:
            desc = re.sub(r"(?<![\w@])@(\w+)", r"\\p \1", p.group(3))
            if re.match(r"^[A-Z][A-Z0-9_]+$", p.group(2)):
                line = f"{p.group(1)}- {p.group(2)}: {desc}"
            else:
                line = f"{p.group(1)}@param {p.group(2)} {desc}"
        else:
            r = re.match(r"^(\s*\*\s*)Returns\s*:\s?(.*)$", line)
            if r:
                line = f"{r.group(1)}@return {r.group(2)}"
            line = re.sub(r"(?<![\w@])@(\w+)", r"\\p \1", line)
        line = re.sub(r"%(\w+)", r"\1", line)
        line = re.sub(r"#(Bleio\w+|G\w+)", r"\1", line)
        out.append(line)
    return "\n".join(out)


# Doxygen documents global functions only for documented files; the
# marker goes on the first line so that line numbers stay the same.
result = ["/** \\file */ "]
pos = 0
for m in re.finditer(r"/\*\*.*?\*/", text, re.S):
    result.append(text[pos:m.start()])
    following = text[m.end():m.end() + 200].lstrip()
    result.append(rewrite(m.group(0), following))
    pos = m.end()
result.append(text[pos:])
sys.stdout.write("".join(result))
