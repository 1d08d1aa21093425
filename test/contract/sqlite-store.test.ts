import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openSqliteStore } from '../../src/store/index.js';
import { registryStoreContract } from './registry-store.contract.js';

registryStoreContract('SQLite in memory', () => openSqliteStore({ file: ':memory:' }));

const dir = mkdtempSync(join(tmpdir(), 'certgate-store-'));
const file = join(dir, 'registry.db');
after(() => rmSync(dir, { recursive: true, force: true }));

registryStoreContract('SQLite file', () => openSqliteStore({ file }), { persistent: true });

describe('openSqliteStore', () => {
  it('sets WAL, synchronous=FULL, foreign keys and a busy timeout on a file database', async () => {
    const store = await openSqliteStore({ file });
    try {
      const pragma = async (name: string): Promise<unknown> => {
        const { rows } = await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(store.db);
        return Object.values(rows[0] ?? {})[0];
      };
      assert.equal(await pragma('journal_mode'), 'wal');
      assert.equal(await pragma('synchronous'), 2); // FULL
      assert.equal(await pragma('foreign_keys'), 1);
      assert.equal(await pragma('busy_timeout'), 5000);
    } finally {
      await store.close();
    }
  });

  it('migrating an already migrated database is a no-op', async () => {
    const a = await openSqliteStore({ file });
    await a.close();
    const b = await openSqliteStore({ file });
    try {
      const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(b.db);
      assert.deepEqual(rows.map((r) => r.name), ['0001-initial']);
    } finally {
      await b.close();
    }
  });
});
