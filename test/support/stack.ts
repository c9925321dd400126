import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, inject } from 'vitest';
import { validateConfig, type LoadedConfig } from '../../lib/config.js';
import { distDir, projectRoot } from '../../lib/paths.js';
import { ArtifactStore } from '../../lib/s3.js';
import type { TestStack } from '../setup/global-stack.js';

export function testStack(): TestStack {
  return inject('stack');
}

/** A private world for one test: its own state dir, host id and coordinator queue on the shared stack. */
export interface TestWorld {
  env: NodeJS.ProcessEnv;
  loaded: LoadedConfig;
  hostId: string;
  stateDir: string;
  cleanup(): void;
}

export function createWorld(name: string, extraEnv: NodeJS.ProcessEnv = {}): TestWorld {
  const stack = testStack();
  const suffix = `${name}-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  const stateDir = mkdtempSync(join(tmpdir(), `zfslab-${name}-`));
  const hostId = `t-${suffix}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 60);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ZFSLAB_CONFIG: '',
    ZFSLAB_STATE_DIR: stateDir,
    ZFSLAB_TOOLS_DIR: stack.toolsDir,
    ZFSLAB_TEMPORAL_ADDRESS: stack.temporalAddress,
    ZFSLAB_TEMPORAL_NAMESPACE: stack.namespace,
    ZFSLAB_TEMPORAL_TASK_QUEUE: `zfslab-${suffix}`,
    ZFSLAB_TEMPORAL_EMBEDDED: 'false',
    ZFSLAB_S3_ENDPOINT: stack.s3Endpoint,
    ZFSLAB_S3_ACCESS_KEY_ID: stack.accessKeyId,
    ZFSLAB_S3_SECRET_ACCESS_KEY: stack.secretAccessKey,
    ZFSLAB_S3_BUCKET: stack.bucket,
    ZFSLAB_S3_EMBEDDED: 'false',
    ZFSLAB_HOST_ID: hostId,
    ZFSLAB_METRICS_COORDINATOR_PORT: '0',
    ZFSLAB_METRICS_HOST_PORT: '0',
    ZFSLAB_LOG_FORMAT: 'json',
    ...extraEnv,
  };
  return {
    env,
    loaded: validateConfig({}, env),
    hostId,
    stateDir,
    cleanup: () => rmSync(stateDir, { recursive: true, force: true }),
  };
}

export interface RunningWorker {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

/** Starts a real worker process (compiled) and waits until it polls. */
export async function startWorker(kind: 'coordinator' | 'host', env: NodeJS.ProcessEnv): Promise<RunningWorker> {
  const child = spawn(process.execPath, [join(distDir, 'workers', kind, 'main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolvePromise) => child.on('exit', (code) => resolvePromise(code)));
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} worker did not start polling:\n${output}`)), 60_000);
    const check = () => {
      if (/polling/.test(output)) {
        clearTimeout(timer);
        resolvePromise();
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} worker exited (${code}) before polling:\n${output}`));
    });
  });
  return {
    child,
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `zfslab` command (bin/zfslab.js) as a user would. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, options: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin', 'zfslab.js'), ...args], {
      env,
      cwd: options.cwd ?? projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

export async function connectTestClient(): Promise<Client> {
  const stack = testStack();
  const connection = await Connection.connect({ address: stack.temporalAddress });
  return new Client({ connection, namespace: stack.namespace });
}

export function testArtifacts(world: TestWorld): ArtifactStore {
  return ArtifactStore.fromConfig(world.loaded.config, { retryForMs: 60_000 });
}

/**
 * A world for the enclosing `describe`, with a real coordinator worker and (unless `host: false`) a
 * host worker, started before its tests and stopped, with the world removed, after them. `world` is
 * readable once the tests run; `workers` may be changed by a test (a worker killed and replaced).
 */
export function useWorld(
  name: string,
  options: { host?: boolean; env?: () => Promise<NodeJS.ProcessEnv> } = {},
): { readonly world: TestWorld; workers: RunningWorker[] } {
  let world: TestWorld | undefined;
  const workers: RunningWorker[] = [];
  beforeAll(async () => {
    world = createWorld(name, options.env ? await options.env() : {});
    workers.push(await startWorker('coordinator', world.env));
    if (options.host !== false) workers.push(await startWorker('host', world.env));
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    world?.cleanup();
  });
  return {
    get world(): TestWorld {
      if (!world) throw new Error(`world ${name} is used before its beforeAll ran`);
      return world;
    },
    workers,
  };
}
