import type { Kysely, Migration } from 'kysely';

/**
 * The registry tables. Portable DDL only (text, integer, bigint): timestamps are epoch milliseconds in
 * bigint columns (PostgreSQL's integer is 32-bit), booleans 0/1, JSON as text. Every key starts with
 * (account_id, region) and every list order and lookup of RegistryStore has an index.
 * No foreign keys: the store keeps dependent rows (versions, attributes) itself, inside one transaction.
 */

// Migrations see the schema as it was then, not as schema.ts says now: hence Kysely<any> (Kysely's own advice).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('account_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('access_key_id', 'text', (c) => c.notNull().unique())
    .addColumn('secret_access_key', 'text', (c) => c.notNull())
    .addColumn('endpoint_prefix', 'text', (c) => c.notNull().unique())
    .addColumn('strict_ca_mode', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('accounts_by_created').on('accounts').columns(['created_at', 'account_id']).execute();

  await db.schema
    .createTable('registration_codes')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('registration_codes_pk', ['account_id', 'region'])
    .execute();

  await db.schema
    .createTable('certificates')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('certificate_id', 'text', (c) => c.notNull())
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('ca_certificate_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('certificate_mode', 'text', (c) => c.notNull())
    .addColumn('owned_by', 'text', (c) => c.notNull())
    .addColumn('previous_owned_by', 'text')
    .addColumn('transfer_to', 'text')
    .addColumn('transfer_data', 'text', (c) => c.notNull())
    .addColumn('creation_date', 'bigint', (c) => c.notNull())
    .addColumn('last_modified_date', 'bigint', (c) => c.notNull())
    .addColumn('customer_version', 'integer', (c) => c.notNull())
    .addColumn('generation_id', 'text', (c) => c.notNull())
    .addColumn('not_before', 'bigint', (c) => c.notNull())
    .addColumn('not_after', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('certificates_pk', ['account_id', 'region', 'certificate_id'])
    .execute();
  // findCertificatesInRegion, getCertificateOfferedTo
  await db.schema.createIndex('certificates_by_region_id').on('certificates').columns(['region', 'certificate_id']).execute();
  // listCertificates / listOutgoingCertificates (owned side)
  await db.schema
    .createIndex('certificates_by_owner_created')
    .on('certificates')
    .columns(['account_id', 'region', 'creation_date', 'certificate_id'])
    .execute();
  // listCertificates (offered side)
  await db.schema
    .createIndex('certificates_by_transfer_to_created')
    .on('certificates')
    .columns(['transfer_to', 'region', 'creation_date', 'certificate_id'])
    .execute();
  // listCertificates filtered by CA, countCertificatesByCa
  await db.schema
    .createIndex('certificates_by_ca_created')
    .on('certificates')
    .columns(['account_id', 'region', 'ca_certificate_id', 'creation_date', 'certificate_id'])
    .execute();

  await db.schema
    .createTable('ca_certificates')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('certificate_id', 'text', (c) => c.notNull())
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('auto_registration_status', 'text', (c) => c.notNull())
    .addColumn('certificate_mode', 'text', (c) => c.notNull())
    .addColumn('registration_config', 'text')
    .addColumn('owned_by', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('subject_key_id', 'text')
    .addColumn('creation_date', 'bigint', (c) => c.notNull())
    .addColumn('last_modified_date', 'bigint', (c) => c.notNull())
    .addColumn('customer_version', 'integer', (c) => c.notNull())
    .addColumn('generation_id', 'text', (c) => c.notNull())
    .addColumn('not_before', 'bigint', (c) => c.notNull())
    .addColumn('not_after', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('ca_certificates_pk', ['account_id', 'region', 'certificate_id'])
    .execute();
  await db.schema.createIndex('ca_certificates_by_region_id').on('ca_certificates').columns(['region', 'certificate_id']).execute();
  await db.schema
    .createIndex('ca_certificates_by_subject')
    .on('ca_certificates')
    .columns(['account_id', 'region', 'subject'])
    .execute();
  await db.schema
    .createIndex('ca_certificates_by_owner_created')
    .on('ca_certificates')
    .columns(['account_id', 'region', 'creation_date', 'certificate_id'])
    .execute();

  await db.schema
    .createTable('things')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('thing_name', 'text', (c) => c.notNull())
    .addColumn('thing_id', 'text', (c) => c.notNull())
    .addColumn('thing_type_name', 'text')
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('billing_group_name', 'text')
    .addColumn('creation_date', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('things_pk', ['account_id', 'region', 'thing_name'])
    .execute();
  await db.schema
    .createIndex('things_by_type')
    .on('things')
    .columns(['account_id', 'region', 'thing_type_name', 'thing_name'])
    .execute();

  await db.schema
    .createTable('thing_attributes')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('thing_name', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('thing_attributes_pk', ['account_id', 'region', 'thing_name', 'name'])
    .execute();
  await db.schema
    .createIndex('thing_attributes_by_name_value')
    .on('thing_attributes')
    .columns(['account_id', 'region', 'name', 'value', 'thing_name'])
    .execute();

  await db.schema
    .createTable('thing_principals')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('thing_name', 'text', (c) => c.notNull())
    .addColumn('principal', 'text', (c) => c.notNull())
    .addColumn('thing_principal_type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('thing_principals_pk', ['account_id', 'region', 'thing_name', 'principal'])
    .execute();
  await db.schema
    .createIndex('thing_principals_by_principal')
    .on('thing_principals')
    .columns(['account_id', 'region', 'principal', 'thing_name'])
    .execute();

  await db.schema
    .createTable('policies')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('policy_name', 'text', (c) => c.notNull())
    .addColumn('default_version_id', 'text', (c) => c.notNull())
    .addColumn('next_version_id', 'integer', (c) => c.notNull())
    .addColumn('creation_date', 'bigint', (c) => c.notNull())
    .addColumn('last_modified_date', 'bigint', (c) => c.notNull())
    .addColumn('generation_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('policies_pk', ['account_id', 'region', 'policy_name'])
    .execute();
  await db.schema
    .createIndex('policies_by_created')
    .on('policies')
    .columns(['account_id', 'region', 'creation_date', 'policy_name'])
    .execute();

  await db.schema
    .createTable('policy_versions')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('policy_name', 'text', (c) => c.notNull())
    .addColumn('version_id', 'text', (c) => c.notNull())
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('create_date', 'bigint', (c) => c.notNull())
    .addColumn('last_modified_date', 'bigint', (c) => c.notNull())
    .addColumn('generation_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('policy_versions_pk', ['account_id', 'region', 'policy_name', 'version_id'])
    .execute();

  await db.schema
    .createTable('policy_attachments')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('policy_name', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('policy_attachments_pk', ['account_id', 'region', 'policy_name', 'target'])
    .execute();
  // listPolicyTargets, countPolicyTargets
  await db.schema
    .createIndex('policy_attachments_by_policy_created')
    .on('policy_attachments')
    .columns(['account_id', 'region', 'policy_name', 'created_at', 'target'])
    .execute();
  // listAttachedPolicies, countAttachedPolicies
  await db.schema
    .createIndex('policy_attachments_by_target_created')
    .on('policy_attachments')
    .columns(['account_id', 'region', 'target', 'created_at', 'policy_name'])
    .execute();
}

const TABLES = [
  'policy_attachments',
  'policy_versions',
  'policies',
  'thing_principals',
  'thing_attributes',
  'things',
  'ca_certificates',
  'certificates',
  'registration_codes',
  'accounts',
] as const;

async function down(db: AnyDb): Promise<void> {
  for (const table of TABLES) await db.schema.dropTable(table).execute();
}

export const initialMigration: Migration = { up, down };
