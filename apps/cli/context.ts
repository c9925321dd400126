import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../../lib/config.js';
import { createLogger, type Logger } from '../../lib/log.js';
import { createOutput, type Output } from './output.js';

/** What every command gets: the config (loaded on first use), a logger and the output channel. */
export interface CliContext {
  loaded(): LoadedConfig;
  log(): Logger;
  out: Output;
  configFile: string | undefined;
}

export function contextFrom(command: Command): CliContext {
  const opts = command.optsWithGlobals<{ config?: string; json?: boolean }>();
  let loaded: LoadedConfig | undefined;
  let log: Logger | undefined;
  return {
    configFile: opts.config,
    out: createOutput({ json: Boolean(opts.json) }),
    loaded: () => (loaded ??= loadConfig({ file: opts.config })),
    log: () => (log ??= createLogger('zfslab', loaded?.config.log.level)),
  };
}
