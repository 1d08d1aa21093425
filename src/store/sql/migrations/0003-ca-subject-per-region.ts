import type { Kysely, Migration } from 'kysely';

/**
 * An index for finding CA certificates by subject across the accounts of a region: just-in-time
 * registration of a device that sends neither SNI nor its CA (the issuer is looked up by name).
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

async function up(db: AnyDb): Promise<void> {
  await db.schema.createIndex('ca_certificates_by_region_subject').on('ca_certificates').columns(['region', 'subject']).execute();
}

async function down(db: AnyDb): Promise<void> {
  await db.schema.dropIndex('ca_certificates_by_region_subject').execute();
}

export const caSubjectPerRegionMigration: Migration = { up, down };
