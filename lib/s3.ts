import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NotFound, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './config.js';
import type { Logger } from './log.js';

/**
 * Artifacts in S3 (MinIO by default). Every write is idempotent: an object whose size and sha256
 * (kept in its metadata) already match is not written again, so re-uploading a run after a crash
 * neither duplicates nor corrupts anything. Transient failures (connection refused while MinIO
 * restarts, 5xx, throttling) are retried with capped exponential backoff until `retryForMs`
 * passes: an outage delays a run; it does not fail it.
 */
export interface ArtifactStoreOptions {
  /** How long to keep retrying one object through an outage. */
  retryForMs?: number;
  /** Files at least this large go up in multipart. */
  multipartThreshold?: number;
  /** Called on every retry of any request (heartbeats, tests). */
  onRetry?: (info: { key: string; attempt: number; error: string }) => void;
  /** Called once per `putBytes`/`putFile` when it ends (metrics: lib/metrics.ts `recordArtifactUpload`). */
  onUpload?: (upload: UploadReport) => void;
  log?: Logger;
}

export interface PutResult {
  key: string;
  uri: string;
  bytes: number;
  sha256: string;
  /** False when an identical object was already there. */
  written: boolean;
}

export interface UploadReport {
  key: string;
  ok: boolean;
  /** Bytes written: 0 when an identical object was already there, or when the upload failed. */
  bytes: number;
  /** Attempts after the first. */
  retries: number;
}

export const MULTIPART_PART_SIZE = 8 * 1024 * 1024;

export class ArtifactStore {
  readonly bucket: string;
  private readonly retryForMs: number;
  private readonly multipartThreshold: number;

  constructor(
    readonly client: S3Client,
    bucket: string,
    private readonly options: ArtifactStoreOptions = {},
  ) {
    this.bucket = bucket;
    this.retryForMs = options.retryForMs ?? 30 * 60_000;
    this.multipartThreshold = options.multipartThreshold ?? 16 * 1024 * 1024;
  }

  static fromConfig(config: Config, options: ArtifactStoreOptions = {}): ArtifactStore {
    return new ArtifactStore(createS3Client(config), config.s3.bucket, options);
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async putBytes(key: string, body: string | Uint8Array, contentType = contentTypeFor(key)): Promise<PutResult> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return this.uploading(key, async () => {
      if (await this.sameObjectExists(key, bytes.length, sha256)) return this.result(key, bytes.length, sha256, false);
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentType: contentType, Metadata: { sha256 } }));
      return this.result(key, bytes.length, sha256, true);
    });
  }

  async putFile(key: string, path: string, contentType = contentTypeFor(path)): Promise<PutResult> {
    const size = statSync(path).size;
    const sha256 = await sha256File(path);
    return this.uploading(key, async () => {
      if (await this.sameObjectExists(key, size, sha256)) return this.result(key, size, sha256, false);
      if (size >= this.multipartThreshold) {
        const upload = new Upload({
          client: this.client,
          params: { Bucket: this.bucket, Key: key, Body: createReadStream(path), ContentType: contentType, Metadata: { sha256 } },
          partSize: MULTIPART_PART_SIZE,
          queueSize: 2,
          // We abort ourselves below: lib-storage's own abort during an outage fails unobserved.
          leavePartsOnError: true,
        });
        try {
          await upload.done();
        } catch (err) {
          await upload.abort().catch(() => undefined);
          throw err;
        }
      } else {
        // Small files go up from memory: a body that can be re-sent is what makes a retry clean.
        const body = await readFile(path);
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, Metadata: { sha256 } }));
      }
      return this.result(key, size, sha256, true);
    });
  }

  /** Uploads every file under `dir` to `prefix/<relative path>`, unchanged. */
  async putTree(prefix: string, dir: string): Promise<PutResult[]> {
    const results: PutResult[] = [];
    for (const file of await listFiles(dir)) {
      const rel = relative(dir, file).split(sep).join('/');
      results.push(await this.putFile(`${prefix}/${rel}`, file));
    }
    return results;
  }

  async getText(key: string): Promise<string | undefined> {
    return (await this.getBytes(key))?.toString('utf8');
  }

  /** An object's bytes (a tarball, a gzip), or undefined when there is no such key. */
  async getBytes(key: string): Promise<Buffer | undefined> {
    return this.retrying(key, async () => {
      try {
        const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        return Buffer.from((await response.Body?.transformToByteArray()) ?? new Uint8Array());
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
  }

  async list(prefix: string): Promise<{ key: string; size: number; sha256?: string }[]> {
    const out: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.retrying(prefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const item of page.Contents ?? []) if (item.Key) out.push({ key: item.Key, size: item.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async head(key: string): Promise<{ size: number; sha256?: string; contentType?: string } | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: head.ContentLength ?? 0, sha256: head.Metadata?.sha256, contentType: head.ContentType };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  destroy(): void {
    this.client.destroy();
  }

  private async sameObjectExists(key: string, size: number, sha256: string): Promise<boolean> {
    const head = await this.head(key);
    return head !== undefined && head.size === size && head.sha256 === sha256;
  }

  private result(key: string, bytes: number, sha256: string, written: boolean): PutResult {
    return { key, uri: this.uri(key), bytes, sha256, written };
  }

  /** `retrying`, reporting the upload's end to `onUpload`. */
  private async uploading(key: string, attempt: () => Promise<PutResult>): Promise<PutResult> {
    let retries = 0;
    try {
      const result = await this.retrying(key, attempt, () => retries++);
      this.options.onUpload?.({ key, ok: true, bytes: result.written ? result.bytes : 0, retries });
      return result;
    } catch (err) {
      this.options.onUpload?.({ key, ok: false, bytes: 0, retries });
      throw err;
    }
  }

  private async retrying<T>(key: string, attempt: () => Promise<T>, onRetry?: () => void): Promise<T> {
    const deadline = Date.now() + this.retryForMs;
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!isTransient(err) || Date.now() > deadline) throw err;
        const error = err instanceof Error ? err.message || err.name : String(err);
        onRetry?.();
        this.options.onRetry?.({ key, attempt: n, error });
        this.options.log?.warn({ key, attempt: n, error }, 'S3 request failed; retrying');
        await sleep(Math.min(200 * 2 ** Math.min(n, 6), 10_000));
      }
    }
  }
}

export interface S3Endpoint {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function createS3Client(config: Config): S3Client {
  return newS3Client(config.s3);
}

/** A path-style client for MinIO or any S3. */
export function newS3Client(s3: S3Endpoint): S3Client {
  // zfslab targets Node 20 on purpose (the lab hosts' Node); the SDK's notice about its future
  // Node 22 requirement would otherwise be printed by every command. This is the SDK's own switch.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    // Our own retry loop outlasts outages; the SDK's few quick retries would only add noise.
    maxAttempts: 1,
  });
}

/** So that logs open in a browser rather than download. */
export function contentTypeFor(name: string): string {
  const lower = name.toLowerCase();
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'application/gzip';
  switch (extname(lower)) {
    case '.json':
      return 'application/json';
    case '.xml':
    case '.xsd':
      return 'application/xml';
    case '.md':
      return 'text/markdown; charset=utf-8';
    case '.html':
      return 'text/html; charset=utf-8';
    case '.qcow2':
    case '.img':
    case '.raw':
      return 'application/octet-stream';
    default:
      // ZTS writes log, results, stdout, stderr and merged without extensions: all text.
      return 'text/plain; charset=utf-8';
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof NotFound || (err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey'));
}

/** Connection failures, timeouts, 5xx and throttling are worth waiting out; 4xx are not. */
export function isTransient(err: unknown): boolean {
  // A server going down or coming up can answer with a body that is not S3's XML (seen with MinIO
  // mid-restart): the SDK reports a deserialization error carrying the raw response.
  const raw = (err as { $response?: { statusCode?: number } } | undefined)?.$response;
  if (raw && (raw.statusCode === undefined || raw.statusCode >= 500 || raw.statusCode === 429)) return true;
  if (err instanceof Error && /Deserialization error|XML parse error/.test(err.message)) return true;
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode ?? 0;
    return status >= 500 || status === 429 || status === 0 || err.name === 'SlowDown' || err.name === 'RequestTimeout';
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    return (
      ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET'].includes(code) ||
      /socket hang up|ECONNREFUSED|ECONNRESET|timeout|TimeoutError|EPIPE|network/i.test(err.message + err.name)
    );
  }
  return false;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}
