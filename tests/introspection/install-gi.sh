#!/bin/sh
# Installs the introspection build (and its docs) into a staging directory and
# checks what a binding user gets there: the GIR, the typelib (loaded by
# python3-gi from the stage alone) and the API reference.
# Usage: install-gi.sh BUILD_DIR PYTHON3 docs|no-docs
set -eu
build="$1"
python="$2"
docs_built="$3"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson install -C "$build" --no-rebuild --destdir "$tmp/stage" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; exit 1; }
prefix="$tmp/stage$(meson introspect "$build" --buildoptions |
  "$python" -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')"

fail() { echo "install-gi: $*"; exit 1; }
gir="$prefix/share/gir-1.0/Bleio-0.1.gir"
[ -f "$gir" ] || fail "no $gir"
typelib=$(find "$prefix" -name Bleio-0.1.typelib | head -n 1)
[ -n "$typelib" ] || fail "no Bleio-0.1.typelib under $prefix"
case "$typelib" in
  */girepository-1.0/Bleio-0.1.typelib) ;;
  *) fail "typelib installed outside a girepository-1.0 directory: $typelib" ;;
esac
libdir=$(dirname "$(dirname "$typelib")")
[ -f "$libdir/libbleio.so.0" ] || fail "typelib not next to libbleio.so.0 ($libdir)"
if [ "$docs_built" = docs ]; then
  docs="$prefix/share/doc/libbleio-0.1"
  for page in index.html getting-started.html threading.html bleio-mapping.html \
              bluez-versions.html bluez-limits.html testing-with-bleio-sim.html \
              struct.Uuid.html error.Error.html class.Adapter.html; do
    [ -f "$docs/$page" ] || fail "API reference page $page not installed in $docs"
  done
fi
grep -q 'shared-library="libbleio.so.0"' "$gir" ||
  fail "the GIR does not name libbleio.so.0 as its shared library"

GI_TYPELIB_PATH="$(dirname "$typelib")" LD_LIBRARY_PATH="$libdir" \
  "$python" - "$typelib" <<'PY'
import os, sys
import gi
gi.require_version("Bleio", "0.1")
from gi.repository import Bleio
path = gi.Repository.get_default().get_typelib_path("Bleio")
assert os.path.realpath(path) == os.path.realpath(sys.argv[1]), path
uuid = Bleio.Uuid.new_from_string("2a19")
assert uuid.to_string() == "0x2a19", uuid.to_string()
print("installed typelib loads and works:", path)
PY
echo "installed GIR, typelib and API reference into $prefix"
