#!/usr/bin/env bash
# The main job on the embedded stack, from a fresh clone:
#   set-up → start Temporal, MinIO and the workers → probe this host → build (or reuse) the debian13
#   golden → run a real ZTS test in a disposable clone of it → print the result matrix.
# The golden is cached by recipe hash outside the clone (/var/cache/zfslab/goldens as root): only a
# machine's first run builds it (~25–30 min here); later runs reuse it in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

bash infra/setup.sh
node bin/zfslab.js up
node bin/zfslab.js host probe
node bin/zfslab.js golden-ztest debian13
node bin/zfslab.js test debian13 --run functional/cli_root/zpool_create/zpool_create_001_pos
