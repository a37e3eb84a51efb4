#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that the files of one directory form no circle, and their sizes.

A file "uses" another when it includes that file's header or names a
non-static function or file-scope variable that the other defines. The
uses between files must form no circle (docs/architecture.md: a lower
floor never includes or calls a higher one; callbacks registered from
above are the way up and are not names, so they pass). A header belongs
to the .c file of the same stem (foo.h, foo-private.h -> foo.c).

The check is textual: comments and string literals are removed first; a
definition is a name at the start of a line followed by " (" (the return
type stands on the line before) or a file-scope variable definition.

Usage: check-no-circles.py DIR MAX_LINES
Exit status 0 when it holds; otherwise it prints each circle and each
file over MAX_LINES lines.
"""
import os
import re
import sys


def strip(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)
    return re.sub(r"'(?:\\.|[^'\\\n])'", "''", text)


def stem_of_header(name):
    base = name[:-2]
    return base[:-len("-private")] if base.endswith("-private") else base


def main():
    directory, max_lines = sys.argv[1], int(sys.argv[2])
    files = sorted(f for f in os.listdir(directory) if f.endswith((".c", ".h")))
    stems = {f[:-2] for f in files if f.endswith(".c")}
    problems = []
    texts = {}
    for f in files:
        with open(os.path.join(directory, f), encoding="utf-8") as handle:
            raw = handle.read()
        if raw.count("\n") > max_lines:
            problems.append(f"{f}: {raw.count(chr(10))} lines, more than {max_lines}")
        texts[f] = raw

    defined = {}   # name -> stem
    for f in files:
        if not f.endswith(".c"):
            continue
        text = strip(texts[f])
        lines = text.split("\n")
        for i, line in enumerate(lines):
            m = re.match(r"^([a-z_][a-z0-9_]*) \(", line)
            if m and i > 0 and not re.match(r"^(static|G_DEFINE)", lines[i - 1].strip()) \
                    and "static" not in lines[i - 1].split():
                defined.setdefault(m.group(1), f[:-2])
            m = re.match(r"^(?!static\b)(?:const\s+)?[A-Za-z_][A-Za-z0-9_ \*]*?\b"
                         r"([a-z_][a-z0-9_]*)\s*(?:\[[^\]]*\])?\s*(?:=|;)", line)
            if m and not line.startswith(("typedef", "return", "extern", "#")) and "(" not in line:
                defined.setdefault(m.group(1), f[:-2])

    uses = {s: set() for s in stems}
    why = {}
    for f in files:
        owner = f[:-2] if f.endswith(".c") else stem_of_header(f)
        if owner not in stems:
            continue
        text = strip(texts[f]) if f.endswith(".c") else ""
        for inc in re.findall(r'^#include "([^"]+)"', texts[f], flags=re.M):
            target = stem_of_header(os.path.basename(inc))
            if target in stems and target != owner:
                uses[owner].add(target)
                why.setdefault((owner, target), f"{f} includes {inc}")
        for word in set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", text)):
            target = defined.get(word)
            if target is not None and target != owner:
                uses[owner].add(target)
                why.setdefault((owner, target), f"{f} names {word}()")

    # Tarjan's strongly connected components: any with two or more files
    # is a circle.
    index, low, stack, on_stack, counter, circles = {}, {}, [], set(), [0], []

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(uses[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(stems):
        if v not in index:
            visit(v)
    for component in circles:
        edges = [why[(a, b)] for a in component for b in component if (a, b) in why]
        problems.append("circle: " + ", ".join(component) + "\n    " + "\n    ".join(edges))
    for line in problems:
        print(line)
    edges = sum(len(v) for v in uses.values())
    print(f"{len(files)} files, {len(stems)} .c files, {edges} uses between files, "
          f"{len(circles)} circles, {len(problems) - len(circles)} files too long")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
