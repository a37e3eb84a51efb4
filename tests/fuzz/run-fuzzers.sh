#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target of BUILDDIR (configured with CC=clang
# -Dfuzzing=true -Db_sanitize=address,undefined) for SECONDS each, starting
# from its seed corpus (tests/fuzz/corpus/<target>/). Fails on any crash,
# timeout, leak or sanitizer report, and prints the executions per target.
# A target that executed no input at all fails too: that is what a build
# without -Dfuzzing=true gives (driver.c replays the corpus and prints no
# libFuzzer statistics), and a run that fuzzed nothing proves nothing.
# New inputs go to BUILDDIR/fuzz-work/<target>/, crashing ones to
# BUILDDIR/fuzz-artifacts/ (copy them into the corpus as crash-* once the
# bug is fixed: the fuzz suite replays the corpus in every build).
#
#   tests/fuzz/run-fuzzers.sh build-fuzz 60
#   FUZZ_JOBS=2 tests/fuzz/run-fuzzers.sh build-fuzz 60   # two at a time
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILDDIR SECONDS" >&2
  exit 2
fi
builddir=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
targets=$(sed -n "s/^  '\(fuzz-[a-z-]*\)',$/\1/p" "$here/meson.build")

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}
export G_SLICE=always-malloc
export G_DEBUG=fatal-criticals

mkdir -p "$builddir/fuzz-artifacts" "$builddir/fuzz-work"
jobs=${FUZZ_JOBS:-1}

# One target: its log in fuzz-work/<target>.log, its exit status in .rc.
run_target () {
  local t=$1 exe=$builddir/tests/fuzz/$1 work=$builddir/fuzz-work/$1
  rm -rf "$work"
  mkdir -p "$work"
  # -timeout: one input taking this long is a hang; generous for a loaded
  # 2-core machine. -rss_limit_mb: the sanitizers' own overhead included.
  # The GVariant targets get the BlueZ dictionary.
  local dict=()
  case $t in
    fuzz-ad-build|fuzz-device-props|fuzz-managed-objects|fuzz-properties-changed|fuzz-cache|fuzz-wire)
      dict=(-dict="$here/bluez.dict") ;;
  esac
  "$exe" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$builddir/fuzz-artifacts/$t-" \
    "${dict[@]}" "$work" "$here/corpus/$t" >"$work.log" 2>&1
  echo $? >"$work.rc"
}

failed=0
n=0
for t in $targets; do
  if [ ! -x "$builddir/tests/fuzz/$t" ]; then
    echo "$t: not built in $builddir (configure it with CC=clang -Dfuzzing=true)" >&2
    exit 1
  fi
done
# FUZZ_JOBS targets at a time (CI: one per core).
for t in $targets; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n
  done
  run_target "$t" &
done
wait

total=0
for t in $targets; do
  work=$builddir/fuzz-work/$t
  log=$work.log
  rc=$(cat "$work.rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  execs=${execs:-0}
  n=$((n + 1))
  if [ "$execs" -eq 0 ]; then
    failed=$((failed + 1))
    echo "$t: FAILED: 0 executions (exit $rc): not a libFuzzer binary, or it never ran; configure $builddir with CC=clang -Dfuzzing=true; log $log"
  elif [ "$rc" -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|GLib.*CRITICAL|fuzz oracle failed' "$log"; then
    failed=$((failed + 1))
    echo "$t: FAILED after $execs executions (exit $rc); log $log:"
    grep -E -A30 'ERROR:|runtime error:|CRITICAL|fuzz oracle failed|deadly signal' "$log" | head -60
    ls "$builddir"/fuzz-artifacts/"$t"-* 2>/dev/null
  else
    echo "$t: $execs executions in ${seconds} s, $(ls "$work" | wc -l) new inputs, clean"
  fi
  total=$((total + execs))
done

if [ $failed -ne 0 ]; then
  echo "fuzzing: $failed of $n targets FAILED ($total executions)"
  exit 1
fi
echo "fuzzing: $n targets, $total executions, ${seconds} s each ($jobs at a time), no crash, leak or sanitizer report"
