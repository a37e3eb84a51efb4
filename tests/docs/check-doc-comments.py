#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fails when a public symbol of libbleio has no doc comment.

Usage: check-doc-comments.py HEADER...
       check-doc-comments.py --self-test

In each public header:
  - every declaration marked BLEIO_EXPORT has a gtk-doc comment ("/**")
    right above it whose first line names it ("* bleio_foo:"), with an
    "@param:" line for each parameter and a "Returns:" line unless it
    returns void; a G_DECLARE_*_TYPE names the type instead, documented
    anywhere in the header;
  - every typedef (enumeration, structure, callback) and every BLEIO_*
    macro has a comment naming it (but BLEIO_TYPE_* macros that only call
    a _get_type() function); every enumeration value and callback
    parameter is described in it.
It needs no introspection tools, so it runs in every build; gi-docgen's
check covers signals and properties where the docs are built.
"""

import os
import re
import sys
import tempfile

COMMENT = re.compile(r"/\*\*(.*?)\*/", re.S)


def comment_blocks(text):
    """(start, end, name, body) of every /** ... */ block."""
    blocks = []
    for m in COMMENT.finditer(text):
        body = m.group(1)
        first = re.search(r"^\s*\*?\s*([A-Za-z_][A-Za-z0-9_:-]*)\s*:\s*(\(.*\))?\s*$",
                          body, re.M)
        name = first.group(1) if first else None
        blocks.append((m.start(), m.end(), name, body))
    return blocks


def strip_comments(text):
    """Blank out comments, keeping offsets, so code scans skip them."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r"/\*.*?\*/", blank, text, flags=re.S)


def split_params(params):
    out, depth, cur = [], 0, ""
    for ch in params:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [p.strip() for p in out if p.strip()]


def param_name(param):
    param = re.sub(r"\[[^\]]*\]", "", param).strip()
    fp = re.search(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)", param)
    if fp:
        return fp.group(1)
    if param in ("void", "..."):
        return None
    m = re.search(r"([A-Za-z_]\w*)\s*$", param)
    return m.group(1) if m else None


def documented_params(body):
    return set(re.findall(r"^\s*\*\s*@([A-Za-z_]\w*)\s*:", body, re.M))


def has_returns(body):
    return re.search(r"^\s*\*\s*Returns\s*:", body, re.M) is not None


def check_header(path):
    text = open(path, encoding="utf-8").read()
    code = strip_comments(text)
    blocks = comment_blocks(text)
    names = {b[2]: b for b in blocks if b[2]}
    rel = os.path.basename(path)
    problems = []

    def line_of(offset):
        return text.count("\n", 0, offset) + 1

    def need_params(what, body, params, offset):
        have = documented_params(body)
        for p in params:
            n = param_name(p)
            if n and n not in have:
                problems.append(f"{rel}:{line_of(offset)}: {what}: parameter @{n} is not documented")

    # Exported declarations.
    for m in re.finditer(r"\bBLEIO_EXPORT\b", code):
        if re.match(r"\s*$", code[m.end():code.find("\n", m.end())]) and \
                code[max(0, m.start() - 8):m.start()].strip().endswith("define"):
            continue
        line_start = code.rfind("\n", 0, m.start()) + 1
        if code[line_start:m.start()].strip().startswith("#"):
            continue  # the macro's own definition
        rest = code[m.end():]
        decl = re.match(r"(?:\s*G_GNUC_\w+(?:\s*\([^)]*\))?)*\s*(.*?;|G_DECLARE_\w+\s*\([^)]*\))",
                        rest, re.S)
        if not decl:
            problems.append(f"{rel}:{line_of(m.start())}: BLEIO_EXPORT not followed by a declaration")
            continue
        body_text = decl.group(1)
        gdecl = re.match(r"G_DECLARE_\w+\s*\(\s*(\w+)", body_text)
        if gdecl:
            tname = gdecl.group(1)
            if tname not in names:
                problems.append(f"{rel}:{line_of(m.start())}: type {tname} has no doc comment")
            continue
        fn = re.match(r"(.*?)\b([A-Za-z_]\w*)\s*\((.*)\)\s*(?:G_GNUC_\w+\s*(?:\([^)]*\))?\s*)*;",
                      body_text, re.S)
        if not fn:
            problems.append(f"{rel}:{line_of(m.start())}: cannot parse the declaration after BLEIO_EXPORT")
            continue
        rtype, fname, params = fn.group(1).strip(), fn.group(2), fn.group(3)
        above = [b for b in blocks if b[1] <= m.start()]
        block = above[-1] if above else None
        if block is None or text[block[1]:m.start()].strip() != "":
            problems.append(f"{rel}:{line_of(m.start())}: {fname} has no doc comment right above it")
            continue
        if block[2] != fname:
            problems.append(f"{rel}:{line_of(m.start())}: the comment above {fname} names "
                            f"{block[2]!r} instead")
            continue
        need_params(fname, block[3], split_params(params), m.start())
        void = re.sub(r"\s+", " ", rtype.replace("const", "")).strip() == "void"
        if not void and not has_returns(block[3]):
            problems.append(f"{rel}:{line_of(m.start())}: {fname}: the return value is not "
                            f"documented (Returns:)")

    # Typedefs: enumerations and structures (name after the closing brace
    # or at the end of the line), and callbacks.
    for m in re.finditer(r"\btypedef\b(.*?);", code, re.S):
        decl = m.group(1)
        cb = re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)\s*$", decl, re.S)
        if cb:
            tname = cb.group(1)
        else:
            tm = re.search(r"(\w+)\s*$", decl)
            tname = tm.group(1) if tm else None
        if not tname or not tname.startswith("Bleio"):
            continue
        if tname not in names:
            problems.append(f"{rel}:{line_of(m.start())}: typedef {tname} has no doc comment")
            continue
        body = names[tname][3]
        if cb:
            need_params(tname, body, split_params(cb.group(2)), m.start())
        enum = re.match(r"\s*enum\b[^{]*\{(.*)\}", decl, re.S)
        if enum:
            have = documented_params(body)
            for value in re.findall(r"^\s*(BLEIO_\w+)", enum.group(1), re.M):
                if value not in have:
                    problems.append(f"{rel}:{line_of(m.start())}: {tname}: value @{value} is not documented")

    # Macros. A BLEIO_TYPE_* macro that only calls its type's _get_type()
    # is described by the type's own comment (gtk-doc convention).
    for m in re.finditer(r"^\s*#\s*define\s+(BLEIO_\w+)(.*)$", code, re.M):
        if re.match(r"BLEIO_TYPE_\w+$", m.group(1)) and \
                re.match(r"\s*\(\s*bleio_\w+_get_type\s*\(\s*\)\s*\)\s*$", m.group(2)):
            continue
        if m.group(1) not in names:
            problems.append(f"{rel}:{line_of(m.start())}: macro {m.group(1)} has no doc comment")

    return problems


SELF_TEST = """
#pragma once
/**
 * BLEIO_GOOD:
 *
 * Fine.
 */
#define BLEIO_GOOD 1
#define BLEIO_BARE 2
#define BLEIO_TYPE_THING (bleio_thing_get_type ())
#define BLEIO_TYPE_ODD 3

/**
 * BleioThing:
 * @BLEIO_THING_A: documented
 *
 * An enum with one undocumented value.
 */
typedef enum {
  BLEIO_THING_A,
  BLEIO_THING_B,
} BleioThing;

typedef struct _BleioSilent BleioSilent;

/**
 * bleio_ok:
 * @a: a value
 * @out: (out caller-allocates): bytes
 *
 * Fine.
 *
 * Returns: something
 */
BLEIO_EXPORT G_GNUC_WARN_UNUSED_RESULT
int bleio_ok (int a, guint8 out[16]);

BLEIO_EXPORT
void bleio_missing (void);

/**
 * bleio_other_name:
 *
 * Names another function.
 */
BLEIO_EXPORT
void bleio_misnamed (void);

/**
 * bleio_partial:
 * @a: documented
 *
 * Misses @b and the return value.
 */
BLEIO_EXPORT
gboolean bleio_partial (int a,
                        int b);

/**
 * bleio_far:
 *
 * Fine, but not right above.
 */
int unrelated_declaration;
BLEIO_EXPORT
void bleio_far (void);
"""

SELF_TEST_EXPECT = [
    "macro BLEIO_BARE has no doc comment",
    "macro BLEIO_TYPE_ODD has no doc comment",
    "BleioThing: value @BLEIO_THING_B is not documented",
    "typedef BleioSilent has no doc comment",
    "bleio_missing has no doc comment right above it",
    "the comment above bleio_misnamed names 'bleio_other_name' instead",
    "bleio_partial: parameter @b is not documented",
    "bleio_partial: the return value is not documented",
    "bleio_far has no doc comment right above it",
]


def self_test():
    with tempfile.NamedTemporaryFile("w", suffix=".h", delete=False) as f:
        f.write(SELF_TEST)
    try:
        found = check_header(f.name)
    finally:
        os.unlink(f.name)
    missing = [e for e in SELF_TEST_EXPECT if not any(e in p for p in found)]
    extra = [p for p in found if not any(e in p for e in SELF_TEST_EXPECT)]
    for p in found:
        print(f"  reported: {p}")
    if missing or extra:
        for e in missing:
            print(f"self-test: not reported: {e}")
        for p in extra:
            print(f"self-test: reported wrongly: {p}")
        return 1
    print(f"self-test: all {len(SELF_TEST_EXPECT)} planted problems reported, nothing else")
    return 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    if not argv:
        print("usage: check-doc-comments.py HEADER... | --self-test")
        return 2
    problems, exported = [], 0
    for path in argv:
        problems += check_header(path)
        exported += len(re.findall(r"\bBLEIO_EXPORT\b",
                                   strip_comments(open(path, encoding="utf-8").read())))
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} documentation problems in the public headers")
        return 1
    print(f"{len(argv)} public headers: every exported symbol, type and macro is documented")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
