import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { isLive } from '../../../lib/exec/process-tree.js';
import { powerDriverFor } from '../../../activities/power/from-config.js';
import { Power, PowerError } from '../../../activities/power/power.js';

const dir = mkdtempSync(join(tmpdir(), 'zfslab-power-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!existsSync('/usr/bin/qemu-system-x86_64'))('QMP power driver', () => {
  it('starts a real qemu process, cuts it with quit (the process is gone), and starts it again', async () => {
    const sock = join(dir, 'qmp.sock');
    const pidFile = join(dir, 'qemu.pid');
    const startCommand = `qemu-system-x86_64 -nodefaults -display none -m 64 -accel tcg -daemonize -pidfile ${pidFile} -qmp unix:${sock},server=on,wait=off`;
    const power = new Power(powerDriverFor({ driver: 'qmp', socketPath: sock, startCommand }), { pollMs: 100, settleMs: 20_000 });
    expect(await power.status()).toBe('off');
    await power.on();
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(isLive(pid)).toBe(true);
    await power.cycle();
    for (let i = 0; i < 50 && isLive(pid); i++) await sleep(100);
    expect(isLive(pid)).toBe(false);
    const second = Number(readFileSync(pidFile, 'utf8').trim());
    expect(second).not.toBe(pid);
    await power.off();
    // The QMP socket closes as qemu starts to exit; the process itself is gone a moment later.
    for (let i = 0; i < 50 && isLive(second); i++) await sleep(100);
    expect(isLive(second)).toBe(false);
  }, 60_000);
});

describe('command-template power driver', () => {
  it('switches through shell commands, reads the state back from their output, and names a failing action', async () => {
    const state = join(dir, 'outlet');
    const power = new Power(
      powerDriverFor({
        driver: 'command',
        label: 'pdu outlet 7',
        on: `echo on > ${state}`,
        off: `echo off > ${state}`,
        status: `cat ${state} 2>/dev/null || echo off`,
      }),
      { pollMs: 20 },
    );
    expect(await power.status()).toBe('off');
    await power.on();
    expect(readFileSync(state, 'utf8').trim()).toBe('on');
    await power.off();
    expect(readFileSync(state, 'utf8').trim()).toBe('off');

    const broken = new Power(powerDriverFor({ driver: 'command', label: 'pdu outlet 8', on: 'exit 3', off: 'true', status: 'echo off' }), {
      attempts: 2,
      pollMs: 10,
    });
    await expect(broken.on()).rejects.toThrow(/pdu outlet 8: .*on command: exit 3/);
    const liar = new Power(powerDriverFor({ driver: 'command', label: 'pdu outlet 9', on: 'true', off: 'true', status: 'echo off' }), {
      pollMs: 20,
      settleMs: 200,
    });
    const err = await liar.on().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PowerError);
    expect((err as Error).message).toMatch(/asked for on, still off after 200 ms/);
    expect(() => powerDriverFor({ driver: 'ipmi', host: '', user: 'x' } as never)).toThrow();
  });
});
