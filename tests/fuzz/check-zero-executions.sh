#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-fuzzers.sh on a build without -Dfuzzing=true: its targets are corpus
# replay drivers that fuzz nothing, so the script must fail and say that a
# target ran 0 executions, never report the run as clean.
#
#   check-zero-executions.sh RUN_FUZZERS BUILDDIR
set -u
if [ $# -ne 2 ]; then
  echo "usage: $0 RUN_FUZZERS BUILDDIR" >&2
  exit 2
fi
out=$(bash "$1" "$2" 1 2>&1)
rc=$?
printf '%s\n' "$out"
if [ $rc -eq 0 ]; then
  echo "run-fuzzers.sh passed a build whose targets executed nothing" >&2
  exit 1
fi
if ! printf '%s\n' "$out" | grep -q ': FAILED: 0 executions'; then
  echo "run-fuzzers.sh failed (exit $rc), but not for the 0 executions" >&2
  exit 1
fi
echo "run-fuzzers.sh refused the run with 0 executions (exit $rc)"
