import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import { migrateToLatest } from '../sql/migrate-to-latest.js';
import type { Database } from '../sql/schema.js';
import { SqlRegistryStore } from '../sql/sql-registry-store.js';
import { ImmediateSqliteDialect } from './immediate-sqlite-dialect.js';
import { sqliteDialectTraits } from './sqlite-dialect-traits.js';

export interface SqliteStoreOptions {
  /** Database file path, or ':memory:'. */
  readonly file: string;
}

/**
 * Open (creating if needed) the SQLite registry database, migrate it, and return the store.
 * WAL lets several processes share the file (server + CLI); synchronous=FULL makes every commit durable
 * before the call resolves; busy_timeout waits for another process's write lock instead of failing.
 * Open one store per process: two connections in one process would block each other's event loop.
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqlRegistryStore> {
  const sqlite = new BetterSqlite3(options.file);
  try {
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
  } catch (e) {
    sqlite.close();
    throw e;
  }
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
  try {
    await migrateToLatest(db);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return new SqlRegistryStore(db, sqliteDialectTraits);
}
