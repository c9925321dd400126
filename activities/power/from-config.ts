import { z } from 'zod';
import { CommandPowerConfigSchema, CommandPowerDriver } from './command.js';
import { IpmiConfigSchema, IpmiPowerDriver } from './ipmi.js';
import { QmpPowerConfigSchema, QmpPowerDriver } from './qmp.js';
import { RedfishConfigSchema, RedfishPowerDriver } from './redfish.js';
import type { PowerDriver } from './power.js';

/** A host's `power` config: which driver, and its settings (credentials only by environment-variable name). */
export const PowerConfigSchema = z.discriminatedUnion('driver', [
  IpmiConfigSchema.extend({ driver: z.literal('ipmi') }),
  RedfishConfigSchema.extend({ driver: z.literal('redfish') }),
  CommandPowerConfigSchema.extend({ driver: z.literal('command') }),
  QmpPowerConfigSchema.extend({ driver: z.literal('qmp') }),
]);
export type PowerConfig = z.input<typeof PowerConfigSchema>;

export function powerDriverFor(config: PowerConfig, env: NodeJS.ProcessEnv = process.env): PowerDriver {
  const c = PowerConfigSchema.parse(config);
  switch (c.driver) {
    case 'ipmi':
      return new IpmiPowerDriver(c, undefined, env);
    case 'redfish':
      return new RedfishPowerDriver(c, env);
    case 'command':
      return new CommandPowerDriver(c);
    case 'qmp':
      return new QmpPowerDriver(c);
  }
}
