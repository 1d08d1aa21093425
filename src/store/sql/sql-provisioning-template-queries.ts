import type { Kysely } from 'kysely';
import type { Scope } from '../../kernel/index.js';
import type { ProvisioningTemplateKind, ProvisioningTemplateRecord, ProvisioningTemplateVersion } from '../../registry/index.js';
import type { Database, ProvisioningTemplatesTable, ProvisioningTemplateVersionsTable } from './schema.js';

/** The ProvisioningTemplateStore queries; SqlRegistryStore delegates here (bound to its database or transaction). */

const toDate = (ms: number | string | bigint): Date => new Date(Number(ms));
const changed = (n: bigint | undefined): boolean => n !== undefined && n > 0n;

export function provisioningTemplateToRow(t: ProvisioningTemplateRecord): ProvisioningTemplatesTable {
  return {
    account_id: t.scope.accountId,
    region: t.scope.region,
    template_name: t.templateName,
    description: t.description,
    template_type: t.type,
    enabled: t.enabled ? 1 : 0,
    provisioning_role_arn: t.provisioningRoleArn,
    hook_target_arn: t.preProvisioningHook?.targetArn ?? null,
    hook_payload_version: t.preProvisioningHook?.payloadVersion ?? null,
    default_version_id: t.defaultVersionId,
    next_version_id: t.nextVersionId,
    creation_date: t.creationDate.getTime(),
    last_modified_date: t.lastModifiedDate.getTime(),
  };
}

export function provisioningTemplateFromRow(r: ProvisioningTemplatesTable): ProvisioningTemplateRecord {
  return {
    scope: { accountId: r.account_id, region: r.region },
    templateName: r.template_name,
    description: r.description,
    type: r.template_type as ProvisioningTemplateKind,
    enabled: Number(r.enabled) === 1,
    provisioningRoleArn: r.provisioning_role_arn,
    preProvisioningHook: r.hook_target_arn === null ? null : { targetArn: r.hook_target_arn, payloadVersion: r.hook_payload_version ?? '' },
    defaultVersionId: Number(r.default_version_id),
    nextVersionId: Number(r.next_version_id),
    creationDate: toDate(r.creation_date),
    lastModifiedDate: toDate(r.last_modified_date),
  };
}

function versionToRow(v: ProvisioningTemplateVersion): ProvisioningTemplateVersionsTable {
  return {
    account_id: v.scope.accountId,
    region: v.scope.region,
    template_name: v.templateName,
    version_id: v.versionId,
    template_body: v.templateBody,
    creation_date: v.creationDate.getTime(),
  };
}

function versionFromRow(r: ProvisioningTemplateVersionsTable): ProvisioningTemplateVersion {
  return {
    scope: { accountId: r.account_id, region: r.region },
    templateName: r.template_name,
    versionId: Number(r.version_id),
    templateBody: r.template_body,
    creationDate: toDate(r.creation_date),
  };
}

export async function insertProvisioningTemplate(db: Kysely<Database>, t: ProvisioningTemplateRecord): Promise<void> {
  await db.insertInto('provisioning_templates').values(provisioningTemplateToRow(t)).execute();
}

export async function getProvisioningTemplate(db: Kysely<Database>, scope: Scope, templateName: string): Promise<ProvisioningTemplateRecord | undefined> {
  const row = await db
    .selectFrom('provisioning_templates')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('region', '=', scope.region)
    .where('template_name', '=', templateName)
    .executeTakeFirst();
  return row && provisioningTemplateFromRow(row);
}

export async function updateProvisioningTemplate(db: Kysely<Database>, t: ProvisioningTemplateRecord): Promise<boolean> {
  const r = await db
    .updateTable('provisioning_templates')
    .set(provisioningTemplateToRow(t))
    .where('account_id', '=', t.scope.accountId)
    .where('region', '=', t.scope.region)
    .where('template_name', '=', t.templateName)
    .executeTakeFirst();
  return changed(r.numUpdatedRows);
}

/** Run inside one transaction (the caller's #atomic). */
export async function deleteProvisioningTemplate(db: Kysely<Database>, scope: Scope, templateName: string): Promise<boolean> {
  await db
    .deleteFrom('provisioning_template_versions')
    .where('account_id', '=', scope.accountId)
    .where('region', '=', scope.region)
    .where('template_name', '=', templateName)
    .execute();
  const r = await db
    .deleteFrom('provisioning_templates')
    .where('account_id', '=', scope.accountId)
    .where('region', '=', scope.region)
    .where('template_name', '=', templateName)
    .executeTakeFirst();
  return changed(r.numDeletedRows);
}

export async function listProvisioningTemplates(db: Kysely<Database>, scope: Scope, limit: number, afterName?: string): Promise<ProvisioningTemplateRecord[]> {
  let q = db
    .selectFrom('provisioning_templates')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('region', '=', scope.region);
  if (afterName !== undefined) q = q.where('template_name', '>', afterName);
  const rows = await q.orderBy('template_name', 'asc').limit(limit).execute();
  return rows.map(provisioningTemplateFromRow);
}

export async function insertProvisioningTemplateVersion(db: Kysely<Database>, v: ProvisioningTemplateVersion): Promise<void> {
  await db.insertInto('provisioning_template_versions').values(versionToRow(v)).execute();
}

export async function getProvisioningTemplateVersion(
  db: Kysely<Database>,
  scope: Scope,
  templateName: string,
  versionId: number,
): Promise<ProvisioningTemplateVersion | undefined> {
  const row = await db
    .selectFrom('provisioning_template_versions')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('region', '=', scope.region)
    .where('template_name', '=', templateName)
    .where('version_id', '=', versionId)
    .executeTakeFirst();
  return row && versionFromRow(row);
}

export async function listProvisioningTemplateVersions(db: Kysely<Database>, scope: Scope, templateName: string): Promise<ProvisioningTemplateVersion[]> {
  const rows = await db
    .selectFrom('provisioning_template_versions')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('region', '=', scope.region)
    .where('template_name', '=', templateName)
    .orderBy('version_id', 'asc')
    .execute();
  return rows.map(versionFromRow);
}

export async function deleteProvisioningTemplateVersion(db: Kysely<Database>, scope: Scope, templateName: string, versionId: number): Promise<boolean> {
  const r = await db
    .deleteFrom('provisioning_template_versions')
    .where('account_id', '=', scope.accountId)
    .where('region', '=', scope.region)
    .where('template_name', '=', templateName)
    .where('version_id', '=', versionId)
    .executeTakeFirst();
  return changed(r.numDeletedRows);
}
