export { openStore, parseStoreUrl } from './open.js';
export type { OpenStoreOptions, StoreLocation } from './open.js';
export { ResultsStore, attributeFailsafes } from './store.js';
export type { StoreDialect } from './store.js';
export { migrateStore, appliedMigrations, MigrationFailed } from './migrate.js';
export { LATEST_MIGRATION, MIGRATIONS } from './migrations/index.js';
export * from './types.js';
export type * from './history.js';
export type { RunStatus, StoreDatabase } from './schema.js';
