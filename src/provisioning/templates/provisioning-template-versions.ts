import { deleteConflict, invalidRequest, resourceNotFound, versionsLimitExceeded } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import { decodeNameToken, encodeNameToken } from '../../registry/index.js';
import type { ProvisioningTemplateRecord, ProvisioningTemplateVersion, RegistryDeps } from '../../registry/index.js';
import { checkTemplateBody, getProvisioningTemplateRecord } from './manage-provisioning-templates.js';
import { MAX_TEMPLATE_VERSIONS } from './provisioning-template-rules.js';

/** CreateProvisioningTemplateVersion, DescribeProvisioningTemplateVersion, ListProvisioningTemplateVersions, DeleteProvisioningTemplateVersion. */

async function getVersion(deps: RegistryDeps, scope: Scope, templateName: string, versionId: number): Promise<ProvisioningTemplateVersion> {
  const version = await deps.store.getProvisioningTemplateVersion(scope, templateName, versionId);
  if (!version) throw resourceNotFound(`Version ${versionId} of provisioning template ${templateName} does not exist`);
  return version;
}

export async function createProvisioningTemplateVersion(
  deps: RegistryDeps,
  scope: Scope,
  input: { templateName: string; templateBody: string; setAsDefault?: boolean | undefined },
): Promise<{ template: ProvisioningTemplateRecord; version: ProvisioningTemplateVersion; isDefault: boolean }> {
  return deps.store.transaction(async (tx) => {
    const template = await getProvisioningTemplateRecord(tx, scope, input.templateName);
    checkTemplateBody(input.templateBody, template.type);
    if ((await tx.listProvisioningTemplateVersions(scope, input.templateName)).length >= MAX_TEMPLATE_VERSIONS) {
      throw versionsLimitExceeded(`The provisioning template ${input.templateName} already has ${MAX_TEMPLATE_VERSIONS} versions; delete one first`);
    }
    const now = deps.clock.now();
    const version: ProvisioningTemplateVersion = {
      scope,
      templateName: input.templateName,
      versionId: template.nextVersionId,
      templateBody: input.templateBody,
      creationDate: now,
    };
    await tx.insertProvisioningTemplateVersion(version);
    const isDefault = input.setAsDefault === true;
    const updated: ProvisioningTemplateRecord = {
      ...template,
      nextVersionId: template.nextVersionId + 1,
      defaultVersionId: isDefault ? version.versionId : template.defaultVersionId,
      lastModifiedDate: now,
    };
    await tx.updateProvisioningTemplate(updated);
    return { template: updated, version, isDefault };
  });
}

export async function describeProvisioningTemplateVersion(
  deps: RegistryDeps,
  scope: Scope,
  input: { templateName: string; versionId: number },
): Promise<{ version: ProvisioningTemplateVersion; isDefault: boolean }> {
  const template = await getProvisioningTemplateRecord(deps.store, scope, input.templateName);
  const version = await getVersion(deps, scope, input.templateName, input.versionId);
  return { version, isDefault: template.defaultVersionId === version.versionId };
}

export async function listProvisioningTemplateVersions(
  deps: RegistryDeps,
  scope: Scope,
  input: { templateName: string; maxResults?: number | undefined; nextToken?: string | undefined },
): Promise<{ template: ProvisioningTemplateRecord; items: ProvisioningTemplateVersion[]; nextToken?: string }> {
  const template = await getProvisioningTemplateRecord(deps.store, scope, input.templateName);
  const limit = input.maxResults ?? 25;
  let after = 0;
  if (input.nextToken) {
    const decoded = decodeNameToken(input.nextToken);
    if (!/^[0-9]{1,9}$/.test(decoded)) throw invalidRequest(`The nextToken '${input.nextToken}' is not valid`);
    after = Number(decoded);
  }
  const rows = (await deps.store.listProvisioningTemplateVersions(scope, input.templateName)).filter((v) => v.versionId > after);
  if (rows.length <= limit) return { template, items: rows };
  const items = rows.slice(0, limit);
  return { template, items, nextToken: encodeNameToken(String(items[items.length - 1]!.versionId)) };
}

/** DeleteProvisioningTemplateVersion: the default version cannot be deleted (DeleteConflictException). */
export async function deleteProvisioningTemplateVersion(
  deps: RegistryDeps,
  scope: Scope,
  input: { templateName: string; versionId: number },
): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const template = await getProvisioningTemplateRecord(tx, scope, input.templateName);
    if (template.defaultVersionId === input.versionId) {
      throw deleteConflict(`Version ${input.versionId} is the default version of provisioning template ${input.templateName}; set another default first`);
    }
    if (!(await tx.deleteProvisioningTemplateVersion(scope, input.templateName, input.versionId))) {
      throw resourceNotFound(`Version ${input.versionId} of provisioning template ${input.templateName} does not exist`);
    }
  });
}
