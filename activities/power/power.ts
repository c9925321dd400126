import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { HealthEvent } from '../../core/host/health.js';

/** What a box reports about its power: IPMI's "Chassis Power is on/off", Redfish's PowerState On/Off. */
export type PowerState = 'on' | 'off';

/**
 * One management protocol (IPMI, Redfish, a command template, QMP). A driver only asks and reads; the
 * read-back, retries and idempotence live in {@link Power}, once for every driver.
 */
export interface PowerDriver {
  /** For messages: "ipmi 127.0.0.1:6230", never a credential. */
  readonly name: string;
  status(): Promise<PowerState>;
  /** Asks for the state; returns once the request was accepted, not once the box is there. */
  request(state: PowerState): Promise<void>;
}

/** The BMC (or PDU, or QMP socket) refused, did not answer, or never reached the asked state. */
export class PowerError extends InfraError {
  override name = 'PowerError';
  constructor(
    readonly driver: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`power ${driver}: ${message}`, options);
  }
}

/** A power failure is an infrastructure failure: the host goes `unknown` and is checked before more work. */
export function healthEventFor(err: PowerError, at: string): HealthEvent {
  return { kind: 'infra-failure', at, why: err.message };
}

export interface PowerOptions {
  /** How long a change may take to show in the read-back (default 60 s). */
  settleMs?: number;
  /** Between read-backs (default 500 ms). */
  pollMs?: number;
  /** Attempts for one request or status read that failed outright (default 3). */
  attempts?: number;
  log?: Logger;
}

/**
 * on / off / cycle / status over any driver. Each change is skipped when the box already reports the
 * state (idempotent), else requested and read back until the box reports it, within `settleMs`; a
 * request or read that fails is retried `attempts` times. `cycle` is off then on, each read back, so it
 * proves the box really went down, which a single "power cycle" request does not.
 */
export class Power {
  private readonly settleMs: number;
  private readonly pollMs: number;
  private readonly attempts: number;

  constructor(
    readonly driver: PowerDriver,
    private readonly options: PowerOptions = {},
  ) {
    this.settleMs = options.settleMs ?? 60_000;
    this.pollMs = options.pollMs ?? 500;
    this.attempts = options.attempts ?? 3;
  }

  status(): Promise<PowerState> {
    return this.retried('status', () => this.driver.status());
  }

  on(): Promise<void> {
    return this.ensure('on');
  }

  off(): Promise<void> {
    return this.ensure('off');
  }

  async cycle(): Promise<void> {
    await this.ensure('off');
    await this.ensure('on');
  }

  private async ensure(wanted: PowerState): Promise<void> {
    const log = this.options.log;
    const before = await this.status();
    if (before === wanted) {
      log?.info({ driver: this.driver.name, state: wanted }, 'power already in the wanted state');
      return;
    }
    const started = Date.now();
    await this.retried(`request ${wanted}`, () => this.driver.request(wanted));
    let last: PowerState = before;
    for (;;) {
      last = await this.status();
      if (last === wanted) {
        log?.info({ driver: this.driver.name, state: wanted, ms: Date.now() - started }, 'power state reached');
        return;
      }
      if (Date.now() - started > this.settleMs) {
        throw new PowerError(this.driver.name, `asked for ${wanted}, still ${last} after ${this.settleMs} ms`);
      }
      await sleep(this.pollMs);
    }
  }

  private async retried<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        return await fn();
      } catch (err) {
        lastError = err;
        this.options.log?.warn({ driver: this.driver.name, what, attempt, err: (err as Error).message }, 'power call failed');
        if (attempt < this.attempts) await sleep(this.pollMs * attempt);
      }
    }
    if (lastError instanceof PowerError) throw lastError;
    throw new PowerError(this.driver.name, `${what} failed ${this.attempts} times: ${(lastError as Error).message}`, { cause: lastError });
  }
}
