import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureZtsRunner } from '../../../activities/zts/zts-runner.js';

// Downloads from the Debian mirror (apt-get download); the parsing helpers are unit-tested in
// test/unit/zts/zts-runner.test.ts.
describe('ensureZtsRunner (real apt-get download + dpkg-deb -x from the Debian mirror)', () => {
  const toolsDir = mkdtempSync(join(tmpdir(), 'zfslab-zts-runner-'));
  afterAll(() => rmSync(toolsDir, { recursive: true, force: true }));

  it('unpacks bookworm zfs-test 2.1.11 once (even when asked twice at once), then reuses it without touching the host apt sources', async () => {
    const hostSources = ['/etc/apt/sources.list', '/etc/apt/sources.list.d/debian.sources'].filter((f) => existsSync(f));
    const sourcesBefore = hostSources.map((f) => readFileSync(f, 'utf8'));
    // Two callers at once: one downloads, the other waits for the lock and reuses its tree.
    const both = await Promise.all([ensureZtsRunner({ toolsDir, suite: 'bookworm' }), ensureZtsRunner({ toolsDir, suite: 'bookworm' })]);
    expect(both.map((r) => r.downloaded).sort()).toEqual([false, true]);
    const first = both.find((r) => r.downloaded)!;
    expect(first).toMatchObject({ version: '2.1.11', suite: 'bookworm', downloaded: true });
    expect(both[0]!.runnerPath).toBe(both[1]!.runnerPath);
    expect(first.packageVersion).toMatch(/^2\.1\.11-/);
    expect(first.runnerPath).toBe(join(toolsDir, 'zts', '2.1.11', 'usr/share/zfs/test-runner/bin/test-runner.py'));
    expect(readFileSync(first.runnerPath, 'utf8')).toContain('def summary(self):');
    expect(existsSync(join(first.root, 'usr/share/zfs/runfiles/common.run'))).toBe(true);
    const second = await ensureZtsRunner({ toolsDir, suite: 'bookworm', version: '2.1.11' });
    expect(second).toEqual({ ...first, downloaded: false });
    expect(hostSources.map((f) => readFileSync(f, 'utf8'))).toEqual(sourcesBefore);
  });
});
