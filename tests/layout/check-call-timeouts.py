#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""No D-Bus call of the library relies on GDBus's default timeout.

GDBus turns a timeout of -1 into 25 s, which is neither what bluetoothd
can take (a local answer comes in well under it, an ATT one may need 30 s)
nor anything a caller asked for (issue 21, defect 1). Every call names its
bound: the caller's, or one of BLEIO_CALL_*_MSEC (lib/bleio-client-private.h).
G_MAXINT (no bound at all) is refused too.

usage: check-call-timeouts.py LIBDIR
"""
import pathlib
import re
import sys

# function name -> index of its timeout argument
CALLS = {
    'bleio_client_call': 5,
    'g_dbus_connection_call': 8,
    'g_dbus_connection_call_sync': 8,
    'g_dbus_connection_call_with_unix_fd_list': 8,
    'g_dbus_connection_call_with_unix_fd_list_sync': 8,
    'g_dbus_proxy_call': 4,
    'g_dbus_proxy_call_sync': 4,
}


def arguments(text, start):
    """Split the argument list that opens at text[start] == '('."""
    depth, args, cur, i = 0, [], [], start
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c in '([{':
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c in ')]}':
            depth -= 1
            if depth == 0:
                args.append(''.join(cur).strip())
                return args
        elif c == ',' and depth == 1:
            args.append(''.join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    return args


def main():
    bad = []
    calls = 0
    for path in sorted(pathlib.Path(sys.argv[1]).glob('*.c')):
        text = path.read_text()
        for m in re.finditer(r'\b(' + '|'.join(CALLS) + r')\s*\(', text):
            line_start = text.rfind('\n', 0, m.start()) + 1
            # a definition starts its line (GNU style): not a call
            if line_start == m.start():
                continue
            args = arguments(text, m.end() - 1)
            index = CALLS[m.group(1)]
            if len(args) <= index:
                continue
            calls += 1
            timeout = re.sub(r'\s+', ' ', args[index])
            line = text.count('\n', 0, m.start()) + 1
            if timeout in ('-1', 'G_MAXINT'):
                bad.append(f'{path.name}:{line}: {m.group(1)} with timeout {timeout}')
    for b in bad:
        print(b)
    print(f'{calls} calls checked, {len(bad)} on GDBus\'s default or unbounded')
    return 1 if bad or calls == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
