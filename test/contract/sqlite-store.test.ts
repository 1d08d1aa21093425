import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openSqliteStore } from '../../src/store/index.js';
import { newAccountId } from '../../src/kernel/index.js';
import { registryStoreContract } from './registry-store.contract.js';
import { provisioningTemplateStoreContract } from './provisioning-template-store.contract.js';

registryStoreContract('SQLite in memory', () => openSqliteStore({ file: ':memory:' }));
provisioningTemplateStoreContract('SQLite in memory', () => openSqliteStore({ file: ':memory:' }));

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
    const first = (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(a.db)).rows.map((r) => r.name);
    await a.close();
    assert.equal(first[0], '0001-initial');
    assert.ok(first.includes('0002-provisioning-templates'));
    assert.equal(new Set(first).size, first.length);
    const b = await openSqliteStore({ file });
    try {
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(b.db);
      assert.deepEqual(rows.map((r) => r.name), first);
    } finally {
      await b.close();
    }
  });
});

describe('several processes on one file (server + CLI)', () => {
  it('writes from another process interleave with ours without SQLITE_BUSY, and are visible here', async () => {
    const storeModule = fileURLToPath(new URL('../../src/store/index.ts', import.meta.url));
    const child = join(dir, 'writer.mts');
    writeFileSync(
      child,
      [
        `import { openSqliteStore } from ${JSON.stringify(storeModule)};`,
        `const [file, prefix] = process.argv.slice(2);`,
        `const store = await openSqliteStore({ file });`,
        `for (let i = 0; i < 200; i++) {`,
        `  await store.transaction(async (tx) => {`,
        `    const n = String(i).padStart(3, '0');`,
        `    await tx.putRegistrationCode({ accountId: prefix + n, region: 'us-east-1' }, 'child-' + n);`,
        `  });`,
        `}`,
        `await store.close();`,
      ].join('\n'),
    );
    const store = await openSqliteStore({ file });
    try {
      const prefix = newAccountId().slice(0, 9);
      const childRun = promisify(execFile)(process.execPath, ['--import', 'tsx', child, file, prefix], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
      });
      let childDone = false;
      const childFinished = childRun.finally(() => {
        childDone = true;
      });
      // Keep writing (read-modify-write transactions) until the child has finished all of its writes.
      const scope = { accountId: newAccountId(), region: 'us-east-1' };
      let iterations = 0;
      let sawChildRow = false;
      while (!childDone) {
        await store.transaction(async (tx) => {
          const current = Number((await tx.getRegistrationCode(scope)) ?? '0');
          await tx.putRegistrationCode(scope, String(current + 1));
        });
        iterations++;
        if (!sawChildRow) sawChildRow = (await store.getRegistrationCode({ accountId: `${prefix}000`, region: 'us-east-1' })) !== undefined;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await childFinished;
      assert.equal(await store.getRegistrationCode(scope), String(iterations));
      assert.ok(sawChildRow, 'the child committed while we were still writing');
      assert.equal(await store.getRegistrationCode({ accountId: `${prefix}199`, region: 'us-east-1' }), 'child-199');
      assert.equal(await store.getRegistrationCode({ accountId: `${prefix}000`, region: 'us-east-1' }), 'child-000');
    } finally {
      await store.close();
    }
  });
});
