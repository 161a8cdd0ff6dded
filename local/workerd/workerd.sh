#!/bin/sh
# miniflare (and wrangler) run `$MINIFLARE_WORKERD_PATH serve ...`: this adds the folder that
# holds the dev Pyodide bundle setup built (workerd never downloads nor checks that one).
# WORKERD_BIN: the real binary; PYODIDE_BUNDLE_DIR: the folder with pyodide_dev.capnp.bin.
command="$1"; shift
exec "$WORKERD_BIN" "$command" --pyodide-bundle-disk-cache-dir="$PYODIDE_BUNDLE_DIR" "$@"
