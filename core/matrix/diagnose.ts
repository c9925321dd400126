import { z } from 'zod';
import type { FlavorMeta, Matrix, MatrixRow } from './matrix.js';
import { compareVersions, kernelSeries, parseOpenzfsVersion } from './versions.js';
import type { VersionTriple } from './versions.js';

/**
 * How a person reads the matrix by hand, done for every test that failed unexpectedly somewhere:
 * - fails on one flavor only, passes on the others → a distro patch or packaging difference;
 * - fails on exactly the flavors at OpenZFS >= X, passes on every flavor below → an upstream
 *   regression candidate introduced at X;
 * - fails on exactly the flavors whose kernel is series K → a kernel API change;
 * - fails on every flavor → the test itself or the test environment;
 * - anything else → unclear.
 * The pattern is read from outcomes: FAIL/KILLED is failing (a known or flaky failure elsewhere is still
 * a failure there), PASS is passing, and SKIP or no result at all is no evidence — a flavor where the
 * test was skipped or never ran does not count as passing. A verdict needs every flavor to have
 * evidence; otherwise the verdict is `unclear` and `consistentWith` lists what the evidence allows.
 */
export const VerdictSchema = z.enum(['distro-patch-or-packaging', 'upstream-regression-candidate', 'kernel-api-change', 'test-or-environment', 'unclear']);
export type Verdict = z.infer<typeof VerdictSchema>;

export interface Diagnosis {
  testId: string;
  group: string;
  verdict: Verdict;
  failing: string[];
  passing: string[];
  noEvidence: { flavor: string; why: 'skipped' | 'not-run' }[];
  /** distro-patch-or-packaging: the one failing flavor. */
  flavor?: string;
  /** upstream-regression-candidate: X, the lowest failing OpenZFS version, and the newest passing one. */
  firstFailingVersion?: string;
  lastPassingVersion?: string;
  /** kernel-api-change: the kernel series, e.g. `6.12`. */
  kernelSeries?: string;
  /** Other verdicts the same pattern fits exactly (one failing flavor that is also alone on its kernel …). */
  alsoFits: Verdict[];
  /** For `unclear` with missing evidence: verdicts the known results allow. */
  consistentWith: Verdict[];
  explanation: string;
}

export function diagnoseMatrix(matrix: Matrix): Diagnosis[] {
  return matrix.rows.flatMap((row) => {
    const diagnosis = diagnoseRow(row, matrix.flavors);
    return diagnosis ? [diagnosis] : [];
  });
}

interface Candidate {
  verdict: Exclude<Verdict, 'unclear'>;
  /** Every flavor has evidence and the failing set is exactly the predicted one. */
  exact: boolean;
  /** The known results do not contradict it. */
  consistent: boolean;
  details: Partial<Diagnosis>;
  text: string;
}

/** Undefined when nothing failed unexpectedly in the row. */
export function diagnoseRow(row: MatrixRow, flavors: readonly FlavorMeta[]): Diagnosis | undefined {
  const cells = flavors.map((flavor) => ({ flavor, cell: row.cells[flavor.id] ?? { ran: false as const } }));
  if (!cells.some(({ cell }) => cell.ran && cell.classification === 'unexpected-fail')) return undefined;

  const failing = cells.filter(({ cell }) => cell.ran && (cell.outcome === 'FAIL' || cell.outcome === 'KILLED')).map((c) => c.flavor);
  const passing = cells.filter(({ cell }) => cell.ran && cell.outcome === 'PASS').map((c) => c.flavor);
  const noEvidence = cells
    .filter(({ cell }) => !cell.ran || cell.outcome === 'SKIP')
    .map(({ flavor, cell }) => ({ flavor: flavor.id, why: cell.ran ? ('skipped' as const) : ('not-run' as const) }));
  const complete = noEvidence.length === 0;
  const candidates = [
    distroCandidate(failing, passing, complete),
    upstreamCandidate(failing, passing, flavors, complete),
    kernelCandidate(failing, passing, flavors, complete),
    everywhereCandidate(failing, passing, complete),
  ].filter((c): c is Candidate => c !== undefined);

  const exact = candidates.filter((c) => c.exact);
  const base = {
    testId: row.testId,
    group: row.group,
    failing: failing.map((f) => f.id),
    passing: passing.map((f) => f.id),
    noEvidence,
  };
  const [chosen, ...others] = exact;
  if (chosen) {
    const also = others.length ? `; the same pattern also fits: ${others.map((o) => o.text).join('; ')}` : '';
    return {
      ...base,
      verdict: chosen.verdict,
      ...chosen.details,
      alsoFits: others.map((o) => o.verdict),
      consistentWith: [],
      explanation: chosen.text + also,
    };
  }
  const consistent = candidates.filter((c) => c.consistent);
  return {
    ...base,
    verdict: 'unclear',
    alsoFits: [],
    consistentWith: consistent.map((c) => c.verdict),
    explanation: unclearText(failing, passing, noEvidence, flavors.length, consistent),
  };
}

function distroCandidate(failing: FlavorMeta[], passing: FlavorMeta[], complete: boolean): Candidate | undefined {
  const [only] = failing;
  if (failing.length !== 1 || !only || passing.length === 0) return undefined;
  return {
    verdict: 'distro-patch-or-packaging',
    exact: complete,
    consistent: true,
    details: { flavor: only.id },
    text: `fails only on ${describe(only)} and passes on ${ids(passing)}: a distro patch or packaging difference`,
  };
}

function upstreamCandidate(failing: FlavorMeta[], passing: FlavorMeta[], flavors: readonly FlavorMeta[], complete: boolean): Candidate | undefined {
  const versions = new Map(flavors.map((f) => [f.id, parseOpenzfsVersion(f.openzfsVersion)]));
  const versionOf = (f: FlavorMeta): VersionTriple | undefined => versions.get(f.id);
  if (failing.length === 0 || passing.length === 0 || ![...failing, ...passing].every((f) => versionOf(f))) return undefined;
  const lowestFailing = [...failing].sort((a, b) => compareVersions(versionOf(a)!, versionOf(b)!))[0] as FlavorMeta;
  const x = versionOf(lowestFailing)!;
  if (passing.some((f) => compareVersions(versionOf(f)!, x) >= 0)) return undefined;
  const atOrAbove = flavors.filter((f) => {
    const v = versionOf(f);
    return v !== undefined && compareVersions(v, x) >= 0;
  });
  const newestPassing = [...passing].sort((a, b) => compareVersions(versionOf(b)!, versionOf(a)!))[0] as FlavorMeta;
  const exact = complete && atOrAbove.length === failing.length && flavors.every((f) => versionOf(f));
  return {
    verdict: 'upstream-regression-candidate',
    exact,
    consistent: true,
    details: { firstFailingVersion: lowestFailing.openzfsVersion, lastPassingVersion: newestPassing.openzfsVersion },
    text:
      `fails on every flavor at OpenZFS >= ${lowestFailing.openzfsVersion} (${ids(failing)}) and passes on every one below ` +
      `(${ids(passing)}): an upstream regression candidate, introduced after ${newestPassing.openzfsVersion}, by ${lowestFailing.openzfsVersion}`,
  };
}

function kernelCandidate(failing: FlavorMeta[], passing: FlavorMeta[], flavors: readonly FlavorMeta[], complete: boolean): Candidate | undefined {
  const series = new Set(failing.map((f) => kernelSeries(f.kernel)));
  const [k] = series;
  if (failing.length === 0 || passing.length === 0 || series.size !== 1 || k === undefined) return undefined;
  if (passing.some((f) => kernelSeries(f.kernel) === k)) return undefined;
  const onSeries = flavors.filter((f) => kernelSeries(f.kernel) === k);
  return {
    verdict: 'kernel-api-change',
    exact: complete && onSeries.length === failing.length,
    consistent: true,
    details: { kernelSeries: k },
    text: `fails on every flavor with kernel ${k} (${ids(failing)}) and on no other: a kernel API change`,
  };
}

function everywhereCandidate(failing: FlavorMeta[], passing: FlavorMeta[], complete: boolean): Candidate | undefined {
  if (failing.length === 0 || passing.length > 0) return undefined;
  return {
    verdict: 'test-or-environment',
    // One failing flavor alone proves nothing about "everywhere".
    exact: complete && failing.length >= 2,
    consistent: true,
    details: {},
    text: `fails on every flavor (${ids(failing)}): the test itself or the test environment`,
  };
}

function unclearText(failing: FlavorMeta[], passing: FlavorMeta[], noEvidence: Diagnosis['noEvidence'], flavorCount: number, consistent: Candidate[]): string {
  const parts = [`fails on ${failing.map(describe).join(', ') || 'no flavor'}`];
  if (passing.length) parts.push(`passes on ${passing.map(describe).join(', ')}`);
  if (noEvidence.length) parts.push(`no result on ${noEvidence.map((n) => `${n.flavor} (${n.why})`).join(', ')}`);
  let text = parts.join('; ');
  if (flavorCount === 1) return `${text}: only one flavor in the matrix, nothing to compare with`;
  if (noEvidence.length && consistent.length) {
    text += ` — consistent with ${consistent.map((c) => c.verdict).join(' or ')}; run it where it has no result to tell`;
  } else {
    text += ': the pattern matches no single distro, OpenZFS version or kernel';
  }
  return text;
}

function describe(f: FlavorMeta): string {
  return `${f.id} (OpenZFS ${f.openzfsVersion}, kernel ${f.kernel})`;
}

function ids(flavors: readonly FlavorMeta[]): string {
  return flavors.map((f) => f.id).join(', ');
}
