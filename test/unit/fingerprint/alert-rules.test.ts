import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { AlertRuleError, latencyAlertRules, latencyAlertRuleTests, ruleFileYaml, thresholdSeconds } from '../../../core/fingerprint/alert-rules.js';
import { fixture } from './fixtures.js';
import { replayCapture, withLatency } from './replay.js';

// promtool comes with Debian's prometheus package (infra/host-packages.txt).
const promtool = spawnSync('promtool', ['--version']).status === 0;

function writeRules(rules: ReturnType<typeof latencyAlertRules>, tests: unknown): { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'zfslab-alert-rules-'));
  writeFileSync(join(dir, 'rules.yml'), ruleFileYaml(rules));
  writeFileSync(join(dir, 'rules.test.yml'), stringify(tests, { lineWidth: 0 }));
  return { dir };
}

describe('latency alert rules', () => {
  const baseline = withLatency(1);
  const rules = latencyAlertRules(baseline, { tolerance: 0.1, workload: 'zts-sanity' });

  it('has one rule per function, threshold = baseline p99 + tolerance, in seconds', () => {
    const rule = rules.groups[0]!.rules.find((r) => r.expr.includes('function="read"'))!;
    const p99 = baseline.kfunc_latency_p99_us.read!;
    expect(rule.expr).toBe(
      `histogram_quantile(0.99, sum by (le, function) (rate(zfslab_kernel_function_duration_seconds_bucket{function="read"}[5m]))) > ${thresholdSeconds(p99, 0.1)}`,
    );
    expect(thresholdSeconds(p99, 0.1)).toBeCloseTo((p99 * 1.1) / 1e6, 12);
    expect(rule.labels).toEqual({ severity: 'warning', workload: 'zts-sanity', function: 'read' });
    expect(rules.groups[0]!.rules).toHaveLength(Object.keys(baseline.kfunc_latency_p99_us).length);
  });

  it.runIf(promtool)('pass promtool check rules', () => {
    const { dir } = writeRules(rules, latencyAlertRuleTests(rules, 'rules.yml'));
    const out = execFileSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: 2 rules found/);
  });

  it.runIf(promtool)('fire in a promtool test rules case above the threshold and stay quiet below it', () => {
    const { dir } = writeRules(rules, latencyAlertRuleTests(rules, 'rules.yml'));
    const result = spawnSync('promtool', ['test', 'rules', join(dir, 'rules.test.yml')], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
  });

  it.runIf(promtool)('the promtool test fails when the alert cannot fire (the case is not vacuous)', () => {
    const tests = latencyAlertRuleTests(rules, 'rules.yml');
    const deaf = latencyAlertRules(withLatency(1000), { tolerance: 0.1, workload: 'zts-sanity' });
    const { dir } = writeRules(deaf, tests);
    const result = spawnSync('promtool', ['test', 'rules', join(dir, 'rules.test.yml')], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/FAILED/);
  });

  it('refuses a baseline without latency, saying why', () => {
    const noLatency = replayCapture(fixture('capture', 'raw-capture.jsonl'));
    expect(() => latencyAlertRules(noLatency, { tolerance: 0.1, workload: 'x' })).toThrow(AlertRuleError);
    expect(() => latencyAlertRules(noLatency, { tolerance: 0.1, workload: 'x' })).toThrow(/kprobes unavailable/);
  });
});
