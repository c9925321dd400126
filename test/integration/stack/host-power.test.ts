import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { storeUrlOf } from '../../../lib/config.js';
import { HostRegistry } from '../../../lib/store/host-registry.js';
import { openStore } from '../../../lib/store/open.js';
import { createWorld, runCli } from '../../support/stack.js';

// `zfslab host power` through the config's `power.<host>`: the command-template driver (a lab's PDU
// commands) over a real shell, whose "outlet" is a file the commands write; a box that never reaches the
// asked state and a broken config. The IPMI (ipmi_sim + qemu), Redfish (DMTF mockup) and QMP drivers
// have their own tests in test/unit/power and test/integration/power.
describe('zfslab host power', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-power-'));
  const outlet = join(scratch, 'outlet');
  const log = join(scratch, 'requests.log');
  const config = join(scratch, 'zfslab.config.yaml');
  writeFileSync(outlet, 'off\n');
  writeFileSync(
    config,
    [
      'power:',
      '  lab-metal:',
      '    driver: command',
      '    label: pdu rack1 outlet 3',
      `    on: "echo on > ${outlet}; echo on >> ${log}"`,
      `    off: "echo off > ${outlet}; echo off >> ${log}"`,
      `    status: "cat ${outlet}"`,
      '  lab-stuck:',
      '    driver: command',
      '    label: pdu rack1 outlet 4',
      '    on: "true"',
      '    off: "true"',
      '    status: "echo off"',
      '    timeoutMs: 5000',
      '  lab-typo:',
      '    driver: ipmii',
      '',
    ].join('\n'),
  );
  const world = createWorld('power', { ZFSLAB_CONFIG: config });
  afterAll(() => {
    world.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('reads, switches and cycles, each change read back; skips a change already made', async () => {
    const status = await runCli(['host', 'power', 'lab-metal', 'status'], world.env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('host lab-metal power: off (read via pdu rack1 outlet 3)');
    const on = await runCli(['host', 'power', 'lab-metal', 'on', '--json'], world.env);
    expect(JSON.parse(on.stdout)).toEqual({ hostId: 'lab-metal', action: 'on', state: 'on', driver: 'pdu rack1 outlet 3' });
    expect((await runCli(['host', 'power', 'lab-metal', 'on'], world.env)).code).toBe(0);
    const cycle = await runCli(['host', 'power', 'lab-metal', 'cycle'], world.env);
    expect(cycle.stdout).toContain('power: on (cycle, read back');
    // on; on again skipped (already on); cycle = off then on.
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['on', 'off', 'on']);
  }, 120_000);

  it('a box that never reaches the state is an infrastructure error, and the host goes unknown', async () => {
    const store = await openStore(storeUrlOf(world.loaded));
    try {
      const registry = new HostRegistry(store.db);
      await registry.ensure('lab-stuck', new Date().toISOString());
      await registry.applyHealth('lab-stuck', { kind: 'health-check', at: new Date().toISOString(), passed: true, why: 'checked' });
    } finally {
      await store.close();
    }
    const run = await runCli(['host', 'power', 'lab-stuck', 'on', '--settle', '2'], { ...world.env, ZFSLAB_LOG_LEVEL: 'error' });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('power pdu rack1 outlet 4: asked for on, still off after 2000 ms');
    expect(run.stderr).toContain('host lab-stuck is now unknown in the registry');
    const after = await openStore(storeUrlOf(world.loaded));
    try {
      expect((await new HostRegistry(after.db).get('lab-stuck'))?.health.state).toBe('unknown');
    } finally {
      await after.close();
    }
  }, 180_000);

  it('names what is wrong: a host with no power config, a bad driver, a bad action', async () => {
    const none = await runCli(['host', 'power', 'lab-none', 'status'], world.env);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no power.lab-none in the config (configured: lab-metal, lab-stuck, lab-typo)');
    const typo = await runCli(['host', 'power', 'lab-typo', 'status'], world.env);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/power\.lab-typo: driver: /);
    const action = await runCli(['host', 'power', 'lab-metal', 'reboot'], world.env);
    expect(action.code).toBe(2);
    expect(action.stderr).toContain('one of status, on, off, cycle');
    expect(existsSync(outlet)).toBe(true);
  }, 120_000);
});
