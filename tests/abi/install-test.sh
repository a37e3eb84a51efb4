#!/bin/sh
# Installs libbleio into a temporary prefix (library only) and builds and
# runs tests/abi/consumer.c against it with pkg-config alone.
set -eu
src="$1"
cc="${CC:-cc}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson setup "$tmp/build" "$src" --prefix="$tmp/prefix" \
  -Dtests=false -Dexamples=false -Dtools=false >"$tmp/setup.log" 2>&1 ||
  { cat "$tmp/setup.log"; exit 1; }
meson install -C "$tmp/build" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; exit 1; }

pcdir=$(dirname "$(find "$tmp/prefix" -name libbleio.pc | head -n 1)")
libdir=$(dirname "$pcdir")
test -f "$pcdir/libbleio.pc"
ls "$tmp/prefix/include/libbleio-0.1/bleio/bleio.h" >/dev/null

export PKG_CONFIG_PATH="$pcdir"
# shellcheck disable=SC2046
$cc -o "$tmp/consumer" "$src/tests/abi/consumer.c" $(pkg-config --cflags --libs libbleio)
LD_LIBRARY_PATH="$libdir" "$tmp/consumer"
# The soname carries the ABI version.
objdump -p "$libdir/libbleio.so" | grep -q 'SONAME *libbleio.so.0'
echo "installed into $tmp/prefix and built a consumer with pkg-config"
