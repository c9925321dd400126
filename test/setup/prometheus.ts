import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { z } from 'zod';
import { freePort } from '../support/ports.js';

/**
 * A throwaway real Prometheus (Debian's `prometheus` package, infra/host-packages.txt) scraping the
 * given jobs every second, with the given rule files, on a free loopback port. `stop()` kills it and
 * removes its TSDB.
 */
export interface StartedPrometheus {
  readonly url: string;
  /** An instant query; throws on anything but `status: success`. */
  query(expr: string): Promise<PromVector>;
  get<T>(path: string, schema: z.ZodType<T>): Promise<T>;
  stop(): Promise<void>;
}

const Sample = z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) });
export type PromVector = z.infer<typeof Sample>[];
const QueryResponse = z.object({ status: z.literal('success'), data: z.object({ resultType: z.string(), result: z.array(Sample) }) });

export async function startPrometheus(jobs: Record<string, readonly string[]>, ruleFiles: readonly string[] = []): Promise<StartedPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'zfslab-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [...ruleFiles],
      scrape_configs: Object.entries(jobs).map(([job, targets]) => ({ job_name: job, static_configs: [{ targets: [...targets] }] })),
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const get = async <T>(path: string, schema: z.ZodType<T>): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body: unknown = await response.json();
    return schema.parse(body);
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${log}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready after 60 s:\n${log}`);
    }
    await sleep(250);
  }
  return {
    url,
    get,
    query: async (expr) => (await get(`/api/v1/query?query=${encodeURIComponent(expr)}`, QueryResponse)).data.result,
    stop,
  };
}
