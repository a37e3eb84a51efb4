#!/bin/sh
# Fails when libbleio exports a symbol that lib/libbleio.map does not list,
# or when the map lists a symbol the library does not export. Both lists are
# printed on failure so the fix is obvious.
set -eu
lib="$1"
map="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Exported functions and data, without the version node names (type A).
nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' | sort -u > "$tmp/exported"

# Names listed after "global:" up to "local:" or the end of the node,
# comments removed (a later node inherits and has no "local:").
sed -e 's,/\*.*\*/,,g' "$map" | awk '
  /global:/ { on = 1; next }
  /local:/ { on = 0 }
  /^}/ { on = 0 }
  on { gsub(/[ \t;]/, ""); if ($0 != "") print }
' | sort -u > "$tmp/listed"

if ! cmp -s "$tmp/exported" "$tmp/listed"; then
  echo "exported but not in $map:"
  comm -23 "$tmp/exported" "$tmp/listed" | sed 's/^/  /'
  echo "in $map but not exported:"
  comm -13 "$tmp/exported" "$tmp/listed" | sed 's/^/  /'
  exit 1
fi
echo "$(wc -l < "$tmp/exported") exported symbols match $map"
