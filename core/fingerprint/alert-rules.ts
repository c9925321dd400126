import { stringify } from 'yaml';
import type { Fingerprint } from './schema.js';

/**
 * Prometheus alert rules for kernel-function latency drift (the second trigger), one rule per function
 * in the baseline: fire when the live p99 exceeds the baseline p99 plus the tolerance for `for`.
 *
 * The metric is a histogram in base units, named the way pdf/zfs_exporter names its own (`_seconds`, no
 * run ids in labels): `zfslab_kernel_function_duration_seconds_bucket{function="zio_done", le="…"}`, to
 * be exported by a probe exporter (not part of zfslab yet) from the same kprobe/kretprobe timing the
 * capture uses.
 */
export const KFUNC_DURATION_METRIC = 'zfslab_kernel_function_duration_seconds';
export const LATENCY_ALERT_NAME = 'ZfslabKernelFunctionLatencyDrift';

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleFile {
  groups: { name: string; rules: AlertRule[] }[];
}

export interface AlertRuleOptions {
  /** Relative p99 increase tolerated (0.1 = 10%). */
  tolerance: number;
  /** Label value naming the workload (kept short; no run ids). */
  workload: string;
  /** How long the p99 must stay above the threshold. */
  for?: string;
  /** Rate window. */
  window?: string;
  severity?: string;
}

export class AlertRuleError extends Error {
  override name = 'AlertRuleError';
}

export function latencyAlertRules(baseline: Fingerprint, options: AlertRuleOptions): RuleFile {
  const coverage = baseline.capture.sections.kfunc_latency_p99_us;
  if (coverage.status === 'not_captured') {
    throw new AlertRuleError(`the baseline has no kernel-function latency to alert on (not captured: ${coverage.reason})`);
  }
  const functions = Object.entries(baseline.kfunc_latency_p99_us);
  if (functions.length === 0) throw new AlertRuleError('the baseline has an empty kernel-function latency section');
  if (!/^[a-zA-Z0-9_.-]+$/.test(options.workload)) throw new AlertRuleError(`workload label ${options.workload} must be [a-zA-Z0-9_.-]+`);
  const window = options.window ?? '5m';
  const rules = functions.map(([func, p99Us]): AlertRule => {
    const baselineSeconds = p99Us / 1e6;
    const threshold = thresholdSeconds(p99Us, options.tolerance);
    return {
      alert: LATENCY_ALERT_NAME,
      expr: `histogram_quantile(0.99, sum by (le, function) (rate(${KFUNC_DURATION_METRIC}_bucket{function="${func}"}[${window}]))) > ${threshold}`,
      for: options.for ?? '5m',
      // `function` is also in the expression's result; naming it here keeps the rules distinct for promtool's lint.
      labels: { severity: options.severity ?? 'warning', workload: options.workload, function: func },
      annotations: {
        summary: `{{ $labels.function }} p99 above the ${options.workload} fingerprint`,
        description: `p99 of {{ $labels.function }} is above ${threshold} s: baseline ${baselineSeconds} s plus ${Math.round(options.tolerance * 100)}% tolerance`,
      },
    };
  });
  return { groups: [{ name: `zfslab-fingerprint-${options.workload}`, rules }] };
}

/** Baseline p99 (µs) plus tolerance, in seconds, rounded to 9 significant digits so the rule text is stable. */
export function thresholdSeconds(p99Us: number, tolerance: number): number {
  return Number(((p99Us * (1 + tolerance)) / 1e6).toPrecision(9));
}

export function ruleFileYaml(rules: RuleFile): string {
  return stringify(rules, { lineWidth: 0 });
}

/**
 * A `promtool test rules` file for the rules: per function, one case where the p99 sits far above the
 * threshold (the alert must fire, with exactly these labels and annotations) and one where it sits below
 * half the threshold (nothing may fire).
 */
export function latencyAlertRuleTests(rules: RuleFile, ruleFileName: string): unknown {
  const rendered = (rule: AlertRule, func: string) =>
    Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, v.replaceAll('{{ $labels.function }}', func)]));
  const tests = rules.groups.flatMap((group) =>
    group.rules.map((rule) => {
      const func = /function="([^"]+)"/.exec(rule.expr)?.[1];
      const threshold = Number(/> ([0-9.e+-]+)$/.exec(rule.expr)?.[1]);
      if (!func || !Number.isFinite(threshold)) throw new AlertRuleError(`not a latency rule: ${rule.expr}`);
      const series = (le: string, perMinute: number) => ({
        series: `${KFUNC_DURATION_METRIC}_bucket{function="${func}",le="${le}"}`,
        values: `0+${perMinute}x30`,
      });
      const low = String(threshold / 2);
      const high = String(threshold * 4);
      return [
        {
          // Every observation between threshold/2 and 4×threshold: p99 ≈ 3.97×threshold.
          interval: '1m',
          input_series: [series(low, 0), series(high, 100), series('+Inf', 100)],
          alert_rule_test: [
            {
              eval_time: '20m',
              alertname: rule.alert,
              exp_alerts: [{ exp_labels: { ...rule.labels, function: func }, exp_annotations: rendered(rule, func) }],
            },
          ],
        },
        {
          // Every observation below threshold/2: p99 < threshold/2, nothing fires.
          interval: '1m',
          input_series: [series(low, 100), series(high, 100), series('+Inf', 100)],
          alert_rule_test: [{ eval_time: '20m', alertname: rule.alert, exp_alerts: [] }],
        },
      ];
    }),
  );
  return { rule_files: [ruleFileName], evaluation_interval: '1m', tests: tests.flat() };
}
