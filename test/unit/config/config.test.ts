import { describe, expect, it } from 'vitest';
import { ConfigSchema, deriveHostId, validateConfig } from '../../../lib/config.js';
import { ConfigError } from '../../../lib/errors.js';
import { bootTimeoutMs } from '../../../core/vm/timeouts.js';

function issuesOf(fn: () => unknown): ConfigError['issues'] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('an empty config serves the embedded stack', () => {
    const { config, paths } = validateConfig({}, {});
    expect(config.temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'zfslab', embedded: true, uiPort: 8233, taskQueue: 'zfslab' });
    expect(config.s3).toMatchObject({ endpoint: 'http://127.0.0.1:9000', bucket: 'zfslab-artifacts', embedded: true });
    expect(paths.stateDir).toMatch(/\/\.zfslab$/);
    expect(paths.imageDir).toBe(`${paths.stateDir}/images`);
    expect(ConfigSchema.parse({})).toEqual(config);
  });

  it('environment overrides endpoints and credentials', () => {
    const { config } = validateConfig(
      { s3: { bucket: 'from-file' } },
      { ZFSLAB_TEMPORAL_ADDRESS: 'temporal.lab:7233', ZFSLAB_S3_SECRET_ACCESS_KEY: 'another-secret', ZFSLAB_S3_EMBEDDED: 'false' },
    );
    expect(config.temporal.address).toBe('temporal.lab:7233');
    expect(config.s3.secretAccessKey).toBe('another-secret');
    expect(config.s3.embedded).toBe(false);
    expect(config.s3.bucket).toBe('from-file');
  });

  it('names the key, the value and what was expected for each wrong value', () => {
    const issues = issuesOf(() => validateConfig({ temporal: { uiPort: 'eighty' }, s3: { bucket: 'Bad_Bucket' }, hots: {} }, {}));
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'temporal.uiPort', value: 'eighty', expected: expect.stringMatching(/number/) }),
        expect.objectContaining({ key: 's3.bucket', value: 'Bad_Bucket', expected: expect.stringMatching(/S3 bucket name/) }),
        expect.objectContaining({ key: 'hots', expected: expect.stringMatching(/no such key/) }),
      ]),
    );
  });

  it('blames the environment variable when an override is wrong', () => {
    const issues = issuesOf(() => validateConfig({}, { ZFSLAB_TEMPORAL_UI_PORT: 'x', ZFSLAB_S3_ENDPOINT: 'not a url' }));
    expect(issues.map((i) => i.key)).toEqual(
      expect.arrayContaining(['temporal.uiPort (from ZFSLAB_TEMPORAL_UI_PORT)', 's3.endpoint (from ZFSLAB_S3_ENDPOINT)']),
    );
  });

  it('message lists every issue on its own line', () => {
    try {
      validateConfig({ host: { maxVms: 0, id: 'Upper Case' } }, {});
    } catch (err) {
      expect((err as Error).message).toMatch(/host\.maxVms: got 0, expected/);
      expect((err as Error).message).toMatch(/host\.id: got "Upper Case", expected a lowercase host id/);
      return;
    }
    throw new Error('expected a ConfigError');
  });

  it('host.bootTimeoutSeconds: absent, the accelerator decides; given, it wins; too short is refused', () => {
    const { config } = validateConfig({}, {});
    expect(config.host.bootTimeoutSeconds).toBeUndefined();
    expect(bootTimeoutMs('tcg', undefined)).toBe(600_000);
    expect(bootTimeoutMs('kvm', undefined)).toBe(180_000);
    expect(validateConfig({ host: { bootTimeoutSeconds: 1200 } }, {}).config.host.bootTimeoutSeconds).toBe(1200);
    expect(bootTimeoutMs('kvm', 1_200_000)).toBe(1_200_000);
    expect(issuesOf(() => validateConfig({ host: { bootTimeoutSeconds: 5 } }, {}))).toEqual([
      expect.objectContaining({ key: 'host.bootTimeoutSeconds', value: 5, expected: expect.stringMatching(/>=\s*10/) }),
    ]);
  });

  it('run.hostWaitSeconds: 30 min by default, from the file or ZFSLAB_RUN_HOST_WAIT_SECONDS, at least 1 s', () => {
    expect(validateConfig({}, {}).config.run.hostWaitSeconds).toBe(1800);
    expect(validateConfig({ run: { hostWaitSeconds: 60 } }, {}).config.run.hostWaitSeconds).toBe(60);
    expect(validateConfig({ run: { hostWaitSeconds: 60 } }, { ZFSLAB_RUN_HOST_WAIT_SECONDS: '5' }).config.run.hostWaitSeconds).toBe(5);
    expect(issuesOf(() => validateConfig({}, { ZFSLAB_RUN_HOST_WAIT_SECONDS: 'soon' }))).toEqual([
      expect.objectContaining({ key: 'run.hostWaitSeconds (from ZFSLAB_RUN_HOST_WAIT_SECONDS)', value: 'soon' }),
    ]);
    expect(issuesOf(() => validateConfig({ run: { hostWaitSeconds: 0 } }, {}))).toEqual([expect.objectContaining({ key: 'run.hostWaitSeconds', value: 0 })]);
  });

  it('host.storage: qcow2 by default; zfs needs host.zfsDataset, from the file or the environment', () => {
    expect(validateConfig({}, {}).config.host).toMatchObject({ storage: 'qcow2' });
    expect(validateConfig({}, {}).config.host.zfsDataset).toBeUndefined();
    expect(validateConfig({ host: { storage: 'zfs', zfsDataset: 'tank/zfslab' } }, {}).config.host).toMatchObject({
      storage: 'zfs',
      zfsDataset: 'tank/zfslab',
    });
    expect(validateConfig({}, { ZFSLAB_HOST_STORAGE: 'zfs', ZFSLAB_HOST_ZFS_DATASET: 'rpool/lab' }).config.host).toMatchObject({
      storage: 'zfs',
      zfsDataset: 'rpool/lab',
    });
    const missing = issuesOf(() => validateConfig({ host: { storage: 'zfs' } }, {}));
    expect(missing).toEqual([{ key: 'host.zfsDataset', value: undefined, expected: expect.stringContaining('host.storage is zfs') }]);
    expect(issuesOf(() => validateConfig({ host: { storage: 'btrfs' } }, {}))[0]).toMatchObject({ key: 'host.storage', value: 'btrfs' });
    expect(issuesOf(() => validateConfig({ host: { storage: 'zfs', zfsDataset: 'tank/zfslab@golden' } }, {}))[0]).toMatchObject({ key: 'host.zfsDataset' });
  });

  it('derives a queue-safe host id from a hostname', () => {
    expect(deriveHostId('Lab-Box_01.example.org')).toBe('lab-box-01-example-org');
    expect(deriveHostId('___')).toBe('host');
  });
});
