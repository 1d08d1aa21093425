/**
 * store: the SQL adapter implementing registry's RegistryStore port (Kysely queries and migrations in sql/,
 * one folder per dialect: sqlite/ today, postgres/ later). Imports only kernel, registry's ports and entity types;
 * never imported by the core: main/ opens a store and hands it to the registry.
 */
export { openSqliteStore } from './sqlite/open-sqlite-store.js';
export type { SqliteStoreOptions } from './sqlite/open-sqlite-store.js';
export { SqlRegistryStore } from './sql/sql-registry-store.js';
