import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { z } from 'zod';
import { PowerError, type PowerDriver, type PowerState } from './power.js';

export const RedfishConfigSchema = z.object({
  /** https://bmc.example:443 */
  url: z.string().url().startsWith('https://'),
  user: z.string().min(1),
  /** The name of the environment variable holding the password; the password never sits in config. */
  passwordEnv: z.string().min(1).default('REDFISH_PASSWORD'),
  /** The ComputerSystem, e.g. /redfish/v1/Systems/1; default: the only member of /redfish/v1/Systems. */
  systemPath: z.string().startsWith('/redfish/v1/Systems/').optional(),
  /** PEM file of the CA that signed the BMC's certificate (BMCs mostly carry a self-signed one). */
  caFile: z.string().min(1).optional(),
  timeoutMs: z.number().int().positive().default(15_000),
});
export type RedfishConfig = z.input<typeof RedfishConfigSchema>;

const ComputerSystemSchema = z.object({
  PowerState: z.enum(['On', 'Off', 'PoweringOn', 'PoweringOff', 'Paused']).optional(),
  Actions: z.object({
    '#ComputerSystem.Reset': z.object({
      target: z.string().min(1),
      'ResetType@Redfish.AllowableValues': z.array(z.string()).optional(),
    }),
  }),
});
const CollectionSchema = z.object({ Members: z.array(z.object({ '@odata.id': z.string() })) });

/**
 * Redfish over HTTPS per DMTF's schema: PowerState read from the ComputerSystem, changes through its
 * `#ComputerSystem.Reset` action with ResetType `On` or `ForceOff` (an immediate cut, not a shutdown: what
 * a power-cut test needs), checked against the ResetType values the BMC says it allows. Basic auth per
 * request; the password is read from the environment and never appears in a message.
 */
export class RedfishPowerDriver implements PowerDriver {
  readonly name: string;
  private readonly config: z.output<typeof RedfishConfigSchema>;
  private readonly ca: string | undefined;
  private systemPath: string | undefined;

  constructor(
    config: RedfishConfig,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.config = RedfishConfigSchema.parse(config);
    this.name = `redfish ${new URL(this.config.url).host}`;
    this.ca = this.config.caFile ? readFileSync(this.config.caFile, 'utf8') : undefined;
    this.systemPath = this.config.systemPath;
  }

  async status(): Promise<PowerState> {
    const system = await this.system();
    switch (system.PowerState) {
      case 'On':
      case 'PoweringOff':
      case 'Paused':
        return 'on';
      case 'Off':
      case 'PoweringOn':
        return 'off';
      default:
        throw new PowerError(this.name, 'the ComputerSystem reports no PowerState');
    }
  }

  async request(state: PowerState): Promise<void> {
    const resetType = state === 'on' ? 'On' : 'ForceOff';
    const action = (await this.system()).Actions['#ComputerSystem.Reset'];
    const allowed = action['ResetType@Redfish.AllowableValues'];
    if (allowed && !allowed.includes(resetType)) throw new PowerError(this.name, `ResetType ${resetType} is not allowed (allowed: ${allowed.join(', ')})`);
    const { status, body } = await this.call('POST', action.target, { ResetType: resetType });
    if (status !== 200 && status !== 202 && status !== 204) throw new PowerError(this.name, `Reset ${resetType}: HTTP ${status}: ${body.slice(0, 200)}`);
  }

  private async system(): Promise<z.infer<typeof ComputerSystemSchema>> {
    if (!this.systemPath) {
      const members = CollectionSchema.parse(await this.getJson('/redfish/v1/Systems')).Members;
      if (members.length !== 1 || !members[0]) {
        throw new PowerError(this.name, `/redfish/v1/Systems has ${members.length} members: set systemPath to the one to power`);
      }
      this.systemPath = members[0]['@odata.id'];
    }
    const parsed = ComputerSystemSchema.safeParse(await this.getJson(this.systemPath));
    if (!parsed.success) throw new PowerError(this.name, `${this.systemPath} is not a ComputerSystem with a Reset action: ${parsed.error.message}`);
    return parsed.data;
  }

  private async getJson(path: string): Promise<unknown> {
    const { status, body } = await this.call('GET', path);
    if (status !== 200) throw new PowerError(this.name, `GET ${path}: HTTP ${status}`);
    try {
      return JSON.parse(body);
    } catch {
      throw new PowerError(this.name, `GET ${path}: not JSON: ${body.slice(0, 100)}`);
    }
  }

  private call(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<{ status: number; body: string }> {
    const password = this.env[this.config.passwordEnv];
    if (password === undefined) return Promise.reject(new PowerError(this.name, `no password: environment variable ${this.config.passwordEnv} is not set`));
    const url = new URL(path, this.config.url);
    const data = payload === undefined ? undefined : JSON.stringify(payload);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: this.ca,
          timeout: this.config.timeoutMs,
          auth: `${this.config.user}:${password}`,
          headers: { Accept: 'application/json', 'OData-Version': '4.0', ...(data ? { 'Content-Type': 'application/json' } : {}) },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', (e) => reject(new PowerError(this.name, `${method} ${path}: ${e.message}`, { cause: e })));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.config.timeoutMs} ms`)));
      req.on('error', (e) => reject(new PowerError(this.name, `${method} ${path}: ${e.message}`, { cause: e })));
      req.end(data);
    });
  }
}
