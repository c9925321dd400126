import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startMinioServer, stopMinioServer, type MinioServerOptions } from '../../../infra/minio-server.js';
import { toolPath } from '../../../infra/tools.js';
import { ArtifactStore, newS3Client, type UploadReport } from '../../../lib/s3.js';
import { freePort } from '../../support/ports.js';
import { testStack } from '../../support/stack.js';

// This test stops MinIO, so it runs its own (the shared one serves other test files).
describe('uploading a results tree through a MinIO outage', () => {
  const root = mkdtempSync(join(tmpdir(), 'zfslab-outage-'));
  const dirs = { runDir: join(root, 'run'), logDir: join(root, 'logs') };
  const tree = join(root, 'tree');
  const expected = new Map<string, string>();
  let options: MinioServerOptions;

  beforeAll(async () => {
    options = {
      binary: toolPath(testStack().toolsDir, 'minio'),
      dataDir: join(root, 'data'),
      ip: '127.0.0.1',
      port: await freePort(),
      consolePort: await freePort(),
      accessKeyId: 'outage',
      secretAccessKey: 'outage-secret',
      bucket: 'outage-artifacts',
    };
    await startMinioServer(dirs, options);
    // A results tree in the upstream layout: log, results, and per-test output files,
    // plus one file large enough to go up in multipart.
    const files: [string, Buffer][] = [
      ['log', Buffer.from('Test: /usr/share/zfs/zfs-tests/tests/functional/cli_root/zpool_create/setup (run as root) [00:01] [PASS]\n')],
      ['results', Buffer.from('PASS 10\n')],
      ['big/serial-console.log', randomBytes(40 * 1024 * 1024)],
    ];
    for (let i = 0; i < 60; i++) {
      for (const stream of ['stdout', 'stderr', 'merged']) {
        files.push([`output/functional/cli_root/zpool_create/zpool_create_${String(i).padStart(3, '0')}_pos/${stream}`, randomBytes(64 * 1024)]);
      }
    }
    for (const [rel, body] of files) {
      mkdirSync(join(tree, rel, '..'), { recursive: true });
      writeFileSync(join(tree, rel), body);
      expected.set(rel, createHash('sha256').update(body).digest('hex'));
    }
  });
  afterAll(async () => {
    await stopMinioServer(dirs);
    rmSync(root, { recursive: true, force: true });
  });

  it('completes after MinIO comes back, every object intact; a second upload writes nothing', async () => {
    const endpoint = `http://127.0.0.1:${options.port}`;
    const s3 = { endpoint, region: 'us-east-1', accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey };
    const retries: string[] = [];
    const uploads: UploadReport[] = [];
    const store = new ArtifactStore(newS3Client(s3), options.bucket, {
      retryForMs: 120_000,
      onRetry: (r) => retries.push(r.key),
      onUpload: (u) => uploads.push(u),
    });
    const prefix = 'runs/outage-run/debian13/0/results';

    const upload = store.putTree(prefix, tree);
    // Let some objects land, then take MinIO away for a few seconds.
    for (let i = 0; i < 200 && (await store.list(prefix)).length < 20; i++) await sleep(25);
    expect(await stopMinioServer(dirs)).toBe(true);
    await sleep(4_000);
    await startMinioServer(dirs, options);
    const results = await upload;

    expect(retries.length).toBeGreaterThan(0);
    expect(results).toHaveLength(expected.size);
    // One report per object (what the workers' upload metrics count): all ended well, some after
    // retries, and no more bytes written than the tree holds (an object that landed just before a
    // failed reply is found on the retry and not written again).
    expect(uploads).toHaveLength(expected.size);
    expect(uploads.every((u) => u.ok)).toBe(true);
    const uploadRetries = uploads.reduce((n, u) => n + u.retries, 0);
    expect(uploadRetries).toBeGreaterThan(0);
    expect(uploadRetries).toBeLessThanOrEqual(retries.length);
    const written = uploads.reduce((n, u) => n + u.bytes, 0);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThanOrEqual(results.reduce((n, r) => n + r.bytes, 0));
    uploads.length = 0;
    const listed = await store.list(prefix);
    expect(listed.map((o) => o.key).sort()).toEqual([...expected.keys()].map((k) => `${prefix}/${k}`).sort());
    for (const [rel, sha] of expected) {
      const body = await store.client.send(new GetObjectCommand({ Bucket: options.bucket, Key: `${prefix}/${rel}` }));
      const bytes = Buffer.from(await body.Body!.transformToByteArray());
      expect(createHash('sha256').update(bytes).digest('hex'), rel).toBe(sha);
    }
    expect((await store.head(`${prefix}/log`))?.contentType).toBe('text/plain; charset=utf-8');

    const again = await store.putTree(prefix, tree);
    expect(again.filter((r) => r.written)).toEqual([]);
    expect(uploads.map((u) => [u.ok, u.bytes, u.retries])).toEqual(again.map(() => [true, 0, 0]));
    expect((await store.list(prefix)).length).toBe(expected.size);
    store.destroy();
  }, 240_000);
});
