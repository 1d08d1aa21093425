import type { Kysely, Migration } from 'kysely';

/**
 * Provisioning templates (CreateProvisioningTemplate & co.) and their versions. Same conventions as
 * 0001: portable DDL, epoch-millisecond bigint timestamps, booleans 0/1, keys starting with (account_id, region).
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('provisioning_templates')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('template_name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('template_type', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('provisioning_role_arn', 'text', (c) => c.notNull())
    .addColumn('hook_target_arn', 'text')
    .addColumn('hook_payload_version', 'text')
    .addColumn('default_version_id', 'integer', (c) => c.notNull())
    .addColumn('next_version_id', 'integer', (c) => c.notNull())
    .addColumn('creation_date', 'bigint', (c) => c.notNull())
    .addColumn('last_modified_date', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('provisioning_templates_pk', ['account_id', 'region', 'template_name'])
    .execute();

  await db.schema
    .createTable('provisioning_template_versions')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('template_name', 'text', (c) => c.notNull())
    .addColumn('version_id', 'integer', (c) => c.notNull())
    .addColumn('template_body', 'text', (c) => c.notNull())
    .addColumn('creation_date', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('provisioning_template_versions_pk', ['account_id', 'region', 'template_name', 'version_id'])
    .execute();
}

async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('provisioning_template_versions').execute();
  await db.schema.dropTable('provisioning_templates').execute();
}

export const provisioningTemplatesMigration: Migration = { up, down };
