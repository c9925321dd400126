import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FlavorSchema } from '../core/catalog/schema.js';
import { DEFAULT_RERUNS, RerunsSchema } from '../core/results/result-class.js';
import { DEFAULT_EXPIRE_AFTER_RUNS, ExpireAfterRunsSchema } from '../core/baselines/learned.js';
import { DEFAULT_HOST_WAIT_SECONDS, HostWaitSecondsSchema } from '../core/wait.js';
import { ConfigError } from './errors.js';
import { projectRoot } from './paths.js';

/**
 * The one config file. Every value has a default that serves the embedded stack on one machine,
 * so an empty (or absent) file is a valid config. Endpoints and credentials can be overridden
 * from the environment (ENV_OVERRIDES), which is how fleet workers are pointed at a shared stack.
 */
const port = z.number().int().min(1).max(65535);
const hostPort = z.string().regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'host:port');
const hostIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const ConfigSchema = z.strictObject({
  /** Where the embedded stack keeps its data, pid files and logs. Relative paths are under the clone. */
  stateDir: z.string().min(1).default('.zfslab'),
  /** Where `go install` puts the pinned Temporal CLI and MinIO. */
  toolsDir: z.string().min(1).default('.tools'),
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') }).prefault({}),
  temporal: z
    .strictObject({
      address: hostPort.default('127.0.0.1:7233'),
      namespace: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a Temporal namespace name')
        .default('zfslab'),
      /** Start the Temporal CLI dev server with `zfslab up`; false when the fleet stack serves Temporal. */
      embedded: z.boolean().default(true),
      uiPort: port.default(8233),
      /** The coordinator's task queue (workflows + coordinator activities). */
      taskQueue: z.string().min(1).default('zfslab'),
    })
    .prefault({}),
  s3: z
    .strictObject({
      endpoint: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:9000'),
      region: z.string().min(1).default('us-east-1'),
      accessKeyId: z.string().min(3).default('zfslab'),
      secretAccessKey: z.string().min(8).default('zfslab-secret-key'),
      bucket: z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3-63 chars: a-z 0-9 . -)')
        .default('zfslab-artifacts'),
      /** Start a local MinIO with `zfslab up`; false when the fleet stack or another S3 serves artifacts. */
      embedded: z.boolean().default(true),
      consolePort: port.default(9001),
    })
    .prefault({}),
  host: z
    .strictObject({
      /** Stable id of this lab host; its task queue is `zfslab-host-<id>`. Default: derived once and kept in the state dir. */
      id: z.string().regex(hostIdPattern, 'a lowercase host id (a-z 0-9 -, at most 63 chars)').optional(),
      /** Golden images and clones live here. Relative paths are under the state dir. */
      imageDir: z.string().min(1).default('images'),
      /** Activities this host runs at once. */
      maxConcurrentActivities: z.number().int().min(1).max(64).default(4),
      /** VMs this host runs at once (each TCG VM wants about 1 core and 3 GiB). */
      maxVms: z.number().int().min(1).max(64).default(2),
      /** The orphan sweep runs at worker start and then this often (seconds; 0: at start only). */
      sweepIntervalSeconds: z.number().int().min(0).max(86_400).default(600),
      /** How long a clone may take from qemu start to SSH (seconds). Default by accelerator: core/vm/timeouts.ts. */
      bootTimeoutSeconds: z.number().int().min(10).max(7_200).optional(),
      /** Labels placement matches like proven capabilities (`--require TAG`): `bare-metal`, `multipath`, `internet`, … */
      tags: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a tag (a-z 0-9 -)')).default([]),
      /** Opt in: clones restore the golden's saved running machine instead of booting (activities/vm/saved-state.ts). Off by default: a restored TCG guest's clock jumps hours ahead during a test (found 2026-12-03), so runner timeouts fire. */
      instantClones: z.boolean().default(false),
      /**
       * Whether golden builds honour a Release file's Valid-Until. Debian's rolling suites (sid, testing)
       * expire after a week; a frozen or snapshot mirror serves expired ones, which apt then refuses.
       */
      aptCheckValidUntil: z.boolean().default(true),
      /** Where clone disks come from: qcow2 overlays of the golden (any host) or zvol clones under `zfsDataset` (a ZFS host). */
      storage: z.enum(['qcow2', 'zfs']).default('qcow2'),
      /** With `storage: zfs`: the existing dataset zfslab keeps its goldens and clones under, e.g. `tank/zfslab`. */
      zfsDataset: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*$/, 'a ZFS dataset name (pool/path, no snapshot)')
        .optional(),
    })
    .refine((host) => host.storage !== 'zfs' || host.zfsDataset !== undefined, {
      path: ['zfsDataset'],
      message: 'a ZFS dataset (e.g. tank/zfslab): host.storage is zfs',
    })
    .prefault({}),
  /** How runs end. */
  run: z
    .strictObject({
      /**
       * How long an activity may wait on a host's queue for a worker to pick it up (seconds): the
       * schedule-to-start bound of every host activity. A run whose host never comes back ends then,
       * as an infrastructure error naming the host, with what finished kept.
       */
      hostWaitSeconds: HostWaitSecondsSchema.default(DEFAULT_HOST_WAIT_SECONDS),
      /** Re-runs of each unexpected FAIL/KILLED test at the end of its shard, in a fresh clone (0: none). */
      reruns: RerunsSchema.default(DEFAULT_RERUNS),
    })
    .prefault({}),
  /** Baselines learned from history (core/baselines/learned.ts, `zfslab baseline`). */
  baseline: z
    .strictObject({
      /** An accepted entry drops out once its test has gone this many runs in a row without failing. */
      expireAfterRuns: ExpireAfterRunsSchema.default(DEFAULT_EXPIRE_AFTER_RUNS),
    })
    .prefault({}),
  /** How often a `good` host is health-checked again anyway (core/host/health.ts healthCheckDue); unset: only after a failure. */
  health: z
    .strictObject({
      everyHours: z.number().positive().max(8760).optional(),
      everyJobs: z.number().int().min(1).max(100_000).optional(),
    })
    .prefault({}),
  /** The results store: `sqlite:/path/results.db` or `postgres://user@host:port/db`; default sqlite:<stateDir>/results.db (storeUrlOf). */
  store: z.strictObject({ url: z.string().min(1).optional() }).prefault({}),
  /** User flavors, added to the shipped catalog (a shipped id is replaced). See docs/catalog.md. */
  flavors: z.array(FlavorSchema).default([]),
  /**
   * How this machine switches each bare-metal host's power, by host id: `{ driver: ipmi | redfish |
   * command | qmp, … }` (activities/power/from-config.ts, checked when used: `zfslab host power`).
   * Credentials only by environment-variable name.
   */
  power: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a host id (a-z 0-9 -)'), z.record(z.string(), z.unknown())).default({}),
  /** Prometheus /metrics endpoints; 0 turns one off. Loopback unless a Prometheus elsewhere scrapes them (0.0.0.0). */
  metrics: z
    .strictObject({
      coordinatorPort: port.or(z.literal(0)).default(9464),
      hostPort: port.or(z.literal(0)).default(9465),
      bindAddress: z.union([z.ipv4(), z.ipv6()]).default('127.0.0.1'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Environment variables that override config keys (endpoints, credentials, identity). */
export const ENV_OVERRIDES: Readonly<Record<string, { path: readonly string[]; type: 'string' | 'boolean' | 'number' }>> = {
  ZFSLAB_STATE_DIR: { path: ['stateDir'], type: 'string' },
  ZFSLAB_TOOLS_DIR: { path: ['toolsDir'], type: 'string' },
  ZFSLAB_LOG_LEVEL: { path: ['log', 'level'], type: 'string' },
  ZFSLAB_TEMPORAL_ADDRESS: { path: ['temporal', 'address'], type: 'string' },
  ZFSLAB_TEMPORAL_NAMESPACE: { path: ['temporal', 'namespace'], type: 'string' },
  ZFSLAB_TEMPORAL_EMBEDDED: { path: ['temporal', 'embedded'], type: 'boolean' },
  ZFSLAB_TEMPORAL_UI_PORT: { path: ['temporal', 'uiPort'], type: 'number' },
  ZFSLAB_TEMPORAL_TASK_QUEUE: { path: ['temporal', 'taskQueue'], type: 'string' },
  ZFSLAB_S3_ENDPOINT: { path: ['s3', 'endpoint'], type: 'string' },
  ZFSLAB_S3_REGION: { path: ['s3', 'region'], type: 'string' },
  ZFSLAB_S3_ACCESS_KEY_ID: { path: ['s3', 'accessKeyId'], type: 'string' },
  ZFSLAB_S3_SECRET_ACCESS_KEY: { path: ['s3', 'secretAccessKey'], type: 'string' },
  ZFSLAB_S3_BUCKET: { path: ['s3', 'bucket'], type: 'string' },
  ZFSLAB_S3_EMBEDDED: { path: ['s3', 'embedded'], type: 'boolean' },
  ZFSLAB_HOST_INSTANT_CLONES: { path: ['host', 'instantClones'], type: 'boolean' },
  ZFSLAB_HOST_APT_CHECK_VALID_UNTIL: { path: ['host', 'aptCheckValidUntil'], type: 'boolean' },
  ZFSLAB_S3_CONSOLE_PORT: { path: ['s3', 'consolePort'], type: 'number' },
  ZFSLAB_HOST_ID: { path: ['host', 'id'], type: 'string' },
  ZFSLAB_HOST_STORAGE: { path: ['host', 'storage'], type: 'string' },
  ZFSLAB_HOST_ZFS_DATASET: { path: ['host', 'zfsDataset'], type: 'string' },
  ZFSLAB_METRICS_COORDINATOR_PORT: { path: ['metrics', 'coordinatorPort'], type: 'number' },
  ZFSLAB_METRICS_HOST_PORT: { path: ['metrics', 'hostPort'], type: 'number' },
  ZFSLAB_METRICS_BIND_ADDRESS: { path: ['metrics', 'bindAddress'], type: 'string' },
  ZFSLAB_STORE_URL: { path: ['store', 'url'], type: 'string' },
  ZFSLAB_RUN_HOST_WAIT_SECONDS: { path: ['run', 'hostWaitSeconds'], type: 'number' },
  ZFSLAB_RUN_RERUNS: { path: ['run', 'reruns'], type: 'number' },
  ZFSLAB_BASELINE_EXPIRE_AFTER_RUNS: { path: ['baseline', 'expireAfterRuns'], type: 'number' },
};

export interface LoadedConfig {
  config: Config;
  /** The file read, or undefined when only defaults and environment applied. */
  file: string | undefined;
  /** Absolute paths derived from the config. */
  paths: { stateDir: string; toolsDir: string; imageDir: string };
}

/** Where the config file is looked for: --config, then $ZFSLAB_CONFIG, then ./zfslab.config.yaml. */
export function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit) return resolve(explicit);
  if (env.ZFSLAB_CONFIG) return resolve(env.ZFSLAB_CONFIG);
  for (const name of ['zfslab.config.yaml', 'zfslab.config.yml', 'zfslab.config.json']) {
    const candidate = resolve(name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const file = findConfigFile(options.file, env);
  let raw: unknown = {};
  if (file) {
    if (!existsSync(file)) throw new ConfigError(file, [{ key: '(file)', value: file, expected: 'an existing config file' }]);
    try {
      raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
    } catch (err) {
      throw new ConfigError(file, [{ key: '(file)', value: (err as Error).message, expected: 'valid YAML or JSON' }]);
    }
    if (typeof raw !== 'object' || Array.isArray(raw) || raw === null) {
      throw new ConfigError(file, [{ key: '(root)', value: raw, expected: 'a mapping of config keys' }]);
    }
  }
  return validateConfig(raw as Record<string, unknown>, env, file);
}

/** Validates raw config plus environment overrides; throws ConfigError naming every wrong key. */
export function validateConfig(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, file?: string): LoadedConfig {
  const merged = structuredClone(raw);
  const issues: ConfigError['issues'][number][] = [];
  const envKeyOf = new Map<string, string>();
  for (const [name, spec] of Object.entries(ENV_OVERRIDES)) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    const value = coerceEnv(text, spec.type);
    if (value === undefined) {
      issues.push({ key: `${spec.path.join('.')} (from ${name})`, value: text, expected: `a ${spec.type}` });
      continue;
    }
    setPath(merged, spec.path, value);
    envKeyOf.set(spec.path.join('.'), name);
  }
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
      for (const path of keys) {
        const key = path.join('.') || '(root)';
        const fromEnv = envKeyOf.get(key);
        issues.push({
          key: fromEnv ? `${key} (from ${fromEnv})` : key,
          value: getPath(merged, path),
          expected: issue.code === 'unrecognized_keys' ? 'no such key (misspelt?)' : describeExpected(issue.message),
        });
      }
    }
  }
  const source = file ?? 'defaults + environment';
  if (issues.length > 0 || !parsed.success) throw new ConfigError(source, issues);
  const config = parsed.data;
  const stateDir = absoluteUnder(projectRoot, config.stateDir);
  return {
    config,
    file,
    paths: {
      stateDir,
      toolsDir: absoluteUnder(projectRoot, config.toolsDir),
      imageDir: absoluteUnder(stateDir, config.host.imageDir),
    },
  };
}

/** The results store URL: the configured one, else a SQLite file in the state dir. */
export function storeUrlOf(loaded: LoadedConfig): string {
  return loaded.config.store.url ?? `sqlite:${join(loaded.paths.stateDir, 'results.db')}`;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1):\d+$/;

/**
 * Why this process may not run as a fleet worker with this config, or undefined. A worker whose
 * Temporal is not the embedded one on this machine serves a fleet: other machines' workers and
 * CLIs use the same server, so a SQLite file here would split the results across machines.
 */
export function fleetStoreProblem(loaded: LoadedConfig): string | undefined {
  const { config } = loaded;
  if (config.temporal.embedded || LOOPBACK.test(config.temporal.address)) return undefined;
  const url = storeUrlOf(loaded);
  if (!url.startsWith('sqlite:')) return undefined;
  return (
    `store.url: got ${JSON.stringify(url)}, expected postgres://…: this worker serves the fleet on Temporal ${config.temporal.address} ` +
    '(temporal.embedded: false), and a local SQLite file would keep its results apart from every other host; set store.url or ZFSLAB_STORE_URL to the shared PostgreSQL'
  );
}

/** A store URL fit to print: the password of a postgres:// URL replaced by `***`. */
export function redactStoreUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

/** A host id derived from the machine's name: lowercase, safe for a task-queue name. */
export function deriveHostId(name = hostname()): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return id || 'host';
}

function absoluteUnder(base: string, path: string): string {
  return isAbsolute(path) ? path : join(base, path);
}

function describeExpected(message: string): string {
  return message.replace(/^Invalid (input|string|option)?:?\s*/i, '').replace(/, received .*$/, '') || message;
}

function coerceEnv(text: string, type: 'string' | 'boolean' | 'number'): unknown {
  if (type === 'string') return text;
  if (type === 'boolean') return text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node: Record<string, unknown> = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function getPath(target: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = target;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
