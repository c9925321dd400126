import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The import-boundary rule of eslint.config.js, exercised through ESLint's own API on source text
 * placed (by `filePath`) inside each layer: a deliberate violation must be reported, a permitted
 * import must not.
 */
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const eslint = new ESLint({ cwd: repoRoot });

async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, file) });
  if (!result) throw new Error(`ESLint returned no result for ${file}`);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries', () => {
  it('core/ may not import lib/ (or any other layer of ours)', async () => {
    const errors = await boundaryErrors(
      'core/catalog/boundary-probe.ts',
      "import { UsageError } from '../../lib/errors.js';\nexport const e = new UsageError('x');\n",
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("'../../lib/errors.js'");
    expect(errors[0]).toContain('core/ is the pure domain');
  });

  it('core/ at its top level may not climb into activities/ either', async () => {
    const errors = await boundaryErrors(
      'core/boundary-probe.ts',
      "import { withHeartbeats } from '../activities/heartbeat.js';\nexport const h = withHeartbeats;\n",
    );
    expect(errors).toHaveLength(1);
  });

  it('core/ may import core/', async () => {
    const errors = await boundaryErrors(
      'core/catalog/boundary-probe.ts',
      "import { UsageError } from '../errors.js';\nimport { hostTaskQueue } from '../queues.js';\nexport const e = [new UsageError('x'), hostTaskQueue];\n",
    );
    expect(errors).toEqual([]);
  });

  it('dashboards/ may not read the results store through lib/ (panels hold their own queries)', async () => {
    const errors = await boundaryErrors(
      'dashboards/boards/boundary-probe.ts',
      "import { openStore } from '../../lib/store/index.js';\nexport const o = openStore;\n",
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('dashboards/ are data built from code');
  });

  it('workflows/ may not import an activity value', async () => {
    const errors = await boundaryErrors(
      'workflows/boundary-probe.ts',
      "import { createHostActivities } from '../activities/host/index.js';\nexport const a = createHostActivities;\n",
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('activity types only');
  });

  it('workflows/ may not import lib/, even for a type', async () => {
    const errors = await boundaryErrors('workflows/boundary-probe.ts', "import type { Logger } from '../lib/log.js';\nexport type L = Logger;\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('workflows/ is deterministic Temporal code');
  });

  it('workflows/ may import core/ values and activity types', async () => {
    const errors = await boundaryErrors(
      'workflows/boundary-probe.ts',
      "import type { HostActivities } from '../activities/host/index.js';\nimport { hostTaskQueue } from '../core/queues.js';\nexport type H = HostActivities;\nexport const q = hostTaskQueue;\n",
    );
    expect(errors).toEqual([]);
  });

  it('lib/ may not import workflows/, activities/ may not import apps/', async () => {
    expect(
      await boundaryErrors('lib/boundary-probe.ts', "import { hostProbe } from '../workflows/host-probe.js';\nexport const w = hostProbe;\n"),
    ).toHaveLength(1);
    expect(await boundaryErrors('activities/host/boundary-probe.ts', "import { EXIT } from '../../apps/cli/exit.js';\nexport const x = EXIT;\n")).toHaveLength(
      1,
    );
    expect(await boundaryErrors('lib/boundary-probe.ts', "import { hostTaskQueue } from '../core/queues.js';\nexport const q = hostTaskQueue;\n")).toEqual([]);
  });

  it('activities/ may not import infra/ (service start-up), but may use lib/', async () => {
    expect(
      await boundaryErrors('activities/zts/boundary-probe.ts', "import { toolPath } from '../../infra/tools.js';\nexport const t = toolPath;\n"),
    ).toHaveLength(1);
    expect(
      await boundaryErrors('activities/zts/boundary-probe.ts', "import { localExecutor } from '../../lib/exec/local.js';\nexport const e = localExecutor;\n"),
    ).toEqual([]);
  });
});
