/**
 * One summarise of a Tetragon JSON log, as `zfslab fingerprint summarise --root-pid` does it; prints the
 * fingerprint as JSON. Run under /usr/bin/time by bench/fingerprint-summarise.ts.
 *
 *   node dist/bench/fingerprint-summarise-once.js EVENTS.jsonl ROOT_PID
 */
import { summariseEventFile } from '../activities/fingerprint/files.js';

const [path, root] = process.argv.slice(2);
if (!path || !root) {
  console.error('usage: fingerprint-summarise-once.js EVENTS.jsonl ROOT_PID');
  process.exit(2);
}
const fingerprint = await summariseEventFile(path, { workload: 'bench', rootPid: Number(root) });
process.stdout.write(JSON.stringify(fingerprint) + '\n');
