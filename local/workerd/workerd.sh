#!/bin/sh
# miniflare (and wrangler) run `$MINIFLARE_WORKERD_PATH serve ...`: this adds the folder that
# holds the dev Pyodide bundle setup built (workerd never downloads nor checks that one).
# WORKERD_BIN: the real binary; PYODIDE_BUNDLE_DIR: the folder with pyodide_dev.capnp.bin;
# WORKERD_PYTHON_SNAPSHOT_ARGS (optional): workerd's snapshot flags, space-separated (paths
# without spaces); WORKERD_SPAWN_STAMP (optional): a file this writes the wall clock to just
# before workerd starts, for spawn-to-first-answer timings; WORKERD_START_GATE (optional): a
# file to wait for first (this announces itself with GATE.arrived.PID), so that two hosts start
# their workerd at the same moment (scripts/snapshots.py).
# WORKERD_EXTRA_ARGS (optional): more workerd flags, space-separated, for a maintainer's look
# inside (e.g. `--async-trace FILE`: every turn, timer and binding call of every isolate, in order).
command="$1"; shift
if [ -n "$WORKERD_START_GATE" ]; then
  : > "$WORKERD_START_GATE.arrived.$$"
  while [ ! -e "$WORKERD_START_GATE" ]; do sleep 0.01; done
fi
if [ -n "$WORKERD_SPAWN_STAMP" ]; then date +%s.%N > "$WORKERD_SPAWN_STAMP"; fi
# shellcheck disable=SC2086 # the snapshot flags are split into words on purpose
exec "$WORKERD_BIN" "$command" --pyodide-bundle-disk-cache-dir="$PYODIDE_BUNDLE_DIR" ${WORKERD_PYTHON_SNAPSHOT_ARGS:-} ${WORKERD_EXTRA_ARGS:-} "$@"
