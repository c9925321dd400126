#!/usr/bin/env node
// The `zfslab` command. It runs the compiled CLI; `npm run build` (part of the README's set-up) makes it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// zfslab runs on Node 24. Where `node` is older, set-up put a pinned Node 24 in .tools/ (see
// infra/node-runtime.sh, which names the version) and built the native modules for it: run on that.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const runtime = readFileSync(new URL('../infra/node-runtime.sh', import.meta.url), 'utf8');
  const version = /^ZFSLAB_NODE_VERSION=(\S+)$/m.exec(runtime)?.[1];
  const pinned = version && fileURLToPath(new URL(`../.tools/node-${version}/bin/node`, import.meta.url));
  if (!pinned || !existsSync(pinned)) {
    process.stderr.write(`zfslab: needs Node.js 24 or later (this is ${process.version}). Run \`npm run setup\` in the clone: it installs one into .tools/.\n`);
    process.exit(2);
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // The child is in our process group, so a terminal's Ctrl-C reaches it directly; a signal sent to
  // this process alone (kill, a supervisor) is passed on.
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  process.on('SIGINT', () => {});
  child.on('exit', (code, signal) => {
    if (signal) {
      // Die of the same signal, as a shell expects: without our handler, which would swallow it.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    else process.exit(code ?? 1);
  });
} else {
  const entry = new URL('../dist/apps/cli/main.js', import.meta.url);
  if (!existsSync(entry)) {
    process.stderr.write('zfslab: not built yet. Run `npm run setup` (or `npm run build`) in the clone first.\n');
    process.exit(2);
  }
  const { main } = await import(entry.href);
  process.exitCode = await main(process.argv.slice(2));
}
