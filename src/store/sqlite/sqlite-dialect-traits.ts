import type { SqlDialectTraits } from '../sql/sql-dialect-traits.js';

const UNIQUE_CODES: ReadonlySet<string> = new Set(['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE']);

/** better-sqlite3 reports the extended result code as `error.code`. */
export const sqliteDialectTraits: SqlDialectTraits = {
  isUniqueViolation(error: unknown): boolean {
    if (typeof error !== 'object' || error === null || !('code' in error)) return false;
    return typeof error.code === 'string' && UNIQUE_CODES.has(error.code);
  },
};
