#!/usr/bin/env bash
# Everything a fresh clone needs, idempotent and quick when already done:
#   1. the Debian packages listed in infra/host-packages.txt (root; apt-get update only when one is missing)
#   2. Node.js 24 (infra/node-runtime.sh: a pinned one into .tools/ where the machine's is older), and
#      node modules (npm ci, only when package-lock.json or the Node version changed since the last install)
#   3. the TypeScript build and the prebuilt workflow bundle
#   4. the pinned Temporal CLI and MinIO, built with `go install` into .tools/ (skipped when present)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }
started=$(date +%s)

mapfile -t wanted < <(grep -Ev '^\s*(#|$)' infra/host-packages.txt | awk '{print $1}' | sort -u)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]} (run this as root, or install them)"; exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# shellcheck source=infra/node-runtime.sh
. infra/node-runtime.sh
log "node $(node --version) ($(command -v node))"

# The install is for one lock file and one Node ABI (better-sqlite3 is built for it).
installed_marker() { printf 'node-modules %s\n' "$(node -p process.versions.modules)"; cat package-lock.json; }
if ! installed_marker | cmp -s - node_modules/.zfslab-installed-lock 2>/dev/null; then
  log "npm ci"
  npm ci --no-audit --no-fund --prefer-offline
  installed_marker > node_modules/.zfslab-installed-lock
fi

log "build"
npm run --silent build

log "pinned tools"
node dist/infra/install-tools.js

log "ready in $(( $(date +%s) - started )) s"
