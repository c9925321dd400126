import { Connection } from '@temporalio/client';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SEARCH_ATTRIBUTE_NAMES } from '../core/search-attributes.js';
import { isRecordAlive, startBackground, stopRecorded, waitUntil, type PidRecord, type ProcessDirs } from './process.js';

export interface TemporalServerOptions {
  binary: string;
  dataDir: string;
  ip: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** Disable the Web UI (tests). */
  headless?: boolean;
}

export const TEMPORAL_PROCESS = 'temporal';

/** The Temporal CLI dev server, with its history in a SQLite file so it survives restarts. */
export function temporalServerArgv(o: TemporalServerOptions): string[] {
  const argv = [
    o.binary,
    'server',
    'start-dev',
    '--db-filename',
    join(o.dataDir, 'temporal.sqlite'),
    '--ip',
    o.ip,
    '--port',
    String(o.port),
    '--namespace',
    o.namespace,
    '--log-level',
    'warn',
  ];
  if (o.headless) argv.push('--headless');
  else argv.push('--ui-port', String(o.uiPort), '--ui-ip', o.ip);
  for (const name of SEARCH_ATTRIBUTE_NAMES) argv.push('--search-attribute', `${name}=Keyword`);
  return argv;
}

export async function startTemporalServer(dirs: ProcessDirs, o: TemporalServerOptions, timeoutMs = 120_000): Promise<PidRecord> {
  mkdirSync(o.dataDir, { recursive: true });
  const record = startBackground(dirs, TEMPORAL_PROCESS, temporalServerArgv(o));
  const address = `${o.ip}:${o.port}`;
  await waitUntil(() => temporalNamespaceReady(address, o.namespace), {
    timeoutMs,
    describe: `Temporal dev server at ${address}`,
    alive: () => isRecordAlive(record),
    logFile: record.logFile,
  });
  await ensureSearchAttributes(address, o.namespace);
  return record;
}

export function stopTemporalServer(dirs: ProcessDirs): Promise<boolean> {
  return stopRecorded(dirs, TEMPORAL_PROCESS);
}

/** True when the frontend answers and our namespace exists. */
export async function temporalNamespaceReady(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection.close();
  }
}

/**
 * Registers any of our search attributes the namespace lacks. The dev server's --search-attribute
 * flag covers a fresh embedded server; this covers an older state file and the fleet server.
 */
export async function ensureSearchAttributes(address: string, namespace: string): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const have = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = SEARCH_ATTRIBUTE_NAMES.filter((name) => !have.has(name));
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        // 2 = INDEXED_VALUE_TYPE_KEYWORD in temporal.api.enums.v1.IndexedValueType
        searchAttributes: Object.fromEntries(missing.map((name) => [name, 2])),
      });
    }
    return missing;
  } finally {
    await connection.close();
  }
}
