import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_init.js';
import * as m0002 from './0002_infra_errors_and_artifacts.js';
import * as m0003 from './0003_result_reason.js';
import * as m0007 from './0007_host_registry.js';
import * as m0008 from './0008_crash_results.js';
import * as m0009 from './0009_result_classes.js';
import * as m0010 from './0010_learned_baselines.js';
import * as m0011 from './0011_run_golden.js';
import * as m0012 from './0012_test_probes.js';

/**
 * Migrations are compiled into the program (not read from a folder at run time), so dist/ and
 * the tests apply exactly the same list. Names sort in the order they must run; never rename one.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_init': m0001,
  '0002_infra_errors_and_artifacts': m0002,
  '0003_result_reason': m0003,
  '0007_host_registry': m0007,
  '0008_crash_results': m0008,
  '0009_result_classes': m0009,
  '0010_learned_baselines': m0010,
  '0011_run_golden': m0011,
  '0012_test_probes': m0012,
};

export const LATEST_MIGRATION = '0012_test_probes';

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};
