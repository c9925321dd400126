import { cellState, issueLabel, matrixTotals } from './model.js';
import type { CellState, MatrixReport } from './model.js';

/**
 * One self-contained HTML file for a run: the flavor × test matrix with colours and the diagnosis,
 * each test's duration against its history, the pass-rate trend, the zio latency heatmap of one
 * test when probes recorded it, and a link to every artifact. The chart library is inlined (the
 * caller hands its source in), so the file opens with no network; the data the charts draw is
 * embedded as JSON and read back by a small script.
 */
export interface HtmlReportInput {
  matrix: MatrixReport;
  generatedAt: string;
  run: { id: string; status: string; startedAt: string; endedAt?: string; selection: string };
  flavors: readonly { id: string; kernel: string; openzfsVersion: string; hostId?: string }[];
  /** Each passing test of the run against the same flavor's earlier runs. */
  durations: readonly DurationPoint[];
  /** Pass rate of the last runs of each flavor, oldest first. */
  trend: readonly { flavorId: string; points: readonly { runId: string; startedAt: string; passRate: number }[] }[];
  heatmap: LatencyHeatmap | { missing: string };
  artifacts: readonly { flavorId: string; shard: number; name: string; url: string }[];
}

export interface DurationPoint {
  flavorId: string;
  testId: string;
  seconds: number;
  medianSeconds?: number;
  samples: number;
}

/** Latency histogram counts of one test on one flavor, per time step: `counts[step][bucket]`. */
export interface LatencyHeatmap {
  testId: string;
  flavorId: string;
  /** Upper bounds of the buckets, in seconds. */
  bucketsSeconds: readonly number[];
  steps: readonly string[];
  counts: readonly (readonly number[])[];
}

const STATE_LABEL: Record<CellState, string> = {
  pass: 'PASS',
  skip: 'SKIP',
  unexpected: 'FAIL',
  expected: 'known',
  flaky: 'flaky',
  infra: 'infra',
  crash: 'CRASH',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** JSON that is safe inside a <script> element: no `<` can close it or open a comment. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A library's source inside <script>: the one sequence that would end the element early is broken up. */
function inlineScript(source: string): string {
  return source.replace(/<\/script/gi, '<\\/script');
}

function matrixTable(report: MatrixReport): string {
  const head = `<tr><th>test</th>${report.flavors.map((f) => `<th>${escapeHtml(f)}</th>`).join('')}</tr>`;
  const rows = report.rows.map((row) => {
    const cells = report.flavors.map((flavor) => {
      const cell = row.cells[flavor];
      if (cell === undefined) return `<td class="cell not-run" data-flavor="${escapeHtml(flavor)}" data-outcome="not-run">not run</td>`;
      const state = cellState(cell);
      const title = [cell.outcome, cell.classification, cell.reason, cell.infraError].filter((x): x is string => x !== undefined).join(' · ');
      const issue = cell.issueUrl === undefined ? '' : ` <a href="${escapeHtml(cell.issueUrl)}">${escapeHtml(issueLabel(cell.issueUrl))}</a>`;
      const reran = cell.reran === true ? ' <span class="reran">re-run</span>' : '';
      return `<td class="cell ${state}" data-flavor="${escapeHtml(flavor)}" data-outcome="${cell.outcome}" data-state="${state}" title="${escapeHtml(title)}">${STATE_LABEL[state]}${reran}${issue}</td>`;
    });
    return `<tr data-test="${escapeHtml(row.testId)}"><th class="test">${escapeHtml(row.testId)}</th>${cells.join('')}</tr>`;
  });
  return `<table id="matrix">${head}${rows.join('')}</table>`;
}

function totalsLine(report: MatrixReport): string {
  const { all } = matrixTotals(report);
  return `${all.tests} tests, ${all.results} results: ${all.pass} passed, ${all.unexpected} failed unexpectedly, ${all.expected} known failures, ${all.flaky} flaky, ${all.infra} infrastructure, ${all.crash} crashed the guest, ${all.skip} skipped`;
}

function durationTable(durations: readonly DurationPoint[]): string {
  if (durations.length === 0) return '<p class="none">No passing test of this run has an earlier run of the same flavor to compare with.</p>';
  const rows = [...durations]
    .sort((a, b) => b.seconds - (b.medianSeconds ?? b.seconds) - (a.seconds - (a.medianSeconds ?? a.seconds)))
    .map((d) => {
      const change = d.medianSeconds === undefined || d.medianSeconds === 0 ? '–' : `${(((d.seconds - d.medianSeconds) / d.medianSeconds) * 100).toFixed(0)} %`;
      return `<tr><td>${escapeHtml(d.flavorId)}</td><td>${escapeHtml(d.testId)}</td><td>${d.seconds.toFixed(1)}</td><td>${d.medianSeconds === undefined ? '–' : d.medianSeconds.toFixed(1)}</td><td>${change}</td><td>${d.samples}</td></tr>`;
    });
  return `<table id="durations"><tr><th>flavor</th><th>test</th><th>seconds</th><th>median before</th><th>change</th><th>earlier runs</th></tr>${rows.join('')}</table>`;
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d1d1f; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; } th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
th.test { font-weight: normal; font-family: ui-monospace, monospace; }
td.cell { text-align: center; font-weight: 600; }
td.pass { background: #c8efc8; } td.skip { background: #e6e6e6; color: #555; } td.unexpected { background: #f4a6a6; }
td.expected { background: #f8e3a0; } td.flaky { background: #f9cf8f; } td.infra { background: #c9c3f0; } td.crash { background: #7a1f1f; color: #fff; } td.not-run { color: #999; font-weight: normal; }
.reran { font-size: .8em; font-weight: normal; } .chart { width: 100%; max-width: 1100px; height: 320px; }
.none { color: #666; font-style: italic; }
`;

/** The report as one HTML document; `chartLibrary` is the source of the ECharts build to inline. */
export function renderHtmlReport(input: HtmlReportInput, chartLibrary: string): string {
  const { matrix, run } = input;
  const data = { durations: input.durations, trend: input.trend, heatmap: 'missing' in input.heatmap ? null : input.heatmap };
  const flavorRows = input.flavors
    .map(
      (f) =>
        `<tr><td>${escapeHtml(f.id)}</td><td>${escapeHtml(f.kernel)}</td><td>${escapeHtml(f.openzfsVersion)}</td><td>${escapeHtml(f.hostId ?? '–')}</td></tr>`,
    )
    .join('');
  const links = (matrix.links ?? []).map((l) => `<li><a href="${escapeHtml(l.url)}">${escapeHtml(l.label)}</a></li>`).join('');
  const artifacts = input.artifacts
    .map((a) => `<li><a class="artifact" href="${escapeHtml(a.url)}">${escapeHtml(`${a.flavorId} shard ${a.shard}: ${a.name}`)}</a></li>`)
    .join('');
  const heatmap =
    'missing' in input.heatmap
      ? `<p class="none" id="heatmap-missing">${escapeHtml(input.heatmap.missing)}</p>`
      : `<p id="heatmap-title">${escapeHtml(`${input.heatmap.testId} on ${input.heatmap.flavorId}`)}</p><div id="heatmap" class="chart"></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(matrix.title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(matrix.title)}</h1>
<p id="run" data-status="${escapeHtml(run.status)}">Run <code>${escapeHtml(run.id)}</code> (${escapeHtml(run.selection)}): <strong>${escapeHtml(run.status)}</strong>, started ${escapeHtml(run.startedAt)}${run.endedAt === undefined ? '' : `, ended ${escapeHtml(run.endedAt)}`}. Report written ${escapeHtml(input.generatedAt)}.</p>
<table id="flavors"><tr><th>flavor</th><th>kernel</th><th>OpenZFS</th><th>host</th></tr>${flavorRows}</table>
${links === '' ? '' : `<ul id="links">${links}</ul>`}
<h2>Matrix</h2>
<p id="totals">${escapeHtml(totalsLine(matrix))}</p>
${matrixTable(matrix)}
<h2>Diagnosis</h2>
${matrix.diagnoses.length === 0 ? '<p class="none">Nothing failed unexpectedly.</p>' : `<ul id="diagnoses">${matrix.diagnoses.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>`}
<h2>Durations against history</h2>
<div id="duration-chart" class="chart"></div>
${durationTable(input.durations)}
<h2>Pass-rate trend</h2>
<div id="trend" class="chart"></div>
<h2>zio latency</h2>
${heatmap}
<h2>Artifacts</h2>
${artifacts === '' ? '<p class="none">No artifacts recorded for this run.</p>' : `<ul id="artifacts">${artifacts}</ul>`}
<script type="application/json" id="zfslab-data">${scriptJson(data)}</script>
<script>${inlineScript(chartLibrary)}</script>
<script>${CHARTS_SCRIPT}</script>
</body></html>
`;
}

/**
 * Draws the charts from the embedded data with the SVG renderer (crisp when printed, and countable
 * by a browser test). Sets `data-rendered` on each chart element once drawn.
 */
const CHARTS_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('zfslab-data').textContent);
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: 'svg' });
    chart.setOption(Object.assign({ animation: false, tooltip: { trigger: 'axis' } }, option));
    el.setAttribute('data-rendered', 'true');
  }
  var durations = data.durations.filter(function (d) { return d.medianSeconds !== undefined; });
  draw('duration-chart', {
    legend: { data: ['this run', 'median before'] },
    xAxis: { type: 'category', data: durations.map(function (d) { return d.flavorId + ' ' + d.testId.split('/').pop(); }), axisLabel: { rotate: 45, fontSize: 9 } },
    yAxis: { type: 'value', name: 'seconds' },
    grid: { bottom: 120 },
    series: [
      { name: 'this run', type: 'bar', data: durations.map(function (d) { return d.seconds; }) },
      { name: 'median before', type: 'bar', data: durations.map(function (d) { return d.medianSeconds; }) }
    ]
  });
  draw('trend', {
    legend: { data: data.trend.map(function (t) { return t.flavorId; }) },
    xAxis: { type: 'time' },
    yAxis: { type: 'value', min: 0, max: 1, axisLabel: { formatter: function (v) { return Math.round(v * 100) + ' %'; } } },
    series: data.trend.map(function (t) {
      return { name: t.flavorId, type: 'line', showSymbol: true, data: t.points.map(function (p) { return [p.startedAt, p.passRate]; }) };
    })
  });
  if (data.heatmap) {
    var h = data.heatmap, cells = [], max = 0;
    // Empty cells stay blank: only the buckets where zios fell are coloured.
    h.counts.forEach(function (row, x) { row.forEach(function (n, y) { if (n > 0) cells.push([x, y, n]); if (n > max) max = n; }); });
    function round(v) { return Number(v.toPrecision(3)); }
    draw('heatmap', {
      tooltip: {},
      xAxis: { type: 'category', data: h.steps },
      yAxis: { type: 'category', name: 'zio lifetime ≤', data: h.bucketsSeconds.map(function (s) { return s < 1e-3 ? round(s * 1e6) + ' µs' : s < 1 ? round(s * 1e3) + ' ms' : round(s) + ' s'; }) },
      visualMap: { min: 0, max: max || 1, calculable: true, orient: 'horizontal', left: 'center', bottom: 0 },
      grid: { bottom: 80 },
      series: [{ type: 'heatmap', data: cells }]
    });
  }
})();
`;
