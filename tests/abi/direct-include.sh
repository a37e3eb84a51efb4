#!/bin/sh
# A per-object header included on its own must stop the build with our
# message, not compile and not fail for some unrelated reason.
set -eu
cc="$1"
incdir="$2"
src="$3"
out=$($cc -fsyntax-only -I"$incdir" $(pkg-config --cflags glib-2.0 gobject-2.0) "$src" 2>&1) && {
  echo "direct inclusion of a per-object header compiled; it must not"
  exit 1
}
echo "$out" | grep -q 'Only <bleio/bleio.h> can be included directly' || {
  echo "failed for another reason:"; echo "$out"; exit 1
}
echo "direct inclusion refused as expected"
