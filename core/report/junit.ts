import { cellState } from './model.js';
import type { JUnitReport, JUnitResult, JUnitSuite } from './model.js';

/**
 * JUnit XML as GitLab, Jenkins and GitHub test reporters read it: one `<testsuite>` per flavor
 * (or flavor shard), `classname` = the ZTS group, `name` = the script. FAIL and KILLED become
 * `<failure>` whose message carries the classification and issue; an infrastructure error is an
 * `<error>` (the test did not get to fail), and so is a CRASH (`type="CRASH"`, with the crash's kind and
 * signature: the guest kernel died under the test); SKIP is `<skipped/>`.
 *
 * The output is valid against both the Jenkins `junit-4.xsd` and the stricter Windy Road
 * `JUnit.xsd` (test/fixtures/junit/), so: `<properties>` always has a property, every suite has
 * hostname and a zone-less timestamp, and `<system-out/>`/`<system-err/>` close each suite.
 */
export function renderJUnit(report: JUnitReport): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites>'];
  report.suites.forEach((suite, index) => lines.push(...renderSuite(report.runId, suite, index)));
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

function suiteName(suite: JUnitSuite): string {
  return suite.shard === undefined ? suite.flavor : `${suite.flavor}/shard-${suite.shard.index}-of-${suite.shard.count}`;
}

function renderSuite(runId: string, suite: JUnitSuite, index: number): string[] {
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  let time = 0;
  const cases: string[] = [];
  for (const result of suite.results) {
    const state = cellState(result);
    if (state === 'infra' || state === 'crash') errors++;
    else if (result.outcome === 'FAIL' || result.outcome === 'KILLED') failures++;
    else if (result.outcome === 'SKIP') skipped++;
    time += result.durationSeconds;
    cases.push(...renderCase(result));
  }
  const properties: [string, string][] = [
    ['zfslab.run', runId],
    ['zfslab.flavor', suite.flavor],
    ...(suite.shard === undefined ? [] : ([['zfslab.shard', `${suite.shard.index}/${suite.shard.count}`]] as [string, string][])),
    ...Object.entries(suite.properties ?? {}).sort(([a], [b]) => a.localeCompare(b)),
  ];
  const attrs = attributes({
    name: suiteName(suite),
    package: 'zfslab',
    id: String(index),
    hostname: suite.hostname ?? 'localhost',
    timestamp: junitTimestamp(suite.startedAt),
    tests: String(suite.results.length),
    failures: String(failures),
    errors: String(errors),
    skipped: String(skipped),
    time: seconds(time),
  });
  return [
    `  <testsuite ${attrs}>`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property ${attributes({ name, value })}/>`),
    '    </properties>',
    ...cases,
    '    <system-out/>',
    '    <system-err/>',
    '  </testsuite>',
  ];
}

function renderCase(result: JUnitResult): string[] {
  const base = result.testId.slice(result.testId.lastIndexOf('/') + 1);
  // A full run has a group's setup/cleanup twice (common.run and its linux.run section).
  // A failsafe row keyed by the test it cleaned up after (as the store keeps it) is named after both.
  const script = result.kind === 'failsafe' && !base.endsWith('failsafe') ? `${base} (failsafe)` : base;
  // A full run has a group's setup/cleanup twice (common.run and its linux.run section). Tests keep
  // their plain name, which CI tools key their history by.
  const name = result.linuxSection && result.kind !== 'test' ? `${script} (Linux)` : script;
  const open = `    <testcase ${attributes({ name, classname: result.group, time: seconds(result.durationSeconds) })}`;
  const state = cellState(result);
  if (state === 'pass') return [`${open}/>`];
  if (state === 'skip') return [`${open}>`, '      <skipped/>', '    </testcase>'];
  if (state === 'crash') {
    const message = `guest kernel crash${result.crash ? ` (${result.crash.kind}, signature ${result.crash.signature})` : ''}`;
    return [`${open}>`, `      <error ${attributes({ type: 'CRASH', message })}>${text(details(result))}</error>`, '    </testcase>'];
  }
  if (state === 'infra') {
    const message = `infrastructure error: ${result.infraError ?? ''}`;
    return [`${open}>`, `      <error ${attributes({ type: 'infra-error', message })}>${text(details(result))}</error>`, '    </testcase>'];
  }
  return [
    `${open}>`,
    `      <failure ${attributes({ type: result.outcome, message: failureMessage(result) })}>${text(details(result))}</failure>`,
    '    </testcase>',
  ];
}

/** e.g. `FAIL: expected failure (known issue https://github.com/openzfs/zfs/issues/1234)`. */
export function failureMessage(result: Pick<JUnitResult, 'outcome' | 'classification' | 'issueUrl' | 'reason' | 'reran'>): string {
  const what = result.classification === 'expected-fail' ? 'expected failure' : result.classification === 'flaky' ? 'known flaky' : 'unexpected failure';
  const why = [result.reason, result.issueUrl].filter((s): s is string => s !== undefined && s !== '');
  return `${result.outcome}: ${what}${why.length > 0 ? ` (${why.join(', ')})` : ''}${result.reran ? ', reran' : ''}`;
}

function details(result: JUnitResult): string {
  return [
    `test: ${result.testId}`,
    `outcome: ${result.outcome}${result.reran ? ' (RERAN)' : ''}`,
    `classification: ${result.classification}`,
    ...(result.issueUrl ? [`issue: ${result.issueUrl}`] : []),
    ...(result.reason ? [`reason: ${result.reason}`] : []),
    ...(result.infraError ? [`infrastructure error: ${result.infraError}`] : []),
    ...(result.crash
      ? [
          `crash: ${result.crash.kind}`,
          `crash signature: ${result.crash.signature}`,
          ...(result.crash.headline ? [`crash headline: ${result.crash.headline}`] : []),
          ...(result.crash.consoleKey ? [`console: ${result.crash.consoleKey}`] : []),
        ]
      : []),
  ].join('\n');
}

function seconds(value: number): string {
  return (Math.round(value * 1000) / 1000).toFixed(3);
}

/** `2026-04-22T03:34:17` in UTC: the Ant/Windy Road format has no zone or fraction. */
function junitTimestamp(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`renderJUnit: not an ISO timestamp: ${iso}`);
  return date.toISOString().slice(0, 19);
}

// XML 1.0 allows tab, LF, CR and most of Unicode; anything else (test output can hold it) is dropped.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function text(value: string): string {
  return value.replace(INVALID_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attributes(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}="${text(value).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;')}"`)
    .join(' ');
}
