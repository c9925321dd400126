import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { isTransient, newS3Client, type S3Endpoint } from '../lib/s3.js';
import { mkdirSync } from 'node:fs';
import { isRecordAlive, startBackground, stopRecorded, waitUntil, type PidRecord, type ProcessDirs } from './process.js';

export interface MinioServerOptions {
  binary: string;
  dataDir: string;
  ip: string;
  port: number;
  consolePort: number;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

export const MINIO_PROCESS = 'minio';

export function minioServerArgv(o: MinioServerOptions): string[] {
  return [o.binary, 'server', o.dataDir, '--address', `${o.ip}:${o.port}`, '--console-address', `${o.ip}:${o.consolePort}`, '--quiet'];
}

export function minioEnv(o: MinioServerOptions): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MINIO_ROOT_USER: o.accessKeyId,
    MINIO_ROOT_PASSWORD: o.secretAccessKey,
    // A lab server never phones home or checks for updates.
    MINIO_UPDATE: 'off',
    MINIO_CALLHOME_ENABLE: 'off',
    MINIO_BROWSER_REDIRECT: 'off',
  };
}

export async function startMinioServer(dirs: ProcessDirs, o: MinioServerOptions, timeoutMs = 60_000): Promise<PidRecord> {
  mkdirSync(o.dataDir, { recursive: true });
  const record = startBackground(dirs, MINIO_PROCESS, minioServerArgv(o), { env: minioEnv(o) });
  const endpoint = `http://${o.ip}:${o.port}`;
  await waitUntil(() => minioLive(endpoint), {
    timeoutMs,
    describe: `MinIO at ${endpoint}`,
    alive: () => isRecordAlive(record),
    logFile: record.logFile,
  });
  await ensureBucket({ endpoint, region: 'us-east-1', accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey }, o.bucket);
  return record;
}

export function stopMinioServer(dirs: ProcessDirs): Promise<boolean> {
  return stopRecorded(dirs, MINIO_PROCESS);
}

export async function minioLive(endpoint: string): Promise<boolean> {
  const response = await fetch(`${endpoint}/minio/health/live`, { signal: AbortSignal.timeout(2_000) });
  return response.ok;
}

/**
 * Creates the bucket unless it exists. MinIO answers its liveness probe before its object layer is
 * up, and meanwhile refuses S3 calls with 503 "Server not initialized yet" (seen under load), so
 * transient answers are waited out for a bounded time.
 */
export async function ensureBucket(s3: S3Endpoint, bucket: string, timeoutMs = 60_000): Promise<void> {
  const client = newS3Client(s3);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket })).catch(async (err: unknown) => {
          if (isTransient(err)) throw err;
          await client.send(new CreateBucketCommand({ Bucket: bucket }));
        });
        return;
      } catch (err) {
        if (!isTransient(err) || Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  } finally {
    client.destroy();
  }
}
