#!/bin/sh
# Runs one pytest file of the _bleio module under `bleio-sim run`, so that
# the module talks to the simulator on a private system-like bus.
# Usage: run-pytest.sh BLEIO_SIM PYTHON SCENARIO TESTFILE
#   SCENARIO: a scenario file, "demo" for the built-in demo, or "none" to
#   run without any BlueZ on the bus (the bus address points nowhere).
set -eu
sim=$1 python=$2 scenario=$3 testfile=$4
dir=$(dirname "$testfile")
# -p no:cacheprovider: nothing is written into the source tree.
pytest="$python -m pytest -p no:cacheprovider -v --rootdir=$dir $testfile"
case "$scenario" in
  none)
    DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bleio-no-bus exec $pytest ;;
  demo)
    exec "$sim" run -- $pytest ;;
  *)
    exec "$sim" run --scenario "$scenario" -- $pytest ;;
esac
