import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { suiteSidecarDir } from '../../../activities/golden/golden-suite.js';
import { defaultGoldenCacheDir } from '../../../activities/golden/paths.js';
import { VmTargetProvider } from '../../../activities/vm/vm-target-provider.js';
import { resolveTarget } from '../../../activities/zts/resolve.js';
import { ensureZtsRunner } from '../../../activities/zts/zts-runner.js';
import { loadCatalog } from '../../../core/catalog/index.js';
import { parseRunfile } from '../../../core/runfile/parse.js';
import { listTests } from '../../../core/runfile/select.js';
import { zfsNumericVersion } from '../../../core/vm/manifest.js';
import { createLogger } from '../../../lib/log.js';
import { projectRoot } from '../../../lib/paths.js';
import { debian13Golden } from '../../support/debian13-golden.js';
import { qemuUnder } from '../../support/qemu-processes.js';

describe.skipIf(process.env.ZFSLAB_SLOW !== '1')('the suite a real golden holds (debian13)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-golden-suite-vm-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('is read from the image (from one clone when the build did not record it), kept, and what a run plans from', async () => {
    const log = createLogger('golden-suite-vm', process.env.ZFSLAB_LOG_LEVEL ?? 'warn');
    const { manifest, golden } = await debian13Golden(log);
    const catalog = loadCatalog();
    const cloneRoot = join(scratch, 'clones');
    const provider = new VmTargetProvider({ catalog, maxVms: 1, cloneRoot, log });
    const sidecar = suiteSidecarDir(defaultGoldenCacheDir(), golden.name);
    // A golden built before suites were recorded is read from a clone: start from nothing kept.
    if (!manifest.suite) rmSync(sidecar, { recursive: true, force: true });

    let started = Date.now();
    const first = (await provider.goldenSuite(catalog.get('debian13'), new AbortController().signal))!;
    const firstSeconds = (Date.now() - started) / 1000;
    started = Date.now();
    const again = (await provider.goldenSuite(catalog.get('debian13'), new AbortController().signal))!;
    const againSeconds = (Date.now() - started) / 1000;
    process.stderr.write(`golden-suite-vm: first read ${firstSeconds} s (${first.suite.readFrom}), kept read ${againSeconds} s, ${first.suite.tests} tests\n`);

    expect(first.golden).toBe(golden.name);
    expect(first.suite.readFrom).toBe(manifest.suite ? 'build' : 'clone');
    expect(first.suite.openzfsVersion).toBe(zfsNumericVersion(manifest.zfsVersion.kmod));
    expect(first.suite.tests).toBeGreaterThan(1000);
    expect(again.suite).toEqual(first.suite);
    expect(againSeconds).toBeLessThan(5);
    expect(qemuUnder(cloneRoot)).toEqual([]);

    // The runfiles are the zfs-test package the golden has installed: the same text as that package
    // version unpacked on this host, when the mirror still serves that version.
    const installed = manifest.packages['zfs-test'];
    const pkg = await ensureZtsRunner({ toolsDir: join(projectRoot, '.tools'), suite: 'trixie', log });
    process.stderr.write(`golden-suite-vm: golden has zfs-test ${installed}, the mirror serves ${pkg.packageVersion}\n`);
    const common = readFileSync(join(first.runfilesDir, 'common.run'), 'utf8');
    if (pkg.packageVersion === installed) expect(common).toBe(readFileSync(join(pkg.root, 'usr/share/zfs/runfiles/common.run'), 'utf8'));

    const resolved = await resolveTarget(
      { target: 'debian13', hostId: 'lab', request: { kind: 'selection', selection: { suite: 'quick' } } },
      { toolsDir: join(projectRoot, '.tools'), catalog, log, goldens: provider },
    );
    expect(resolved.golden).toBe(golden.name);
    expect(resolved.flavor.openzfsVersion).toBe(first.suite.openzfsVersion);
    expect(resolved.selectedTests).toBe(listTests(parseRunfile(readFileSync(join(first.runfilesDir, 'sanity.run'), 'utf8'))).length);
  }, 1_800_000);
});
