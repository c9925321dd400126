import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureZtsRunner, parseDebianMirror, parseMadison, pickVersion, upstreamVersion } from '../../../infra/zts-runner.js';

describe('zts-runner helpers', () => {
  // Real `apt-cache madison zfs-test` output on this host with bookworm + bookworm-backports contrib.
  const madison = [
    '  zfs-test | 2.3.2-2~bpo12+2 | http://deb.debian.org/debian bookworm-backports/contrib amd64 Packages',
    '  zfs-test | 2.1.11-1+deb12u1 | http://deb.debian.org/debian bookworm/contrib amd64 Packages',
  ].join('\n');

  it('picks the version of the asked suite', () => {
    const rows = parseMadison(madison);
    expect(rows).toEqual([
      { version: '2.3.2-2~bpo12+2', suite: 'bookworm-backports/contrib' },
      { version: '2.1.11-1+deb12u1', suite: 'bookworm/contrib' },
    ]);
    expect(pickVersion(rows, 'bookworm')).toBe('2.1.11-1+deb12u1');
    expect(pickVersion(rows, 'bookworm-backports')).toBe('2.3.2-2~bpo12+2');
    expect(pickVersion(rows, 'bookworm', '2.1.11')).toBe('2.1.11-1+deb12u1');
    expect(pickVersion(rows, 'bookworm', '2.3.2')).toBeUndefined();
    expect(pickVersion(rows, 'trixie')).toBeUndefined();
  });

  it('strips epoch and Debian revision', () => {
    expect(upstreamVersion('2.1.11-1+deb12u1')).toBe('2.1.11');
    expect(upstreamVersion('2.3.2-2~bpo12+2')).toBe('2.3.2');
    expect(upstreamVersion('1:2.4.4-1~bpo13+1')).toBe('2.4.4');
  });

  it('finds the Debian mirror in deb822 and one-line sources, skipping -security', () => {
    const deb822 = [
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security',
      'Suites: bookworm-security',
      '',
      'Types: deb',
      'URIs: http://mirror.example/debian/',
      'Suites: bookworm bookworm-updates',
    ].join('\n');
    expect(parseDebianMirror([deb822])).toBe('http://mirror.example/debian');
    expect(parseDebianMirror(['deb [arch=amd64] http://ftp.de.debian.org/debian bookworm main contrib'])).toBe('http://ftp.de.debian.org/debian');
    expect(parseDebianMirror(['deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main'])).toBeUndefined();
  });
});

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
