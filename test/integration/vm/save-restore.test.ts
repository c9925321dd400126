import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { Hypervisor, VmHandle, VmStartSpec } from '../../../activities/vm/hypervisor.js';
import { freeLocalPort, QemuHypervisor } from '../../../activities/vm/qemu-hypervisor.js';
import { createLogger } from '../../../lib/log.js';

/** Polls QMP until the VM reports `status`, or throws with the last status seen. */
async function waitForStatus(hypervisor: Hypervisor, vm: VmHandle, status: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = ((await hypervisor.command(vm, 'query-status')) as { status: string }).status;
    if (last === status) return;
    await sleep(200);
  }
  throw new Error(`VM ${vm.name} is ${last}, not ${status}, after ${timeoutMs} ms`);
}

// The Hypervisor interface on the real qemu (TCG) with a machine that needs no golden: an empty
// disk, so the firmware runs and waits. Saving its state and starting a second qemu from the saved
// file gives a running machine without a boot; every stop is idempotent.
describe('the qemu hypervisor: start, machine commands, save and restore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zfslab-save-restore-'));
  const hypervisor: Hypervisor = new QemuHypervisor({ accel: 'tcg', log: createLogger('test', 'warn') });
  const started: VmHandle[] = [];
  const disk = join(dir, 'empty.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);

  const spec = async (name: string, extra: Partial<VmStartSpec> = {}): Promise<VmStartSpec> => ({
    name,
    cpus: 1,
    memoryMiB: 128,
    disks: [{ path: disk, format: 'qcow2' }],
    sshHostPort: await freeLocalPort(),
    serialLogPath: join(dir, `${name}.serial.log`),
    qmpSocketPath: join(dir, `${name}.qmp`),
    pidFilePath: join(dir, `${name}.pid`),
    ...extra,
  });

  afterAll(async () => {
    for (const vm of started) await hypervisor.kill(vm);
    rmSync(dir, { recursive: true, force: true });
  });

  it('saves a running machine to a file and resumes it in a new qemu, without booting', async () => {
    const first = await hypervisor.start(await spec('zfslab-save-a'));
    started.push(first);
    expect(hypervisor.isRunning(first)).toBe(true);
    await waitForStatus(hypervisor, first, 'running');
    expect(typeof hypervisor.serialLog(first)).toBe('string');

    const state = join(dir, 'machine.state');
    const saved = await hypervisor.saveState(first, state);
    expect(saved.bytes).toBeGreaterThan(100_000);
    expect(statSync(state).size).toBe(saved.bytes);
    await waitForStatus(hypervisor, first, 'postmigrate');
    await hypervisor.kill(first);
    expect(hypervisor.isRunning(first)).toBe(false);

    const second = await hypervisor.start(await spec('zfslab-save-b', { incomingStateFile: state }));
    started.push(second);
    await waitForStatus(hypervisor, second, 'running');
    const migrated = (await hypervisor.command(second, 'query-migrate')) as { status?: string };
    expect(migrated.status).toBe('completed');

    expect(await hypervisor.shutdown(second, 2_000)).toMatch(/clean|killed/);
    expect(hypervisor.isRunning(second)).toBe(false);
    expect(await hypervisor.shutdown(second)).toBe('gone');
    await hypervisor.kill(second);
  });

  it('fails a restore from a missing or unreadable state file at start, and leaves no qemu behind', async () => {
    const missing = join(dir, 'no-such.state');
    expect(existsSync(missing)).toBe(false);
    const restoring = await spec('zfslab-save-c', { incomingStateFile: missing });
    await expect(hypervisor.start(restoring)).rejects.toThrow(/no saved state at/);
    expect(hypervisor.isRunning(restoring)).toBe(false);

    const garbage = join(dir, 'garbage.state');
    writeFileSync(garbage, Buffer.alloc(64 * 1024, 0x5a));
    const corrupt = await spec('zfslab-save-d', { incomingStateFile: garbage });
    await expect(hypervisor.start(corrupt)).rejects.toThrow(/saved state/);
    expect(hypervisor.isRunning(corrupt)).toBe(false);
  });
});
