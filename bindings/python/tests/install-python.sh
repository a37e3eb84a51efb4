#!/bin/sh
# Installs the build into a staging directory and checks what a Python user
# gets there: _bleio in the directory Debian's python3 searches for the
# build's prefix, importable from there alone (no build tree on the path),
# and `import _bleio; print(_bleio.adapter.address)` working under bleio-sim.
# Usage: install-python.sh BUILD_DIR PYTHON3 BLEIO_SIM
set -eu
build="$1"
python="$2"
sim="$3"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson install -C "$build" --no-rebuild --destdir "$tmp/stage" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; exit 1; }
prefix=$(meson introspect "$build" --buildoptions |
  "$python" -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
fail() { echo "install-python: $*"; exit 1; }

module=$(find "$tmp/stage" -name '_bleio.cpython-*.so' | head -n 1)
[ -n "$module" ] || fail "_bleio not installed"
site=$(dirname "$module")
# Where Debian's python3 looks for modules installed under that prefix.
wanted=$("$python" - "$prefix" <<'PY'
import sys, sysconfig
prefix = sys.argv[1]
ver = sysconfig.get_python_version()
print(prefix + ("/lib/python3/dist-packages" if prefix == "/usr"
                else "/lib/python%s/dist-packages" % ver))
PY
)
[ "$site" = "$tmp/stage$wanted" ] || fail "installed in ${site#$tmp/stage}, Debian's python3 searches $wanted"
"$python" -c "import sys; sys.exit(0 if '$wanted' in sys.path or '$prefix' != '/usr/local' and '$prefix' != '/usr' else 1)" ||
  fail "$wanted is not on $python's sys.path"

libdir=$(dirname "$(find "$tmp/stage" -name 'libbleio.so.0' | head -n 1)")
out=$(cd "$tmp" && PYTHONPATH="$site" LD_LIBRARY_PATH="$libdir" \
  "$sim" run -- "$python" -c 'import _bleio; print(_bleio.__file__); print(_bleio.adapter.address)' 2>&1) ||
  { printf '%s\n' "$out"; fail "import failed"; }
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -qx "$module" || fail "_bleio was not loaded from the stage"
printf '%s\n' "$out" | grep -qx '<Address 00:aa:01:00:00:00>' || fail "no adapter address printed"
echo "ok: $module"
