import { describe, expect, it } from 'vitest';
import { fleetStoreProblem, redactStoreUrl, validateConfig } from '../../../lib/config.js';

const env = (extra: Record<string, string>): NodeJS.ProcessEnv => ({ ZFSLAB_CONFIG: '', ZFSLAB_STATE_DIR: '/tmp/zfslab-fleet-store', ...extra });

describe('fleetStoreProblem', () => {
  it('accepts the embedded default and a worker on this machine’s own Temporal with SQLite', () => {
    expect(fleetStoreProblem(validateConfig({}, env({})))).toBeUndefined();
    expect(fleetStoreProblem(validateConfig({}, env({ ZFSLAB_TEMPORAL_EMBEDDED: 'false', ZFSLAB_TEMPORAL_ADDRESS: '127.0.0.1:7233' })))).toBeUndefined();
  });

  it('refuses a fleet worker (Temporal elsewhere) on a local SQLite file, naming the key and what to set', () => {
    const problem = fleetStoreProblem(validateConfig({}, env({ ZFSLAB_TEMPORAL_EMBEDDED: 'false', ZFSLAB_TEMPORAL_ADDRESS: 'stack.lab:7233' })));
    expect(problem).toMatch(/^store\.url: got "sqlite:\/tmp\/zfslab-fleet-store\/results\.db", expected postgres:\/\/…/);
    expect(problem).toContain('Temporal stack.lab:7233');
    expect(problem).toContain('ZFSLAB_STORE_URL');
  });

  it('accepts a fleet worker on the shared PostgreSQL', () => {
    const loaded = validateConfig(
      {},
      env({ ZFSLAB_TEMPORAL_EMBEDDED: 'false', ZFSLAB_TEMPORAL_ADDRESS: '10.77.0.1:7233', ZFSLAB_STORE_URL: 'postgres://zfslab:pw@db.lab:5432/zfslab' }),
    );
    expect(fleetStoreProblem(loaded)).toBeUndefined();
  });
});

describe('redactStoreUrl', () => {
  it('hides a postgres password and leaves everything else as it is', () => {
    expect(redactStoreUrl('postgres://zfslab:s3cret@db.lab:5432/zfslab')).toBe('postgres://zfslab:***@db.lab:5432/zfslab');
    expect(redactStoreUrl('postgres://zfslab@db.lab/zfslab')).toBe('postgres://zfslab@db.lab/zfslab');
    expect(redactStoreUrl('sqlite:/srv/results.db')).toBe('sqlite:/srv/results.db');
  });
});

describe('health cadence', () => {
  it('takes every N hours and every N jobs, and names a bad value', () => {
    expect(validateConfig({ health: { everyHours: 24, everyJobs: 50 } }, env({})).config.health).toEqual({ everyHours: 24, everyJobs: 50 });
    expect(validateConfig({}, env({})).config.health).toEqual({});
    expect(() => validateConfig({ health: { everyJobs: 0 } }, env({}))).toThrow(/health\.everyJobs/);
  });
});
