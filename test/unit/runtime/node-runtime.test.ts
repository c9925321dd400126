import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../lib/paths.js';

const pinned = /^ZFSLAB_NODE_VERSION=(\S+)$/m.exec(readFileSync(join(projectRoot, 'infra/node-runtime.sh'), 'utf8'))?.[1];

describe('the Node.js runtime', () => {
  it('the tests run on Node 24 or later (npm test runs them through infra/with-node.sh)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  it('pins a Node 24 release, and package.json says 24 is needed', () => {
    expect(pinned).toMatch(/^24\.\d+\.\d+$/);
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('>=24');
  });

  // Where the machine's own node is older (Debian 12 here has Node 20 in /usr/bin), the command a
  // user types still works: bin/zfslab.js hands itself to the pinned Node, on which the native
  // results-store module was built. Opening the store is what would fail on the wrong ABI.
  it.runIf(existsSync('/usr/bin/node') && existsSync(join(projectRoot, `.tools/node-${pinned}/bin/node`)))(
    'zfslab started by an older node re-runs itself on the pinned Node 24 and opens the store',
    () => {
      const system = spawnSync('/usr/bin/node', ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' });
      if (Number(system.stdout.trim()) >= 24) return; // nothing to hand over to
      const dir = mkdtempSync(join(tmpdir(), 'zfslab-node-'));
      try {
        const env = { ...process.env, ZFSLAB_CONFIG: '', ZFSLAB_STATE_DIR: dir, ZFSLAB_STORE_URL: `sqlite:${join(dir, 'results.db')}` };
        const run = spawnSync('/usr/bin/node', [join(projectRoot, 'bin/zfslab.js'), 'runs', '--json'], { encoding: 'utf8', env });
        expect(run.status, run.stderr).toBe(0);
        expect(JSON.parse(run.stdout)).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
