import { Command, CommanderError } from 'commander';
import { loadConfig, type LoadedConfig } from '../../lib/config.js';
import { ConfigError, InfraError, UsageError } from '../../lib/errors.js';
import { ArtifactStore } from '../../lib/s3.js';
import { baselineCommand } from './commands/baseline.js';
import { crashCommand } from './commands/crash.js';
import { fingerprintCommand } from './commands/fingerprint.js';
import { goldenCommand, goldenZtestCommand } from './commands/golden.js';
import { hostCommand } from './commands/host.js';
import { reportCommand } from './commands/report.js';
import { resultsCommands } from './commands/results.js';
import { scheduleCommand } from './commands/schedule.js';
import { downCommand, statusCommand, upCommand } from './commands/stack.js';
import { testCommand } from './commands/test.js';
import { EXIT, ExitError, exitCodeFor } from './exit.js';

export function buildProgram(): Command {
  const program = new Command('zfslab')
    .description('Run the OpenZFS test suite and recipes in disposable VM clones across a lab fleet')
    .option('-c, --config <file>', 'config file (default: $ZFSLAB_CONFIG or ./zfslab.config.yaml)')
    .option('--json', 'print machine-readable JSON only')
    .showHelpAfterError()
    .exitOverride();
  let loaded: LoadedConfig | undefined;
  for (const command of [
    upCommand(),
    downCommand(),
    statusCommand(),
    hostCommand(),
    goldenZtestCommand(),
    goldenCommand(),
    testCommand(),
    scheduleCommand(),
    ...resultsCommands(),
    baselineCommand(),
    reportCommand(),
    crashCommand(),
    fingerprintCommand({
      loadConfig: () => (loaded ??= loadConfig({ file: program.opts<{ config?: string }>().config })),
      uploadArtifact: async (key, body, contentType) => {
        const artifacts = ArtifactStore.fromConfig((loaded ??= loadConfig({ file: program.opts<{ config?: string }>().config })).config);
        try {
          return (await artifacts.putBytes(key, body, contentType)).uri;
        } finally {
          artifacts.destroy();
        }
      },
    }),
  ])
    program.addCommand(command);
  program.commands.forEach(function applyExitOverride(c: Command) {
    c.exitOverride();
    c.commands.forEach(applyExitOverride);
  });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; commander already printed what went wrong otherwise.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof ExitError) {
      if (err.message) process.stderr.write(`zfslab: ${err.message}\n`);
      return err.code;
    }
    const label =
      err instanceof ConfigError ? 'config error' : err instanceof UsageError ? 'error' : err instanceof InfraError ? 'infrastructure error' : 'error';
    process.stderr.write(`zfslab: ${label}: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.ZFSLAB_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return exitCodeFor(err);
  }
}
