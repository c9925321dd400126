import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { writeIncidentBundle } from '../../../activities/fingerprint/bundle.js';
import { fixtureDir } from './fixtures.js';
import { runFingerprintCli } from './cli-harness.js';

async function untar(path: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => void chunks.push(c as Buffer));
    stream.on('end', () => {
      files.set(header.name, Buffer.concat(chunks).toString('utf8'));
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    ex.on('finish', () => resolve());
    ex.on('error', (err: unknown) => reject(err as Error));
  });
  const gunzip = createGunzip();
  gunzip.pipe(ex);
  gunzip.end(readFileSync(path));
  await done;
  return files;
}

const rawCapture = join(fixtureDir, 'capture', 'raw-capture.jsonl');

describe('incident bundle', () => {
  it('holds the manifest, dmesg, stacks, deviations and the last N events, naming what it could not collect', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zfslab-bundle-'));
    const out = join(dir, 'incident.tar.gz');
    const deviations = { deviations: [{ kind: 'new', category: 'binaries_spawned', key: '/usr/bin/id' }] };
    const result = await writeIncidentBundle({
      outPath: out,
      deviations,
      eventsPath: rawCapture,
      lastEvents: 5,
      pids: [process.pid],
      now: () => new Date('2026-11-26T19:00:00Z'),
    });
    const files = await untar(out);
    const manifest = JSON.parse(files.get('manifest.json') ?? '{}') as { created_at: string; members: { name: string; absent?: string }[] };
    expect(manifest.created_at).toBe('2026-11-26T19:00:00.000Z');
    expect(manifest.members.map((m) => m.name)).toEqual(result.members.map((m) => m.name));
    const lines = readFileSync(rawCapture, 'utf8').split('\n').filter(Boolean);
    expect(files.get('events-last-5.jsonl')).toBe(lines.slice(-5).join('\n') + '\n');
    expect(JSON.parse(files.get('deviations.json') ?? 'null')).toEqual(deviations);
    expect(files.get('stacks.txt')).toMatch(new RegExp(`^== ${process.pid} `));
    if (process.getuid?.() === 0) expect(files.get('dmesg.txt')?.length).toBeGreaterThan(0);
    // No ZFS on this host: the ZFS members are listed as absent with the reason, not silently missing.
    const arc = manifest.members.find((m) => m.name === 'kstat/arcstats.txt');
    expect(arc?.absent ?? files.has('kstat/arcstats.txt')).toBeTruthy();
    for (const member of manifest.members) expect(files.has(member.name) || member.absent !== undefined).toBe(true);
  });

  it('zfslab fingerprint bundle writes locally and hands the tarball to the uploader under incidents/', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zfslab-bundle-cli-'));
    writeFileSync(join(dir, 'deviations.json'), JSON.stringify({ deviations: [] }));
    const uploads: { key: string; bytes: number; type: string }[] = [];
    const result = await runFingerprintCli(
      [
        '--json',
        'fingerprint',
        'bundle',
        '--deviations',
        join(dir, 'deviations.json'),
        '--events',
        rawCapture,
        '--last',
        '3',
        '--run-id',
        'run-42',
        '--out',
        join(dir, 'b.tar.gz'),
      ],
      {
        uploadArtifact: async (key, body, type) => {
          uploads.push({ key, bytes: Buffer.byteLength(body), type });
          return `s3://zfslab-artifacts/${key}`;
        },
      },
    );
    expect(result.error).toBeUndefined();
    expect(uploads).toHaveLength(1);
    expect(uploads[0]?.key).toMatch(/^incidents\/run-42\/\d{8}T\d{6}Z\.tar\.gz$/);
    expect(uploads[0]?.bytes).toBe(readFileSync(join(dir, 'b.tar.gz')).length);
    expect(uploads[0]?.type).toBe('application/gzip');
    expect(JSON.parse(result.stdout).uri).toBe(`s3://zfslab-artifacts/${uploads[0]?.key}`);
    expect((await untar(join(dir, 'b.tar.gz'))).get('events-last-3.jsonl')?.split('\n').filter(Boolean)).toHaveLength(3);
    const noUploader = await runFingerprintCli(['fingerprint', 'bundle', '--out', join(dir, 'c.tar.gz')]);
    expect(noUploader.code).toBe(2);
    expect((await runFingerprintCli(['fingerprint', 'bundle', '--no-upload', '--out', join(dir, 'd.tar.gz')])).code).toBe(0);
  });
});
