#!/usr/bin/env bash
# The e2e suite's meson test: builds (or reuses) the guest image, appends a
# cpio with the test programs built on this machine and every shared library
# they load, boots the guest under QEMU/TCG, and reports each test in TAP.
#
#   run-e2e.sh --image DIR [--bluez 5.66|5.82] [--helper PROG]... [--test PROG]...
#              [--timeout SECS] [--test-timeout SECS] [--python MODULE]
#
# --image        where build-image.sh keeps the cached guest (one per BlueZ)
# --bluez        the bluetoothd the guest runs (default 5.66, build-image.sh)
# --helper PROG  a program the guest needs that is not a test (the peripheral)
# --test PROG    a test, run in the guest in the order given
# --timeout      bound on the whole boot (default 600 s)
# --test-timeout bound on each test inside the guest (default 120 s)
# --env NAME=VALUE  extra environment for the tests (G_MESSAGES_DEBUG=bleio)
# --python MODULE   this machine's python3 goes along (the interpreter, the
#                standard library without what no test imports, no
#                dist-packages) with MODULE, the built _bleio extension, in
#                /e2e/python; a --test may then be a Python script
#
# Exits non-zero when a test fails, a result is missing or QEMU times out.
# The guest's console goes to stderr and to DIR/console.log.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
image=
helpers=()
tests=()
envs=()
timeout=600
test_timeout=120
bluez=5.66
python_module=

while [ $# -gt 0 ]; do
  case $1 in
    --image) image=$2; shift 2 ;;
    --bluez) bluez=$2; shift 2 ;;
    --helper) helpers+=("$2"); shift 2 ;;
    --test) tests+=("$2"); shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --test-timeout) test_timeout=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --python) python_module=$2; shift 2 ;;
    *) echo "run-e2e: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$image" ] || { echo "run-e2e: --image DIR is required" >&2; exit 2; }
[ ${#tests[@]} -gt 0 ] || { echo "run-e2e: no --test given" >&2; exit 2; }

echo "TAP version 13"
echo "1..${#tests[@]}"

# A missing tool is a failure of every test, said plainly: CI installs them.
bail() {
  echo "Bail out! $*"
  echo "run-e2e: $*" >&2
  exit 1
}
for tool in qemu-system-x86_64 cpio ldd timeout; do
  command -v "$tool" >/dev/null \
    || bail "'$tool' is not installed; install the packages in .ci/packages (qemu-system-x86, cpio)"
done

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

t0=$(now)
bash "$here/build-image.sh" "$image" "$bluez" >&2 \
  || bail "building the guest image for BlueZ $bluez failed (its last line above says why)"
t1=$(now)
echo "# guest image ready in $(seconds "$t0" "$t1") s"

# The overlay: /e2e/bin/*, /e2e/tests, /e2e/timeout, and the libraries.
# System libraries go to the path ldd resolved here; the build tree's own
# (libbleio.so.0, found through a RUNPATH relative to the build directory)
# go to /e2e/lib, which the guest puts on LD_LIBRARY_PATH.
stage=$(mktemp -d "$image/overlay.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/e2e/bin" "$stage/e2e/lib"
add_libraries() {
  ldd "$1" | awk '/=> \//{print $3} /^[[:space:]]*\//{print $1}' | while read -r lib; do
    case $lib in
      /lib/*|/lib64/*|/usr/lib/*|/usr/lib64/*) dest=$stage$lib ;;
      *) dest=$stage/e2e/lib/$(basename "$lib") ;;
    esac
    mkdir -p "$(dirname "$dest")"
    [ -e "$dest" ] || cp -L "$lib" "$dest"
  done
}
add_program() {
  [ -x "$1" ] || bail "$1 is not an executable"
  cp -L "$1" "$stage/e2e/bin/"
  # A script (a Python test) has no libraries of its own.
  [ "$(head -c 2 "$1")" = "#!" ] || add_libraries "$1"
}
# python3 for the Python tests: the interpreter where their #! line looks,
# and the standard library without the packages no test imports (tests,
# GUI, build and network ones; lib-dynload's extensions, whose libraries
# would double the overlay, are left out too: Debian builds the modules the
# tests use into the interpreter). Debian's sitecustomize.py links to /etc,
# which the guest has not.
add_python() {
  local interpreter lib
  interpreter=$(readlink -f /usr/bin/python3)
  lib=$(basename "$interpreter")
  [ -f "$1" ] || bail "--python $1: no such module (build bindings/python)"
  mkdir -p "$stage/usr/bin" "$stage/usr/lib" "$stage/e2e/python"
  cp -L "$interpreter" "$stage/usr/bin/$lib"
  ln -sf "$lib" "$stage/usr/bin/python3"
  add_libraries "$interpreter"
  tar -C /usr/lib -cf - \
    --exclude="$lib/test" --exclude="$lib/idlelib" --exclude="$lib/tkinter" \
    --exclude="$lib/turtledemo" --exclude="$lib/lib2to3" --exclude="$lib/pydoc_data" \
    --exclude="$lib/distutils" --exclude="$lib/ensurepip" --exclude="$lib/config-*" \
    --exclude="$lib/site-packages" --exclude="$lib/dist-packages" \
    --exclude="$lib/lib-dynload" --exclude="$lib/sitecustomize.py" \
    --exclude="$lib/asyncio" --exclude="$lib/email" --exclude="$lib/xml" \
    --exclude="$lib/http" --exclude="$lib/urllib" --exclude="$lib/sqlite3" \
    --exclude="$lib/multiprocessing" --exclude="$lib/venv" --exclude="$lib/curses" \
    --exclude="$lib/dbm" --exclude="$lib/xmlrpc" --exclude="$lib/wsgiref" \
    --exclude="$lib/concurrent" --exclude="$lib/ctypes" --exclude="$lib/unittest" \
    "$lib" | tar -C "$stage/usr/lib" -xf -
  # Where python3 looks for extension modules: there, but empty.
  mkdir -p "$stage/usr/lib/$lib/lib-dynload"
  cp -L "$1" "$stage/e2e/python/"
  add_libraries "$1"
}
if [ -n "$python_module" ]; then
  add_python "$python_module"
fi
for p in "${helpers[@]}" "${tests[@]}"; do
  add_program "$p"
done
names=()
for p in "${tests[@]}"; do
  names+=("$(basename "$p")")
done
printf '%s\n' "${names[@]}" > "$stage/e2e/tests"
echo "$test_timeout" > "$stage/e2e/timeout"
for e in ${envs[@]+"${envs[@]}"}; do
  printf 'export %q\n' "$e"
done > "$stage/e2e/env"

initrd=$image/initrd.cpio
cp "$image/base.cpio" "$initrd"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >> "$initrd"

console=$image/console.log
echo "# booting the guest (BlueZ $bluez, TCG, ${#tests[@]} tests, ${timeout} s at most)"
t2=$(now)
set +e
timeout --kill-after=10 "$timeout" \
  qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 \
    -nographic -no-reboot -net none \
    -kernel "$image/vmlinuz" -initrd "$initrd" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" \
    < /dev/null 2>&1 | sed -u 's/\r//g' | tee "$console" >&2
status=${PIPESTATUS[0]}
set -e
t3=$(now)

failed=0
retried=0
i=0
for name in "${names[@]}"; do
  i=$((i + 1))
  result=$(sed -n "s/^E2E-RESULT $name \(PASS\|PASS-RETRY\|FAIL\)\$/\1/p" "$console" | tail -n1)
  took=$(sed -n "s/^e2e-init: \[[0-9.]*\] $name took \(.*\)\$/\1/p" "$console" | tail -n1)
  case $result in
    PASS) echo "ok $i $name${took:+ # took $took}" ;;
    PASS-RETRY)
      echo "ok $i $name # passed on its second run, the first failed (see the log)${took:+; took $took}"
      retried=$((retried + 1)) ;;
    FAIL) echo "not ok $i $name${took:+ # took $took}"; failed=1 ;;
    *) echo "not ok $i $name # no result from the guest"; failed=1 ;;
  esac
done

if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "# QEMU timed out after $timeout s"
  failed=1
elif [ "$status" -ne 0 ]; then
  echo "# QEMU exited with status $status"
  failed=1
fi
if grep -q '^E2E-BOOT-FAILED' "$console"; then
  echo "# $(grep '^E2E-BOOT-FAILED' "$console" | head -n1)"
  failed=1
fi
guest_bluez=$(sed -n 's/^.*E2E-BLUEZ //p' "$console" | head -n1)
if [ "$guest_bluez" = "$bluez" ]; then
  echo "# bluetoothd --version in the guest: $guest_bluez"
else
  echo "# the guest's bluetoothd is '${guest_bluez:-unknown}', not $bluez"
  failed=1
fi
grep -q '^E2E-DONE$' "$console" || { echo "# the guest never printed E2E-DONE"; failed=1; }
[ "$retried" -eq 0 ] || echo "# $retried test(s) passed only when run a second time"
echo "# guest wall time $(seconds "$t2" "$t3") s, total $(seconds "$t0" "$t3") s"

# CI shows only the end of a long log, and the console above runs on past a
# failed test: repeat, last, what each failed test printed on its last run
# (init.sh runs the retry with the library's debug messages on).
for name in "${names[@]}"; do
  grep -q "^E2E-RESULT $name FAIL\$" "$console" || continue
  {
    echo "---- $name failed; its output on its last run (at most 80 lines):"
    awk -v n="$name" '$0 ~ ("running " n "$") { out = "" }
                      { out = out $0 "\n" }
                      $0 ~ ("^e2e-init: .* " n " took ") { last = out; out = "" }
                      END { printf "%s", last }' "$console" | tail -n 80
  } >&2
done
exit "$failed"
