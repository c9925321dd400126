/**
 * Dynamic dispatch against today's static shards and upstream's `zfs-tests.sh -T k/N`, out of sample:
 * every split is planned from one duration table (`--history`) while the tests take the durations of
 * another (`--actual`), both in the `zts-durations-*.tsv` format (core/shard/durations.ts).
 *
 *   npx tsc -p . && node dist/bench/dispatch.js --simulate \
 *     --history test/fixtures/durations/zts-durations-2023-03-ubuntu22.tsv \
 *     --actual test/fixtures/durations/zts-durations-2023-03-ubuntu20.tsv \
 *     --slots 2,4,8,16,32 [--split-groups [--split-above 1]] [--runfiles test/fixtures/runfiles/zfs-2.2.0] [--json]
 *
 * `--slow-slots K [--slow-speed 0.07]` makes the last K of the N slots that much slower (a TCG host among
 * KVM ones); static and upstream shards do not know it, the dispatcher is told each slot's speed.
 *
 * `--split-groups` adds rows where a group costing more than `--split-above` × the fair share (total / N,
 * from history) is split in parts of at most half the fair share, each running the group's setup and cleanup.
 *
 * `--simulate` drives the dispatcher (core/dispatch) through an event simulation with the actual
 * durations and runs nothing. Without it the bench would run sleep tests scaled by `--scale` through
 * the real stack; that needs the workflows to dispatch dynamically, which they do not yet.
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareSplits } from '../core/dispatch/compare.js';
import type { MakespanRow } from '../core/dispatch/compare.js';
import { neverSplitSections } from '../core/dispatch/split-audit.js';
import { parseRunfile } from '../core/runfile/parse.js';
import { historyFromRows, parseDurationTable } from '../core/shard/durations.js';
import { projectRoot } from '../lib/paths.js';

function fail(message: string): never {
  process.stderr.write(`bench/dispatch: ${message}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      history: { type: 'string' },
      actual: { type: 'string' },
      slots: { type: 'string', default: '2,4,8' },
      simulate: { type: 'boolean', default: false },
      scale: { type: 'string' },
      'split-groups': { type: 'boolean', default: false },
      'split-above': { type: 'string', default: '1' },
      'slow-slots': { type: 'string', default: '0' },
      'slow-speed': { type: 'string', default: '0.07' },
      runfiles: { type: 'string', default: join(projectRoot, 'test', 'fixtures', 'runfiles', 'zfs-2.2.0') },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (err) {
  fail((err as Error).message);
}
if (!values.history) fail('--history FILE is required (a zts-durations-*.tsv table the planner knows)');
if (!values.actual) fail('--actual FILE is required (a zts-durations-*.tsv table the tests really take)');
if (!values.simulate) {
  fail(
    `running sleep tests through the real stack${values.scale ? ` (--scale ${values.scale})` : ''} is not available yet: the matrix and target workflows still run static shards. Use --simulate.`,
  );
}
const splitAboveShare = Number(values['split-above']);
if (!(splitAboveShare > 0)) fail(`--split-above wants a positive share of the fair share (1 = total / N), got ${JSON.stringify(values['split-above'])}`);
const slowSlots = Number(values['slow-slots']);
const slowSpeed = Number(values['slow-speed']);
if (!Number.isInteger(slowSlots) || slowSlots < 0) fail(`--slow-slots wants a whole number of slots, got ${JSON.stringify(values['slow-slots'])}`);
if (!(slowSpeed > 0 && slowSpeed <= 1)) fail(`--slow-speed wants a speed in (0, 1] relative to history, got ${JSON.stringify(values['slow-speed'])}`);
const slots = values.slots.split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1) fail(`--slots wants positive integers separated by commas, got ${JSON.stringify(values.slots)}`);
  return n;
});

function readTable(path: string) {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(`cannot read ${path}: ${(err as Error).message}`);
  }
  return historyFromRows(parseDurationTable(text, path));
}

const history = readTable(resolve(values.history));
const actual = readTable(resolve(values.actual));
const docs = ['common.run', 'linux.run'].map((name) => {
  const path = join(resolve(values.runfiles), name);
  try {
    return parseRunfile(readFileSync(path, 'utf8'), name);
  } catch (err) {
    fail(`cannot read runfile ${path}: ${(err as Error).message}`);
  }
});

const rows = compareSplits(docs, history, actual, slots, {
  splitGroups: values['split-groups'],
  splitAboveShare,
  slowSlots,
  slowSpeed,
  neverSplit: neverSplitSections(),
});

if (values.json) {
  for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
} else {
  const clock = (seconds: number): string => {
    const s = Math.round(seconds);
    return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  };
  const label = (row: MakespanRow): string =>
    row.split === 'dynamic' ? (row.splitGroups ? 'dynamic, --split-groups' : 'dynamic') : row.split === 'static' ? 'static shards' : 'upstream -T k/N';
  const lines = [
    `${slowSlots > 0 ? `${slowSlots} of the slots at speed ${slowSpeed}; ` : ''}history ${values.history}, actual ${values.actual}, runfiles ${relative(process.cwd(), resolve(values.runfiles)) || '.'} (common.run + linux.run)`,
    '',
    '| slots | split | makespan | lower bound | makespan / LB | items |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.slots} | ${label(row)} | ${clock(row.makespanSeconds)} | ${clock(row.lowerBoundSeconds)}${row.splitGroups ? ' (total / N)' : ''} | ${(row.makespanSeconds / row.lowerBoundSeconds).toFixed(3)} | ${row.items ?? ''}${row.groupsSplit ? ` (${row.groupsSplit} group${row.groupsSplit === 1 ? '' : 's'} split)` : ''} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
