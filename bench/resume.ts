/**
 * Resume vs restart, measured on the real system: a 40-test native run (real test-runner.py, real
 * scripts of ~0.4 s that count their own invocations) whose host worker is killed with SIGKILL once
 * half the tests ran. Side by side, in one invocation:
 *   baseline  the same run, never interrupted;
 *   resume    zfslab's way: a new host worker starts at once; the chunk is retried after the
 *             heartbeat timeout and continues from its checkpoint;
 *   restart   upstream CI's way: the run is lost (its workflow terminated) and started again from
 *             scratch on a new worker at once.
 * A private Temporal dev server and MinIO are started (the pinned binaries in .tools) and torn down.
 *
 *   npx tsc -p . && node dist/infra/bundle-workflows.js && node dist/bench/resume.js [--heartbeat-timeout 10]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { runWorkflowId } from '../core/test-run/ids.js';
import { startMinioServer, stopMinioServer } from '../infra/minio-server.js';
import { startTemporalServer, stopTemporalServer } from '../infra/temporal-server.js';
import { ensureTools, toolPath } from '../infra/tools.js';
import { createLogger } from '../lib/log.js';
import { distDir, projectRoot } from '../lib/paths.js';
import { invocations, makeCounterSuite, type CounterSuite } from '../test/support/counter-suite.js';
import { freePort } from '../test/support/ports.js';

const { values } = parseArgs({ options: { 'heartbeat-timeout': { type: 'string', default: '10' }, tests: { type: 'string', default: '40' } } });
const heartbeatTimeout = Number(values['heartbeat-timeout']);
const groups = Math.max(1, Math.round(Number(values.tests) / 10));

interface Worker {
  child: ChildProcess;
  killed: Promise<void>;
}

function startWorker(kind: 'coordinator' | 'host', env: NodeJS.ProcessEnv): Promise<Worker> {
  const child = spawn(process.execPath, [join(distDir, 'workers', kind, 'main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const killed = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} worker did not start polling within 60 s`)), 60_000);
    void killed.then(() => clearTimeout(timer));
    let output = '';
    const check = (d: Buffer): void => {
      output += d.toString();
      if (/polling/.test(output)) {
        clearTimeout(timer);
        resolve({ child, killed });
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    void killed.then(() => reject(new Error(`${kind} worker exited before polling:\n${output}`)));
  });
}

function cli(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [join(projectRoot, 'bin', 'zfslab.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr }))) };
}

function testsRun(suite: CounterSuite): { invocations: number; distinct: number; twice: number } {
  let total = 0;
  let distinct = 0;
  let twice = 0;
  for (const [name, n] of invocations(suite)) {
    if (/\/(setup|cleanup)$/.test(name)) continue;
    total += n;
    distinct++;
    if (n > 1) twice++;
  }
  return { invocations: total, distinct, twice };
}

async function untilHalf(suite: CounterSuite, total: number): Promise<void> {
  while (testsRun(suite).invocations < total / 2) await sleep(20);
}

async function killHost(host: Worker): Promise<void> {
  host.child.kill('SIGKILL');
  await host.killed;
}

const root = mkdtempSync(join(tmpdir(), 'zfslab-bench-resume-'));
const dirs = { runDir: join(root, 'run'), logDir: join(root, 'logs') };
const log = createLogger('bench-resume', 'warn');
const toolsDir = join(projectRoot, '.tools');
const workers: Worker[] = [];
try {
  await ensureTools(toolsDir, log);
  const temporalPort = await freePort();
  await startTemporalServer(dirs, {
    binary: toolPath(toolsDir, 'temporal'),
    dataDir: join(root, 'temporal'),
    ip: '127.0.0.1',
    port: temporalPort,
    uiPort: 0,
    namespace: 'zfslab',
    headless: true,
  });
  const s3Port = await freePort();
  const s3 = { accessKeyId: 'zfslab-bench', secretAccessKey: 'zfslab-bench-secret', bucket: 'zfslab-bench' };
  await startMinioServer(dirs, {
    binary: toolPath(toolsDir, 'minio'),
    dataDir: join(root, 'minio'),
    ip: '127.0.0.1',
    port: s3Port,
    consolePort: await freePort(),
    ...s3,
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ZFSLAB_CONFIG: '',
    ZFSLAB_STATE_DIR: join(root, 'state'),
    ZFSLAB_TOOLS_DIR: toolsDir,
    ZFSLAB_TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    ZFSLAB_TEMPORAL_EMBEDDED: 'false',
    ZFSLAB_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
    ZFSLAB_S3_ACCESS_KEY_ID: s3.accessKeyId,
    ZFSLAB_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    ZFSLAB_S3_BUCKET: s3.bucket,
    ZFSLAB_S3_EMBEDDED: 'false',
    ZFSLAB_HOST_ID: 'bench',
    ZFSLAB_METRICS_COORDINATOR_PORT: '0',
    ZFSLAB_METRICS_HOST_PORT: '0',
    // Workers say "polling" at info level: that is how this script knows they are up.
    ZFSLAB_LOG_LEVEL: 'info',
    ZFSLAB_LOG_FORMAT: 'json',
  };
  workers.push(await startWorker('coordinator', env));
  let host = await startWorker('host', env);
  workers.push(host);
  const testArgs = (suite: CounterSuite) => ['test', 'native', '--runfile', suite.runfile, '--json', '--heartbeat-timeout', String(heartbeatTimeout)];
  const runIdOf = (stdout: string): string => (JSON.parse(stdout) as { runId: string }).runId;
  const total = groups * 10;
  const rows: string[][] = [];

  // Warm-up, not reported: the first run of a fresh stack pays for cold caches (workflow bundle,
  // store migrations, the bucket) that would otherwise land on the baseline.
  {
    const suite = makeCounterSuite(join(root, 'warm-up'), { groups: 1, perGroup: 2, sleepSeconds: 0 });
    const out = await cli(testArgs(suite), env).done;
    if (out.code !== 0) throw new Error(`warm-up run failed (${out.code}): ${out.stderr}`);
  }

  // Baseline: never interrupted.
  {
    const suite = makeCounterSuite(join(root, 'baseline'), { groups, perGroup: 10, sleepSeconds: 0.4 });
    const started = Date.now();
    const out = await cli(testArgs(suite), env).done;
    const seconds = (Date.now() - started) / 1000;
    if (out.code !== 0) throw new Error(`baseline run failed (${out.code}): ${out.stderr}`);
    const t = testsRun(suite);
    rows.push(['baseline (no kill)', seconds.toFixed(1), '-', String(t.invocations), String(t.invocations - t.distinct), String(t.twice)]);
  }

  // Resume: kill -9 at half, a new worker at once; the chunk resumes after the heartbeat timeout.
  {
    const suite = makeCounterSuite(join(root, 'resume'), { groups, perGroup: 10, sleepSeconds: 0.4 });
    const started = Date.now();
    const run = cli(testArgs(suite), env);
    await untilHalf(suite, total);
    await killHost(host);
    const killedAt = (Date.now() - started) / 1000;
    host = await startWorker('host', env);
    workers.push(host);
    const out = await run.done;
    const seconds = (Date.now() - started) / 1000;
    if (out.code !== 0) throw new Error(`resumed run failed (${out.code}): ${out.stderr}`);
    const t = testsRun(suite);
    rows.push(['resume (zfslab)', seconds.toFixed(1), killedAt.toFixed(1), String(t.invocations), String(t.invocations - t.distinct), String(t.twice)]);
  }

  // Restart: kill -9 at half, the run is lost; a new run from scratch on a new worker at once.
  {
    const suite = makeCounterSuite(join(root, 'restart'), { groups, perGroup: 10, sleepSeconds: 0.4 });
    const started = Date.now();
    const first = cli([...testArgs(suite), '--no-wait'], env);
    const firstOut = await first.done;
    await untilHalf(suite, total);
    await killHost(host);
    const killedAt = (Date.now() - started) / 1000;
    const connection = await Connection.connect({ address: env.ZFSLAB_TEMPORAL_ADDRESS! });
    await new Client({ connection, namespace: 'zfslab' }).workflow
      .getHandle(runWorkflowId(runIdOf(firstOut.stdout)))
      .terminate('lost with its VM (upstream CI does not resume)');
    await connection.close();
    host = await startWorker('host', env);
    workers.push(host);
    const out = await cli(testArgs(suite), env).done;
    const seconds = (Date.now() - started) / 1000;
    if (out.code !== 0) throw new Error(`restarted run failed (${out.code}): ${out.stderr}`);
    const t = testsRun(suite);
    rows.push(['restart from scratch', seconds.toFixed(1), killedAt.toFixed(1), String(t.invocations), String(t.invocations - t.distinct), String(t.twice)]);
  }

  const baseline = Number(rows[0]![1]);
  for (const row of rows) row.splice(2, 0, row === rows[0] ? '-' : `+${(Number(row[1]) - baseline).toFixed(1)}`);
  const header = ['scenario', 'wall s', 'vs baseline', 'killed at s', 'test invocations', 're-runs', 'tests run twice'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`${total} tests of ~0.4 s each (real test-runner.py), 10 per group; heartbeat timeout ${heartbeatTimeout} s; Node ${process.version}`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
} finally {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => Promise.race([w.killed, sleep(10_000)])));
  await stopTemporalServer(dirs).catch(() => undefined);
  await stopMinioServer(dirs).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
}
