import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../../lib/paths.js';
import { openStore } from '../../../lib/store/index.js';
import { ProbeStore } from '../../../lib/store/probes.js';
import { kstatSteps } from '../../../core/probes/steps.js';
import { parseKstatStream, parseStamped, parseZioStream } from '../../../core/probes/stream.js';
import { summarizeProbes } from '../../../core/probes/summary.js';
import { cellState } from '../../../core/report/model.js';
import { silentLogger } from '../../support/dashboards/store-queries-suite.js';
import { fillCapturedHistory } from '../../support/store/captured-history.js';
import { createWorld, runCli } from '../../support/stack.js';
import type { TestWorld } from '../../support/stack.js';

const probeStream = (name: string) => parseStamped(readFileSync(join(projectRoot, 'test/fixtures/probes', name), 'utf8'));

/** The whole of the fixture streams attributed to one script. */
function probedScript(testId: string) {
  const zio = probeStream('zio-stream-debian13.txt');
  const kstat = probeStream('kstat-stream-debian13.txt');
  const from = Math.min(zio[0]!.atMs, kstat[0]!.atMs) - 1;
  const to = Math.max(zio.at(-1)!.atMs, kstat.at(-1)!.atMs);
  return summarizeProbes([{ testId, startMs: from, endMs: to }], kstatSteps(parseKstatStream(kstat)), parseZioStream(zio));
}

/** Debian's chromium (infra/host-packages.txt), driven headless through playwright-core. */
const CHROMIUM = '/usr/bin/chromium';
/** Kept after the run: the screenshot of the report as the browser drew it. */
const SCREENSHOT = join(projectRoot, 'test-artifacts', 'html-report.png');

// `zfslab report <run> --html` on a store filled from real test-runner captures, opened in a real
// headless Chromium with the network cut off: the matrix cells carry the store's outcomes, and the
// charts really render.
describe('zfslab report --html in a real browser', () => {
  let world: TestWorld;
  let browser: Browser;
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-report-'));
  const storeUrl = `sqlite:${join(scratch, 'results.db')}`;
  const file = join(scratch, 'report.html');
  let heatmapTest: string;

  beforeAll(async () => {
    world = createWorld('report', { ZFSLAB_STORE_URL: storeUrl });
    const store = await openStore(storeUrl, { logger: silentLogger });
    await fillCapturedHistory(store);
    // run_flavors: what each flavor of the run ran on (the CLI's runs record it as they start).
    await store.recordRunFlavor({ runId: 'cap-2', flavorId: 'debian-13', kernel: '6.1.0', openzfsVersion: '2.3.9' });
    // The probes of one of its tests: the real streams of a debian13 run (test/fixtures/probes/), as that run stored them.
    heatmapTest = (await store.getResults('cap-2', { flavorId: 'debian-13' })).find((r) => r.kind === 'test')!.testId;
    await new ProbeStore(store.db).record({ runId: 'cap-2', flavorId: 'debian-13', shard: 1 }, probedScript(heatmapTest));
    await store.close();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    world?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('writes one self-contained file', async () => {
    const run = await runCli(['report', 'cap-2', '--html', file, '--artifacts-url', 'http://minio.lab:9001/browser/zfslab'], world.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`wrote ${file}`);
    expect(existsSync(`${file}.partial`)).toBe(false);
    const html = readFileSync(file, 'utf8');
    // No external resource: every src/href of a script, style or image is absent or inline.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|<img[^>]+src="http/);
    expect(statSync(file).size).toBeGreaterThan(500_000);
  });

  it('shows the run as the store holds it, and draws the charts with no network', async () => {
    const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${file}`);
    expect(errors).toEqual([]);

    const store = await openStore(storeUrl, { logger: silentLogger });
    const results = (await store.getResults('cap-2', { flavorId: 'debian-13' })).filter((r) => r.kind !== 'failsafe');
    await store.close();
    const cells = await page.$$eval('#matrix tr[data-test] td.cell', (tds) =>
      tds.map((td) => ({ test: td.parentElement!.getAttribute('data-test'), outcome: td.getAttribute('data-outcome'), state: td.getAttribute('data-state') })),
    );
    expect(cells.length).toBeGreaterThan(0);
    for (const cell of cells) {
      const stored = results.find((r) => r.testId === cell.test);
      expect(stored, String(cell.test)).toBeDefined();
      expect(cell.outcome).toBe(stored!.outcome);
      expect(cell.state).toBe(cellState({ ...stored!, infraError: stored!.infraError }));
    }
    expect(cells.some((c) => c.state === 'pass')).toBe(true);
    expect(cells.some((c) => c.state !== 'pass')).toBe(true);

    for (const id of ['trend', 'duration-chart']) {
      expect(await page.getAttribute(`#${id}`, 'data-rendered'), id).toBe('true');
      const drawn = await page.$$eval(`#${id} svg path`, (paths) => paths.length);
      expect(drawn, id).toBeGreaterThan(5);
    }
    // The heatmap of the test the probes recorded (the run's only, so its busiest), drawn as cells.
    expect(await page.textContent('#heatmap-title')).toBe(`${heatmapTest} on debian-13`);
    expect(await page.getAttribute('#heatmap', 'data-rendered')).toBe('true');
    expect(await page.$$eval('#heatmap svg path', (paths) => paths.length)).toBeGreaterThan(20);
    expect(await page.$$eval('#artifacts a.artifact', (as) => as.map((a) => a.getAttribute('href')))).toEqual([
      'http://minio.lab:9001/browser/zfslab/runs/cap-2/debian-13/shard-1/log',
    ]);
    mkdirSync(join(projectRoot, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000);
    await context.close();
  });

  it('names a run the store does not have', async () => {
    const run = await runCli(['report', 'no-such-run', '--html', join(scratch, 'x.html')], world.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no run no-such-run in the results store');
    expect(existsSync(join(scratch, 'x.html'))).toBe(false);
  });
});
