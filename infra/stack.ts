import { join } from 'node:path';
import type { LoadedConfig } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import { distDir } from '../lib/paths.js';
import { MINIO_PROCESS, minioLive, startMinioServer } from './minio-server.js';
import { isRecordAlive, readPidRecord, startBackground, stopRecorded, waitUntil, type PidRecord, type ProcessDirs } from './process.js';
import { TEMPORAL_PROCESS, startTemporalServer, temporalNamespaceReady } from './temporal-server.js';
import { ensureTools, toolPath } from './tools.js';

/**
 * The embedded stack of one machine: Temporal dev server, MinIO, the coordinator worker and this
 * host's worker, each a background process with a pid file and a log in the state dir.
 */
export const STACK_PROCESSES = [TEMPORAL_PROCESS, MINIO_PROCESS, 'coordinator', 'host-worker'] as const;
export type StackProcess = (typeof STACK_PROCESSES)[number];

export function processDirs(loaded: LoadedConfig): ProcessDirs {
  return { runDir: join(loaded.paths.stateDir, 'run'), logDir: join(loaded.paths.stateDir, 'logs') };
}

export interface StackUrls {
  temporalAddress: string;
  temporalUi: string;
  s3Endpoint: string;
  minioConsole: string;
}

export function stackUrls(loaded: LoadedConfig): StackUrls {
  const { temporal, s3 } = loaded.config;
  const host = temporal.address.split(':')[0] ?? '127.0.0.1';
  const s3Host = new URL(s3.endpoint).hostname;
  return {
    temporalAddress: temporal.address,
    temporalUi: `http://${host}:${temporal.uiPort}/namespaces/${temporal.namespace}/workflows`,
    s3Endpoint: s3.endpoint,
    minioConsole: `http://${s3Host}:${s3.consolePort}`,
  };
}

export interface UpResult {
  started: StackProcess[];
  alreadyRunning: StackProcess[];
  urls: StackUrls;
  logDir: string;
}

/** Starts whatever part of the stack is not running yet; a failure stops what this call started. */
export async function stackUp(loaded: LoadedConfig, log: Logger, options: { configFile?: string } = {}): Promise<UpResult> {
  const dirs = processDirs(loaded);
  const { config, paths } = loaded;
  const started: StackProcess[] = [];
  const alreadyRunning: StackProcess[] = [];
  const running = (name: StackProcess) => {
    const record = readPidRecord(dirs, name);
    return record !== undefined && isRecordAlive(record);
  };
  try {
    if (config.temporal.embedded || config.s3.embedded) await ensureTools(paths.toolsDir, log);
    if (config.temporal.embedded) {
      if (running(TEMPORAL_PROCESS)) alreadyRunning.push(TEMPORAL_PROCESS);
      else {
        const [ip, port] = splitHostPort(config.temporal.address);
        log.info('starting Temporal dev server');
        await startTemporalServer(dirs, {
          binary: toolPath(paths.toolsDir, 'temporal'),
          dataDir: join(paths.stateDir, 'temporal'),
          ip,
          port,
          uiPort: config.temporal.uiPort,
          namespace: config.temporal.namespace,
        });
        started.push(TEMPORAL_PROCESS);
      }
    }
    if (config.s3.embedded) {
      if (running(MINIO_PROCESS)) alreadyRunning.push(MINIO_PROCESS);
      else {
        const url = new URL(config.s3.endpoint);
        log.info('starting MinIO');
        await startMinioServer(dirs, {
          binary: toolPath(paths.toolsDir, 'minio'),
          dataDir: join(paths.stateDir, 'minio'),
          ip: url.hostname,
          port: Number(url.port || 80),
          consolePort: config.s3.consolePort,
          accessKeyId: config.s3.accessKeyId,
          secretAccessKey: config.s3.secretAccessKey,
          bucket: config.s3.bucket,
        });
        started.push(MINIO_PROCESS);
      }
    }
    const env = { ...process.env, ...(options.configFile ? { ZFSLAB_CONFIG: options.configFile } : {}), ZFSLAB_LOG_FORMAT: 'json' };
    for (const [name, entry] of [
      ['coordinator', 'workers/coordinator/main.js'],
      ['host-worker', 'workers/host/main.js'],
    ] as const) {
      if (running(name)) {
        alreadyRunning.push(name);
        continue;
      }
      const record = startBackground(dirs, name, [process.execPath, join(distDir, entry)], { env });
      started.push(name);
      // Match this process's own line: the log file is appended across restarts.
      await waitForLogLine(record, new RegExp(`"pid":${record.pid}\\b.*polling|polling.*"pid":${record.pid}\\b`), `${name} worker`);
    }
    return { started, alreadyRunning, urls: stackUrls(loaded), logDir: dirs.logDir };
  } catch (err) {
    for (const name of [...started].reverse()) await stopRecorded(dirs, name).catch(() => undefined);
    throw err;
  }
}

/** Stops exactly the processes `up` recorded, workers first so they drain before the server goes. */
export async function stackDown(loaded: LoadedConfig): Promise<{ stopped: StackProcess[]; notRunning: StackProcess[] }> {
  const dirs = processDirs(loaded);
  const stopped: StackProcess[] = [];
  const notRunning: StackProcess[] = [];
  for (const name of [...STACK_PROCESSES].reverse()) {
    if (await stopRecorded(dirs, name, name === 'host-worker' ? 45_000 : 15_000)) stopped.push(name);
    else notRunning.push(name);
  }
  return { stopped, notRunning };
}

export interface ServiceHealth {
  name: StackProcess;
  /** Whether this machine's stack manages the service (false: fleet / external). */
  managed: boolean;
  pid?: number;
  running: boolean;
  healthy: boolean;
  detail: string;
}

export async function stackHealth(loaded: LoadedConfig): Promise<ServiceHealth[]> {
  const dirs = processDirs(loaded);
  const { config } = loaded;
  const out: ServiceHealth[] = [];
  for (const name of STACK_PROCESSES) {
    const record = readPidRecord(dirs, name);
    const alive = record !== undefined && isRecordAlive(record);
    const managed = name === TEMPORAL_PROCESS ? config.temporal.embedded : name === MINIO_PROCESS ? config.s3.embedded : true;
    let healthy = alive;
    let detail = alive ? `pid ${record?.pid}` : 'not running';
    if (name === TEMPORAL_PROCESS) {
      healthy = await temporalNamespaceReady(config.temporal.address, config.temporal.namespace).catch(() => false);
      detail = healthy ? `namespace ${config.temporal.namespace} at ${config.temporal.address}` : `no answer at ${config.temporal.address}`;
    } else if (name === MINIO_PROCESS) {
      healthy = await minioLive(config.s3.endpoint).catch(() => false);
      detail = healthy ? `live at ${config.s3.endpoint}` : `no answer at ${config.s3.endpoint}`;
    }
    out.push({ name, managed, ...(alive && record ? { pid: record.pid } : {}), running: alive, healthy, detail });
  }
  return out;
}

async function waitForLogLine(record: PidRecord, pattern: RegExp, describe: string): Promise<void> {
  const { readFileSync } = await import('node:fs');
  await waitUntil(async () => pattern.test(readFileSync(record.logFile, 'utf8')), {
    timeoutMs: 90_000,
    describe,
    alive: () => isRecordAlive(record),
    logFile: record.logFile,
  });
}

function splitHostPort(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}
