import { mkdir, open } from 'node:fs/promises';
import type { RegistryStore } from '../registry/ports.js';
import { openSqliteStore } from '../store/index.js';
import { dataDirLayout } from './data-dir-layout.js';

/**
 * The embedded SQLite store of a data dir (shared by `serve` and `accounts`; WAL lets both run at once).
 * The database holds secret access keys: it is created with mode 0600 (SQLite gives its -wal/-shm files
 * the database file's mode).
 */
export async function openRegistryStore(dataDir: string): Promise<RegistryStore> {
  const layout = dataDirLayout(dataDir);
  await mkdir(layout.dataDir, { recursive: true, mode: 0o700 });
  await (await open(layout.database, 'a', 0o600)).close();
  return await openSqliteStore({ file: layout.database });
}
