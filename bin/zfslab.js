#!/usr/bin/env node
// The `zfslab` command. It runs the compiled CLI; `npm run build` (part of the README's set-up) makes it.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/apps/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('zfslab: not built yet. Run `npm run setup` (or `npm run build`) in the clone first.\n');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
