#!/usr/bin/env bash
# Runs a command with zfslab's Node.js (24) first on PATH: `bash infra/with-node.sh node dist/bench/….js`.
# infra/setup.sh installs it where the machine's node is older.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=infra/node-runtime.sh
. infra/node-runtime.sh
cd - >/dev/null
exec "$@"
