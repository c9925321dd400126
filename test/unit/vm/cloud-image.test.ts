import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { digestFromSums, fetchUrl } from '../../../activities/golden/cloud-image-steps.js';

describe('cloud image checksums', () => {
  const sha = 'a'.repeat(64);
  it('reads GNU-style SHA256SUMS lines (Ubuntu, Debian)', () => {
    const sums = `${'b'.repeat(64)}  noble-server-cloudimg-arm64.img\n${sha} *noble-server-cloudimg-amd64.img\n`;
    expect(digestFromSums(sums, 'noble-server-cloudimg-amd64.img')).toBe(sha);
    expect(digestFromSums(sums, 'other.img')).toBeUndefined();
  });

  it('reads BSD-style CHECKSUM lines (Fedora, Rocky, CentOS)', () => {
    const sums = `# Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2: 123 bytes\nSHA256 (Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2) = ${sha}\n`;
    expect(digestFromSums(sums, 'Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2')).toBe(sha);
  });

  it('fetches file:// URLs by copying', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zfslab-fetch-'));
    writeFileSync(join(dir, 'src.img'), 'image bytes');
    await fetchUrl(pathToFileURL(join(dir, 'src.img')).href, join(dir, 'dest.img'));
    expect(readFileSync(join(dir, 'dest.img'), 'utf8')).toBe('image bytes');
  });
});
