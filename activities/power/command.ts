import { z } from 'zod';
import { describeExit, type Executor } from '../../lib/exec/executor.js';
import { localExecutor } from '../../lib/exec/local.js';
import { PowerError, type PowerDriver, type PowerState } from './power.js';

export const CommandPowerConfigSchema = z.object({
  /** Shell command lines, as a lab writes them for its PDU (LAVA's power_on_command / power_off_command). */
  on: z.string().min(1),
  off: z.string().min(1),
  /** Prints the state; its output is matched against onPattern, then offPattern. */
  status: z.string().min(1),
  onPattern: z.string().default('\\bon\\b'),
  offPattern: z.string().default('\\boff\\b'),
  /** For messages, e.g. "pdu rack3 outlet 7"; the command lines themselves may hold secrets and are never shown. */
  label: z.string().min(1).default('command'),
  timeoutMs: z.number().int().positive().default(30_000),
});
export type CommandPowerConfig = z.input<typeof CommandPowerConfigSchema>;

/**
 * Power through command templates: any PDU or relay a lab can switch from a shell. Credentials reach the
 * commands through the environment (the commands name the variables), so neither config nor logs hold
 * them; a failing command's message names the action and its exit, not the command line.
 */
export class CommandPowerDriver implements PowerDriver {
  readonly name: string;
  private readonly config: z.output<typeof CommandPowerConfigSchema>;
  private readonly onPattern: RegExp;
  private readonly offPattern: RegExp;

  constructor(
    config: CommandPowerConfig,
    private readonly executor: Executor = localExecutor,
  ) {
    this.config = CommandPowerConfigSchema.parse(config);
    this.name = this.config.label;
    this.onPattern = new RegExp(this.config.onPattern, 'i');
    this.offPattern = new RegExp(this.config.offPattern, 'i');
  }

  async status(): Promise<PowerState> {
    const out = await this.run('status', this.config.status);
    if (this.onPattern.test(out)) return 'on';
    if (this.offPattern.test(out)) return 'off';
    throw new PowerError(this.name, `status printed neither /${this.config.onPattern}/ nor /${this.config.offPattern}/: ${out.trim().slice(0, 200)}`);
  }

  async request(state: PowerState): Promise<void> {
    await this.run(state, state === 'on' ? this.config.on : this.config.off);
  }

  private async run(action: string, line: string): Promise<string> {
    const result = await this.executor.exec(line, { timeoutMs: this.config.timeoutMs });
    if (result.exitCode !== 0) {
      throw new PowerError(
        this.name,
        `${action} command: ${describeExit(result, this.config.timeoutMs)}: ${result.stderr.trim().split('\n').slice(-2).join(' | ')}`,
      );
    }
    return result.stdout;
  }
}
