import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { fleetStoreProblem, loadConfig, type LoadedConfig } from '../lib/config.js';
import { ConfigError } from '../lib/errors.js';
import { createLogger, type Logger } from '../lib/log.js';

/**
 * Process set-up shared by every worker: config (a bad config exits 2 before anything connects),
 * pino logging for our code and the SDK's, and the Runtime's graceful shutdown on SIGTERM/SIGINT
 * (the worker stops polling, lets running activities finish within the grace time, then exits).
 */
export function bootWorkerProcess(name: string): { loaded: LoadedConfig; log: Logger } {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({ file: process.env.ZFSLAB_CONFIG });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`zfslab ${name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // Refused before anything connects: a fleet worker on a local SQLite file would split the results.
  const problem = fleetStoreProblem(loaded);
  if (problem) {
    process.stderr.write(`zfslab ${name}: ${problem}\n`);
    process.exit(2);
  }
  const log = createLogger(name, loaded.config.log.level);
  const sdkLog = log.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger(toSdkLevel(loaded.config.log.level), (entry) => {
      const level = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      sdkLog[level](entry.meta ?? {}, entry.message);
    }),
    shutdownSignals: ['SIGTERM', 'SIGINT'],
  });
  return { loaded, log };
}

function toSdkLevel(level: string): LogLevel {
  switch (level) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'warn':
      return 'WARN';
    case 'error':
    case 'fatal':
      return 'ERROR';
    default:
      return 'INFO';
  }
}

/** Runs a worker's main and exits non-zero with a logged reason on failure. */
export function runMain(log: () => Logger | undefined, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      const logger = log();
      if (logger) logger.fatal({ err }, 'worker failed');
      else process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
