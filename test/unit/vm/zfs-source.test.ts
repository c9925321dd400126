import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planGoldenBuild } from '../../../activities/golden/build.js';
import { resolveZfsSource } from '../../../activities/golden/zfs-source.js';
import { runCommand } from '../../../lib/exec/run-command.js';
import { loadCatalog } from '../../../core/catalog/index.js';
import { createLogger } from '../../../lib/log.js';

async function git(dir: string, ...args: string[]): Promise<string> {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
  return (await runCommand('git', ['-C', dir, ...args], { env })).stdout.trim();
}

describe('--zfs-source', () => {
  it('pins a local tree and branch to a commit, and a new commit is a new recipe', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'zfslab-zfs-src-'));
    await git(repo, 'init', '-q', '-b', 'master');
    writeFileSync(join(repo, 'META'), 'Name: zfs\nVersion: 2.4.99\n');
    await git(repo, 'add', 'META');
    await git(repo, 'commit', '-qm', 'one');
    const first = await git(repo, 'rev-parse', 'HEAD');
    await git(repo, 'checkout', '-qb', 'pr-123');
    writeFileSync(join(repo, 'META'), 'Name: zfs\nVersion: 2.4.99\nRelease: pr\n');
    await git(repo, 'commit', '-qam', 'two');
    const second = await git(repo, 'rev-parse', 'HEAD');

    expect(await resolveZfsSource({ location: repo, branch: 'master' })).toEqual({ location: repo, branch: 'master', revision: first });
    expect((await resolveZfsSource({ location: repo, branch: 'pr-123' })).revision).toBe(second);
    await expect(resolveZfsSource({ location: repo, branch: 'nope' })).rejects.toThrow();
    await expect(resolveZfsSource({ location: join(repo, 'missing') })).rejects.toThrow(/does not exist/);

    const flavor = loadCatalog().get('debian13');
    const cacheDir = mkdtempSync(join(tmpdir(), 'zfslab-goldens-'));
    const log = createLogger('t', 'silent');
    const a = await planGoldenBuild({ flavor, lineage: 'ztest', cacheDir, zfsSource: { location: repo, branch: 'master' } }, log);
    const b = await planGoldenBuild({ flavor, lineage: 'ztest', cacheDir, zfsSource: { location: repo, branch: 'pr-123' } }, log);
    const pkg = await planGoldenBuild({ flavor, lineage: 'ztest', cacheDir }, log);
    expect(a.zfsSource?.revision).toBe(first);
    expect(new Set([a.recipeHash, b.recipeHash, pkg.recipeHash]).size).toBe(3);
  });
});
