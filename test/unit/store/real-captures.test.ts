import { sqliteEngine } from '../../support/store/engines.js';
import { realCapturesSuite } from '../../support/store/real-captures-suite.js';

// The same suite runs on PostgreSQL in test/integration/store/postgres-store.test.ts.
realCapturesSuite(sqliteEngine());
