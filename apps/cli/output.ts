/**
 * People-facing output. Commands write results to stdout (JSON alone with --json) and
 * diagnostics to stderr; library code never writes here, it logs through pino.
 */
export interface Output {
  readonly json: boolean;
  readonly color: boolean;
  line(text?: string): void;
  data(value: unknown): void;
  warn(text: string): void;
}

export function createOutput(options: { json: boolean }): Output {
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && !options.json;
  return {
    json: options.json,
    color,
    line: (text = '') => void process.stdout.write(text + '\n'),
    data: (value) => void process.stdout.write(JSON.stringify(value, null, 2) + '\n'),
    warn: (text) => void process.stderr.write(text + '\n'),
  };
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, dim: 2, bold: 1 } as const;
export function paint(out: Pick<Output, 'color'>, style: keyof typeof CODES, text: string): string {
  return out.color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
}

/** A left-aligned text table; columns sized to content. */
export function table(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const row of all) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))));
  const render = (row: readonly string[]) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell)))).join('  ');
  const lines = all.map(render);
  if (header) lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines.join('\n');
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
