import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planGoldenBuild, runGoldenStep } from '../../../activities/golden/build.js';
import { readCheckpoint, writeCheckpoint } from '../../../activities/golden/checkpoint.js';
import { goldenPaths, hostDebianMirror } from '../../../activities/golden/paths.js';
import { loadCatalog } from '../../../core/catalog/index.js';
import { createLogger } from '../../../lib/log.js';

const flavor = loadCatalog().get('debian13');
const log = createLogger('test', 'silent');

describe('golden build plan and checkpoints', () => {
  it('plans every debootstrap step for a new recipe', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'zfslab-goldens-'));
    const plan = await planGoldenBuild({ flavor, lineage: 'ztest', cacheDir }, log);
    expect(plan.cached).toBe(false);
    expect(plan.steps).toEqual(['debootstrap', 'kernel', 'zfs', 'payload', 'configure', 'initramfs', 'image', 'verify', 'publish']);
    expect(plan.name).toMatch(/^debian13-ztest-[0-9a-f]{16}$/);
    expect(plan.goldenDir).toBe(join(cacheDir, plan.name));
  });

  it('reuses a published golden with the same recipe, unless --force', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'zfslab-goldens-'));
    const first = await planGoldenBuild({ flavor, lineage: 'ztest', cacheDir }, log);
    mkdirSync(first.goldenDir, { recursive: true });
    const manifest = {
      name: first.name,
      flavorId: 'debian13',
      lineage: 'ztest',
      recipeHash: first.recipeHash,
      builderVersion: 1,
      builder: 'debootstrap',
      builtAt: '2026-11-26T00:00:00Z',
      buildHost: 'h',
      kernelRelease: '6.12.117+deb13-amd64',
      zfsVersion: { userland: 'zfs-2.3.9-0+deb13u1', kmod: 'zfs-kmod-2.3.9-0+deb13u1' },
      packages: {},
      boot: { disk: 'disk.qcow2', diskFormat: 'qcow2' },
      ssh: { user: 'zts', privateKeyFile: 'ssh/id_ed25519', hostPublicKey: 'ssh-ed25519 AAAA' },
      steps: [],
      buildLog: 'build.log',
    };
    writeFileSync(join(first.goldenDir, 'manifest.json'), JSON.stringify(manifest));
    expect((await planGoldenBuild({ flavor, lineage: 'ztest', cacheDir }, log)).cached).toBe(true);
    expect((await planGoldenBuild({ flavor, lineage: 'lean', cacheDir }, log)).cached).toBe(false);
    expect((await planGoldenBuild({ flavor, lineage: 'ztest', cacheDir, force: true }, log)).cached).toBe(false);
  });

  it('skips a step whose checkpoint exists (a retried activity resumes after it)', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'zfslab-goldens-'));
    const plan = await planGoldenBuild({ flavor, lineage: 'ztest', cacheDir }, log);
    const paths = goldenPaths(cacheDir, plan.name);
    writeCheckpoint(paths.stepsDir, { step: 'debootstrap', seconds: 191, finishedAt: '2026-11-26T00:00:00Z', data: { suite: 'trixie' } });
    writeCheckpoint(paths.stepsDir, { step: 'kernel', seconds: 91, finishedAt: '2026-11-26T00:01:00Z', data: { kernelRelease: '6.12.117+deb13-amd64' } });
    await expect(runGoldenStep(plan, 'debootstrap', { log })).resolves.toMatchObject({ step: 'debootstrap', skipped: true, seconds: 191 });
    await expect(runGoldenStep(plan, 'kernel', { log })).resolves.toMatchObject({ skipped: true, seconds: 91 });
    // publish cannot run before the steps it reads
    await expect(runGoldenStep(plan, 'publish', { log })).rejects.toThrow(/step verify has no checkpoint/);
    expect(readCheckpoint(paths.stepsDir, 'kernel')?.data).toEqual({ kernelRelease: '6.12.117+deb13-amd64' });
  });

  it('--force drops an unfinished build', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'zfslab-goldens-'));
    const plan = await planGoldenBuild({ flavor, lineage: 'ztest', cacheDir }, log);
    const paths = goldenPaths(cacheDir, plan.name);
    writeCheckpoint(paths.stepsDir, { step: 'debootstrap', seconds: 1, finishedAt: 'x', data: {} });
    await planGoldenBuild({ flavor, lineage: 'ztest', cacheDir, force: true }, log);
    expect(readCheckpoint(paths.stepsDir, 'debootstrap')).toBeUndefined();
  });
});

describe('host Debian mirror', () => {
  it('reads deb822 and one-line sources, skipping non-Debian and security entries', () => {
    const apt = mkdtempSync(join(tmpdir(), 'zfslab-apt-'));
    mkdirSync(join(apt, 'sources.list.d'));
    writeFileSync(join(apt, 'sources.list'), 'deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n');
    writeFileSync(join(apt, 'sources.list.d', 'a.sources'), 'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n');
    writeFileSync(join(apt, 'sources.list.d', 'debian.sources'), 'Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n');
    expect(hostDebianMirror(apt)).toBe('http://mirror.example/debian');
    writeFileSync(join(apt, 'sources.list'), 'deb [arch=amd64] http://other.example/debian bookworm main\n');
    expect(hostDebianMirror(apt)).toBe('http://other.example/debian');
  });
});
