/** Levenshtein distance (insert, delete, substitute each cost 1), by code unit. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitute);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The `count` candidates closest to `input`. A candidate may be compared in several spellings (e.g. a
 * test's full id, its path after functional/, its bare name); its distance is the smallest. Ties go
 * to the alphabetically first label, so the answer is stable.
 */
export function nearestMatches(input: string, candidates: readonly { label: string; spellings: readonly string[] }[], count = 3): string[] {
  const scored = new Map<string, number>();
  for (const { label, spellings } of candidates) {
    const distance = Math.min(...spellings.map((spelling) => editDistance(input, spelling)));
    const known = scored.get(label);
    if (known === undefined || distance < known) scored.set(label, distance);
  }
  return [...scored]
    .sort(([labelA, a], [labelB, b]) => a - b || (labelA < labelB ? -1 : labelA > labelB ? 1 : 0))
    .slice(0, count)
    .map(([label]) => label);
}
