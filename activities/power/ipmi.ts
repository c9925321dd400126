import { z } from 'zod';
import { describeExit, type Executor } from '../../lib/exec/executor.js';
import { localExecutor } from '../../lib/exec/local.js';
import { PowerError, type PowerDriver, type PowerState } from './power.js';

export const IpmiConfigSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(623),
  user: z.string().min(1),
  /** The password itself never sits in config: the name of the environment variable that holds it. */
  passwordEnv: z.string().min(1).default('IPMI_PASSWORD'),
  /** RMCP+ cipher suite 3 (HMAC-SHA1, AES-128); without -C ipmitool probes suites and waits ~10 s. */
  cipherSuite: z.number().int().min(0).max(17).default(3),
  timeoutMs: z.number().int().positive().default(20_000),
});
export type IpmiConfig = z.input<typeof IpmiConfigSchema>;

/**
 * IPMI over LAN (RMCP+, `ipmitool -I lanplus`) `chassis power`. The password goes to ipmitool through
 * its environment (`-E` reads IPMI_PASSWORD), so it is never on a command line or in a log.
 */
export class IpmiPowerDriver implements PowerDriver {
  readonly name: string;
  private readonly config: z.output<typeof IpmiConfigSchema>;

  constructor(
    config: IpmiConfig,
    private readonly executor: Executor = localExecutor,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.config = IpmiConfigSchema.parse(config);
    this.name = `ipmi ${this.config.host}:${this.config.port}`;
  }

  async status(): Promise<PowerState> {
    const out = await this.ipmitool(['chassis', 'power', 'status']);
    const m = /Chassis Power is (on|off)/i.exec(out);
    if (!m?.[1]) throw new PowerError(this.name, `unexpected "chassis power status" output: ${out.trim().slice(0, 200)}`);
    return m[1].toLowerCase() as PowerState;
  }

  async request(state: PowerState): Promise<void> {
    const out = await this.ipmitool(['chassis', 'power', state]);
    if (!/Chassis Power Control: (Up\/On|Down\/Off)/i.test(out)) {
      throw new PowerError(this.name, `unexpected "chassis power ${state}" output: ${out.trim().slice(0, 200)}`);
    }
  }

  private async ipmitool(args: readonly string[]): Promise<string> {
    const password = this.env[this.config.passwordEnv];
    if (password === undefined) throw new PowerError(this.name, `no password: environment variable ${this.config.passwordEnv} is not set`);
    const c = this.config;
    const argv = ['ipmitool', '-I', 'lanplus', '-C', String(c.cipherSuite), '-H', c.host, '-p', String(c.port), '-U', c.user, '-E', ...args];
    const result = await this.executor.exec(argv, { timeoutMs: c.timeoutMs, env: { PATH: this.env.PATH ?? '/usr/bin:/bin', IPMI_PASSWORD: password } });
    if (result.missing) throw new PowerError(this.name, 'ipmitool is not installed (Debian package ipmitool)');
    if (result.exitCode !== 0) {
      throw new PowerError(
        this.name,
        `ipmitool ${args.join(' ')}: ${describeExit(result, c.timeoutMs)}: ${result.stderr.trim().split('\n').slice(-2).join(' | ')}`,
      );
    }
    return result.stdout;
  }
}
