import { Migrator } from 'kysely';
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { initialMigration } from './migrations/0001-initial.js';
import { provisioningTemplatesMigration } from './migrations/0002-provisioning-templates.js';
import { caSubjectPerRegionMigration } from './migrations/0003-ca-subject-per-region.js';
import type { Database } from './schema.js';

/** Every migration, in order. Listed statically: no filesystem autoload. Names sort in execution order. */
const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-initial': initialMigration,
  '0002-provisioning-templates': provisioningTemplatesMigration,
  '0003-ca-subject-per-region': caSubjectPerRegionMigration,
};

const staticProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve({ ...MIGRATIONS }),
};

/** Bring the schema up to date; throws the failing migration's error. */
export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: staticProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`store migration ${failed} failed`, { cause: error });
  }
}
