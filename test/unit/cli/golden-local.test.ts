import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/stack.js';

/**
 * `zfslab golden build|show`, the host-local golden commands, through the real CLI. They take the
 * flavor from the config's catalog, so a flavor defined only in the config file is found. Nothing
 * here builds a golden: `show` only plans, and `build` is given input it must refuse first.
 */
const dir = mkdtempSync(join(tmpdir(), 'zfslab-golden-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cacheDir = join(dir, 'goldens');
const configPath = join(dir, 'zfslab.config.yaml');
// The user flavor of docs/catalog.md.
writeFileSync(
  configPath,
  `stateDir: ${join(dir, 'state')}
flavors:
  - id: debian13-lab
    name: trixie from our own mirror
    os: debian
    release: '13'
    kernelPackage: linux-image-amd64
    expectedZfsVersion: '2.3'
    builder:
      kind: debootstrap
      suite: trixie
      mirror: http://mirror.lab.example/debian
      basePackages: [systemd-sysv, udev, kmod, iproute2, openssh-server, sudo]
      kernelPackages: [linux-image-amd64, linux-headers-amd64, dkms]
      zfsPackages: [zfs-dkms, zfsutils-linux]
    lineages:
      ztest: { packages: [zfs-test, ksh, fio, curl] }
`,
);
const env = { ...process.env, ZFSLAB_CONFIG: '', ZFSLAB_GOLDEN_CACHE: '' };
const zfslab = (...args: string[]) => runCli(['--config', configPath, ...args], env, { timeoutMs: 60_000 });

describe('zfslab golden show / build (on this host, no Temporal)', () => {
  it('show plans a flavor defined only in the config, in the given cache, and builds nothing', async () => {
    const result = await zfslab('--json', 'golden', 'show', 'debian13-lab', '--cache-dir', cacheDir);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(0);
    const shown = JSON.parse(result.stdout) as {
      plan: { flavor: string; lineage: string; cached: boolean; goldenDir: string; steps: string[]; name: string };
      manifest: unknown;
    };
    expect(shown.plan).toMatchObject({ flavor: 'debian13-lab', lineage: 'ztest', cached: false });
    expect(shown.plan.goldenDir.startsWith(cacheDir)).toBe(true);
    expect(shown.plan.name).toContain('debian13-lab');
    expect(shown.plan.steps[0]).toBe('debootstrap');
    expect(shown.manifest).toBeNull();
    expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([]);
  });

  it('the lineage changes the recipe', async () => {
    const show = async (lineage: string) =>
      JSON.parse((await zfslab('--json', 'golden', 'show', 'debian13-lab', '--lineage', lineage, '--cache-dir', cacheDir)).stdout) as {
        plan: { recipeHash: string };
      };
    expect((await show('lean')).plan.recipeHash).not.toBe((await show('ztest')).plan.recipeHash);
  });

  it('refuses an unknown flavor with exit 2, naming the flavors it knows', async () => {
    const result = await zfslab('golden', 'build', 'debian99', '--cache-dir', cacheDir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown flavor "debian99"; known: .*debian13-lab/);
    expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([]);
  });

  it('refuses a bad lineage and --zfs-branch without --zfs-source with exit 2', async () => {
    const lineage = await zfslab('golden', 'build', 'debian13-lab', '--lineage', 'fat', '--cache-dir', cacheDir);
    expect(lineage.code).toBe(2);
    expect(lineage.stderr).toMatch(/golden build: --lineage/);
    const branch = await zfslab('golden', 'build', 'debian13-lab', '--zfs-branch', 'master', '--cache-dir', cacheDir);
    expect(branch.code).toBe(2);
    expect(branch.stderr).toMatch(/--zfs-branch goes with --zfs-source/);
  });
});
