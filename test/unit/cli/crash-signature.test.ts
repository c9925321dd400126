import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../lib/paths.js';

const run = promisify(execFile);
const fixtures = join(projectRoot, 'test/fixtures/crash/debian13');

async function zfslab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(projectRoot, 'bin', 'zfslab.js'), ...args], { cwd: projectRoot });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('zfslab crash signature', () => {
  it('gives the first crash of two real boots one signature, as JSON', async () => {
    const [one, two] = await Promise.all([1, 2].map((n) => zfslab('crash', 'signature', '--json', join(fixtures, `boot${n}-serial.log`))));
    expect(one!.code, one!.stderr).toBe(0);
    const [a, b] = [one, two].map((r) => (JSON.parse(r!.stdout) as { crash: { kind: string; signature: string } }).crash);
    expect(a!.kind).toBe('hung-task');
    expect(a!.signature).toMatch(/^[0-9a-f]{16}$/);
    expect(b!.signature).toBe(a!.signature);
  });

  it('exits 1 on a log without a crash and 2 on a file it cannot read, naming it', async () => {
    // A clean boot: the first 300 lines of a real console capture (its hung task and panic come later).
    const dir = mkdtempSync(join(tmpdir(), 'zfslab-clean-console-'));
    const clean = join(dir, 'clean-boot.log');
    const serial = readFileSync(join(fixtures, 'boot1-serial.log'), 'utf8');
    writeFileSync(clean, serial.split('\n').slice(0, 300).join('\n'));
    const none = await zfslab('crash', 'signature', clean);
    rmSync(dir, { recursive: true, force: true });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no kernel crash report in .*clean-boot\.log/);
    const missing = await zfslab('crash', 'signature', '/nonexistent/console.log');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read \/nonexistent\/console\.log/);
  });
});
