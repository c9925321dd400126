import { parseBaseline, type Baseline } from './schema.js';
import zts21 from './zts-2.1.json' with { type: 'json' };
import zts22 from './zts-2.2.json' with { type: 'json' };
import zts23 from './zts-2.3.json' with { type: 'json' };
import zts24 from './zts-2.4.json' with { type: 'json' };

export { parseBaseline, type Baseline, type BaselineEntry, type BaselinePlatform } from './schema.js';

/** The shipped baselines, by release series; each from the newest upstream tag of its series. */
const SHIPPED: Readonly<Record<string, unknown>> = { '2.1': zts21, '2.2': zts22, '2.3': zts23, '2.4': zts24 };

export function shippedSeries(): string[] {
  return Object.keys(SHIPPED);
}

/**
 * The release series (`major.minor`) of an OpenZFS version string as tools and packages print it:
 * `2.3.9`, `zfs-2.1.11-1`, `2.3.2-2~bpo12+2`, `zfs-kmod-2.2.4-1`, `2.4.99-1_g1234abc`. Undefined when
 * the string holds no version.
 */
export function seriesOf(version: string): string | undefined {
  const m = /(?:^|[^\d.])(\d+)\.(\d+)(?:\.\d+)?/.exec(version.trim());
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** The shipped baseline for an OpenZFS version, or undefined when we ship none for its series. */
export function baselineFor(version: string): Baseline | undefined {
  const series = seriesOf(version);
  if (series === undefined) return undefined;
  const data = SHIPPED[series];
  if (data === undefined) return undefined;
  return parseBaseline(data);
}
