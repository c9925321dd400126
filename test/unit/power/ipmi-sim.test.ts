import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QmpClient } from '../../../activities/vm/qmp.js';
import { IpmiPowerDriver } from '../../../activities/power/ipmi.js';
import { Power, PowerError } from '../../../activities/power/power.js';

/**
 * The real thing, on loopback: OpenIPMI's BMC simulator (ipmi_sim) owns a qemu VM attached to it
 * through `-device ipmi-bmc-extern`; the real ipmitool talks RMCP+ to the simulator's LAN interface.
 * "chassis power on" makes ipmi_sim start qemu; "off" makes it stop it. Whether the VM runs is checked
 * on qemu's own QMP socket, not on what the BMC says.
 */
const haveTools = ['/usr/bin/ipmi_sim', '/usr/bin/ipmitool', '/usr/bin/qemu-system-x86_64'].every((p) => existsSync(p));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

async function vmRunning(qmpPath: string): Promise<boolean> {
  try {
    const qmp = await QmpClient.connect(qmpPath, 2_000);
    try {
      const status = (await qmp.execute('query-status')) as { status: string };
      return status.status === 'running';
    } finally {
      qmp.close();
    }
  } catch {
    return false;
  }
}

describe.skipIf(!haveTools)('IPMI power driver against ipmi_sim + qemu', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zfslab-ipmi-'));
  const qmpPath = join(dir, 'qmp.sock');
  const env = { ...process.env, IPMI_PASSWORD: 's3cret' };
  let sim: ChildProcess | undefined;
  let lanPort = 0;

  beforeAll(async () => {
    lanPort = await freePort();
    const serialPort = await freePort();
    const qemu =
      `qemu-system-x86_64 -nodefaults -display none -m 64 -accel tcg ` +
      `-chardev socket,id=ipmi0,host=127.0.0.1,port=${serialPort},reconnect=1 -device ipmi-bmc-extern,id=bmc0,chardev=ipmi0 ` +
      `-device isa-ipmi-kcs,bmc=bmc0 -qmp unix:${qmpPath},server=on,wait=off`;
    writeFileSync(
      join(dir, 'lan.conf'),
      [
        'name "zfslab"',
        'set_working_mc 0x20',
        'startlan 1',
        `  addr 127.0.0.1 ${lanPort}`,
        '  priv_limit admin',
        '  allowed_auths_callback none md2 md5 straight',
        '  allowed_auths_user none md2 md5 straight',
        '  allowed_auths_operator none md2 md5 straight',
        '  allowed_auths_admin none md2 md5 straight',
        '  guid a123456789abcdefa123456789abcdef',
        'endlan',
        `serial 15 127.0.0.1 ${serialPort} codec VM`,
        `startcmd "${qemu}"`,
        'startnow false',
        'poweroff_wait 5',
        'kill_wait 5',
        'user 2 true "admin" "s3cret" admin 10 none md2 md5 straight',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'box.emu'),
      ['mc_setbmc 0x20', 'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr', 'mc_enable 0x20', ''].join('\n'),
    );
    mkdirSync(join(dir, 'state'));
    sim = spawn('ipmi_sim', ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'box.emu'), '-s', join(dir, 'state'), '-n'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    // The LAN interface answers once ipmi_sim has read its config.
    const driver = new IpmiPowerDriver({ host: '127.0.0.1', port: lanPort, user: 'admin' }, undefined, env);
    for (let i = 0; i < 50; i++) {
      try {
        await driver.status();
        return;
      } catch {
        await sleep(200);
      }
    }
  }, 30_000);

  afterAll(async () => {
    if (sim?.pid) {
      const driver = new IpmiPowerDriver({ host: '127.0.0.1', port: lanPort, user: 'admin' }, undefined, env);
      await new Power(driver, { settleMs: 20_000 }).off().catch(() => undefined);
      sim.kill('SIGTERM');
      await sleep(200);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 40_000);

  it('powers the VM on and off for real, reads each change back, and repeats a change as a no-op', async () => {
    const power = new Power(new IpmiPowerDriver({ host: '127.0.0.1', port: lanPort, user: 'admin' }, undefined, env), { settleMs: 20_000, pollMs: 200 });
    expect(await power.status()).toBe('off');
    expect(await vmRunning(qmpPath)).toBe(false);

    await power.on();
    expect(await power.status()).toBe('on');
    let running = false;
    for (let i = 0; i < 50 && !running; i++) {
      running = await vmRunning(qmpPath);
      if (!running) await sleep(200);
    }
    expect(running).toBe(true);
    await power.on(); // already on: nothing asked, still on
    expect(await vmRunning(qmpPath)).toBe(true);

    await power.off();
    expect(await power.status()).toBe('off');
    let stopped = false;
    for (let i = 0; i < 50 && !stopped; i++) {
      stopped = !(await vmRunning(qmpPath));
      if (!stopped) await sleep(200);
    }
    expect(stopped).toBe(true);

    await power.cycle();
    expect(await power.status()).toBe('on');
  }, 90_000);

  it('a wrong password or a closed port is a PowerError naming the BMC, and the password is in no message', async () => {
    const bad = new Power(new IpmiPowerDriver({ host: '127.0.0.1', port: lanPort, user: 'admin' }, undefined, { ...env, IPMI_PASSWORD: 'wrong-pass' }), {
      attempts: 2,
      pollMs: 50,
    });
    const err = await bad.status().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PowerError);
    expect((err as Error).message).toMatch(/ipmi 127\.0\.0\.1:\d+.*(RMCP\+|session)/s);
    expect((err as Error).message).not.toContain('wrong-pass');

    const closed = await freePort();
    const unreachable = new Power(new IpmiPowerDriver({ host: '127.0.0.1', port: closed, user: 'admin', timeoutMs: 15_000 }, undefined, env), {
      attempts: 1,
    });
    await expect(unreachable.status()).rejects.toThrow(PowerError);

    const noPassword = new IpmiPowerDriver({ host: '127.0.0.1', port: lanPort, user: 'admin', passwordEnv: 'ZFSLAB_NO_SUCH_VAR' }, undefined, {});
    await expect(noPassword.status()).rejects.toThrow(/ZFSLAB_NO_SUCH_VAR is not set/);
  }, 60_000);
});
