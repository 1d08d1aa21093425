import { CompiledQuery, SqliteDialect, SqliteDriver } from 'kysely';
import type { DatabaseConnection, Driver } from 'kysely';

/**
 * Kysely's SQLite driver opens transactions with a deferred `begin`: a transaction that reads and then
 * writes fails with SQLITE_BUSY (which busy_timeout does not retry) when another process committed in
 * between, e.g. the CLI's `accounts create` while the server runs. `begin immediate` takes the write
 * lock up front, waiting up to busy_timeout for it, so transactions across processes simply queue.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];

  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}
