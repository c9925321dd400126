import { describe, expect, it } from 'vitest';
import { parseDebianMirror, parseMadison, pickVersion, upstreamVersion } from '../../../activities/zts/zts-runner.js';

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
