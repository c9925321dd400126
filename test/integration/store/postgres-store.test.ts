import { postgresEngine } from '../../support/store/engines.js';
import { historyQueriesSuite } from '../../support/store/history-queries-suite.js';
import { realCapturesSuite } from '../../support/store/real-captures-suite.js';
import { hostRegistrySuite } from '../../support/store/host-registry-suite.js';
import { learnedBaselinesSuite } from '../../support/store/learned-baselines-suite.js';
import { resultsStoreSuite } from '../../support/store/results-store-suite.js';

// The store suites of test/unit/store on a real PostgreSQL server (a throwaway cluster per suite),
// here because starting one needs the PostgreSQL binaries and takes seconds: the unit project
// runs them on SQLite only.
resultsStoreSuite(postgresEngine());
historyQueriesSuite(postgresEngine());
realCapturesSuite(postgresEngine());
hostRegistrySuite(postgresEngine());
learnedBaselinesSuite(postgresEngine());
