import { describe, expect, it } from 'vitest';
import { parseStoreUrl } from '../../../lib/store/index.js';
import { UsageError } from '../../../lib/errors.js';
import { sqliteEngine } from '../../support/store/engines.js';
import { hostRegistrySuite } from '../../support/store/host-registry-suite.js';
import { learnedBaselinesSuite } from '../../support/store/learned-baselines-suite.js';
import { resultsStoreSuite } from '../../support/store/results-store-suite.js';

describe('parseStoreUrl', () => {
  it('reads sqlite and postgres URLs and rejects anything else', () => {
    expect(parseStoreUrl('sqlite:/var/lib/zfslab/results.db')).toEqual({ dialect: 'sqlite', target: '/var/lib/zfslab/results.db' });
    expect(parseStoreUrl('sqlite:data/r.db', '/srv')).toEqual({ dialect: 'sqlite', target: '/srv/data/r.db' });
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', target: ':memory:' });
    expect(parseStoreUrl('postgresql://u@db:5432/zfslab').dialect).toBe('postgres');
    expect(() => parseStoreUrl('mysql://x/y')).toThrow(UsageError);
  });
});

// The same suite runs on PostgreSQL in test/integration/store/postgres-store.test.ts.
resultsStoreSuite(sqliteEngine());
hostRegistrySuite(sqliteEngine());
learnedBaselinesSuite(sqliteEngine());
