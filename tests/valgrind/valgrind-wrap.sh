#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The exe_wrapper of `meson test --setup valgrind`: runs one test under
# valgrind memcheck when it is one of our own ELF programs (not under
# /usr, /bin, /sbin, /lib or /opt), and as it is
# otherwise (python3, shell scripts: valgrind would measure the
# interpreter, not libbleio). Processes a test starts (bleio-sim,
# dbus-daemon) are not traced: the simulator is a test fixture here.
# Exit status: the test's, or 1 when memcheck found an error or a
# definite or indirect leak.
set -u
here=$(cd "$(dirname "$0")" && pwd)
prog=$1

# Installed programs (/usr/bin/python3 is an ELF too) and scripts run as
# they are.
case $(readlink -f "$prog") in
  /usr/* | /bin/* | /sbin/* | /lib/* | /opt/*) exec "$@" ;;
esac
if [ "$(head -c 4 "$prog" 2>/dev/null)" != $'\x7fELF' ]; then
  exec "$@"
fi

# Programs whose timing cannot hold under memcheck's slowdown (see the
# reason in the file): reported as skipped (exit 77), never as passed.
reason=$(awk -v n="$(basename "$prog")" '$1 == n { $1 = ""; print substr($0, 2) }' "$here/skip")
if [ -n "$reason" ]; then
  echo "not run under valgrind: $reason"
  exit 77
fi

glib_supp=
for f in /usr/share/glib-2.0/valgrind/glib.supp /usr/lib/x86_64-linux-gnu/glib-2.0/valgrind/glib.supp; do
  if [ -f "$f" ]; then
    glib_supp=--suppressions=$f
    break
  fi
done
if [ -z "$glib_supp" ]; then
  echo "valgrind-wrap: GLib's glib.supp not found (package libglib2.0-dev)" >&2
  exit 1
fi

# A case whose timing cannot hold under memcheck (one case, not a whole
# program) asks for this and skips itself.
export BLEIO_UNDER_MEMCHECK=1
exec valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
  --num-callers=40 --track-fds=no \
  "$glib_supp" --suppressions="$here/bleio.supp" "$@"
