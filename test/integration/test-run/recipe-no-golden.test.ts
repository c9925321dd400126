import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startWorker, useWorld } from '../../support/stack.js';

describe('zfslab test <flavor> --recipe on a host without that golden', () => {
  const setup = useWorld('nogolden', { host: false });
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-no-golden-'));

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('ends at once with exit 3, naming the flavor and the command that builds its golden', async () => {
    // An empty golden cache: the host worker is real, it just has nothing to clone.
    const env = { ...setup.world.env, ZFSLAB_GOLDEN_CACHE: join(scratch, 'goldens'), ZFSLAB_CLONE_DIR: join(scratch, 'clones') };
    setup.workers.push(await startWorker('host', env));
    const recipe = join(scratch, 'check.sh');
    writeFileSync(recipe, '#!/bin/sh\ntrue\n');
    const startedAt = Date.now();
    const run = await runCli(['test', 'debian13', '--recipe', recipe], env, { timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(`no ztest golden of debian13 on host ${setup.world.hostId}: build it with \`zfslab golden-ztest debian13\``);
    expect(Date.now() - startedAt).toBeLessThan(60_000);
  });
});
