import { deleteConflict, invalidRequest, iotArn, resourceAlreadyExists, resourceNotFound } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import { decodeNameToken, encodeNameToken } from '../../registry/index.js';
import type {
  ProvisioningTemplateKind,
  ProvisioningTemplateRecord,
  ProvisioningTemplateStore,
  ProvisioningTemplateVersion,
  RegistryDeps,
  RegistryStore,
} from '../../registry/index.js';
import { parseProvisioningTemplate } from '../template/parse-provisioning-template.js';
import { checkDescription, checkedHook, checkRoleArn, checkTemplateBodySize, checkTemplateName } from './provisioning-template-rules.js';

/** CreateProvisioningTemplate, DescribeProvisioningTemplate, ListProvisioningTemplates, UpdateProvisioningTemplate, DeleteProvisioningTemplate. */

export interface HookInput {
  readonly targetArn?: string | undefined;
  readonly payloadVersion?: string | undefined;
}

export async function getProvisioningTemplateRecord(store: ProvisioningTemplateStore, scope: Scope, templateName: string): Promise<ProvisioningTemplateRecord> {
  const template = await store.getProvisioningTemplate(scope, templateName);
  if (!template) throw resourceNotFound(`The provisioning template ${templateName} does not exist`);
  return template;
}

/** The template body is checked against the template grammar for its type (InvalidRequestException). */
export function checkTemplateBody(body: string, type: ProvisioningTemplateKind): void {
  checkTemplateBodySize(body);
  parseProvisioningTemplate(body, type);
}

export async function createProvisioningTemplate(
  deps: RegistryDeps,
  scope: Scope,
  input: {
    templateName: string;
    templateBody: string;
    provisioningRoleArn: string;
    description?: string | undefined;
    enabled?: boolean | undefined;
    type?: ProvisioningTemplateKind | undefined;
    preProvisioningHook?: HookInput | undefined;
  },
): Promise<ProvisioningTemplateRecord> {
  const type = input.type ?? 'FLEET_PROVISIONING';
  checkTemplateName(input.templateName);
  checkDescription(input.description);
  checkRoleArn(input.provisioningRoleArn);
  const hook = input.preProvisioningHook ? checkedHook(type, input.preProvisioningHook) : null;
  checkTemplateBody(input.templateBody, type);
  return deps.store.transaction(async (tx) => {
    if (await tx.getProvisioningTemplate(scope, input.templateName)) {
      throw resourceAlreadyExists(
        `The provisioning template ${input.templateName} already exists`,
        input.templateName,
        iotArn(scope, 'provisioningtemplate', input.templateName),
      );
    }
    const now = deps.clock.now();
    const template: ProvisioningTemplateRecord = {
      scope,
      templateName: input.templateName,
      description: input.description ?? null,
      type,
      enabled: input.enabled ?? false,
      provisioningRoleArn: input.provisioningRoleArn,
      preProvisioningHook: hook,
      defaultVersionId: 1,
      nextVersionId: 2,
      creationDate: now,
      lastModifiedDate: now,
    };
    await tx.insertProvisioningTemplate(template);
    await tx.insertProvisioningTemplateVersion({ scope, templateName: input.templateName, versionId: 1, templateBody: input.templateBody, creationDate: now });
    return template;
  });
}

/** DescribeProvisioningTemplate: the template with the body of its default version. */
export async function describeProvisioningTemplate(
  deps: RegistryDeps,
  scope: Scope,
  templateName: string,
): Promise<{ template: ProvisioningTemplateRecord; defaultVersion: ProvisioningTemplateVersion }> {
  return deps.store.transaction(async (tx) => {
    const template = await getProvisioningTemplateRecord(tx, scope, templateName);
    const defaultVersion = await tx.getProvisioningTemplateVersion(scope, templateName, template.defaultVersionId);
    if (!defaultVersion) throw resourceNotFound(`The default version of provisioning template ${templateName} does not exist`);
    return { template, defaultVersion };
  });
}

export async function listProvisioningTemplates(
  deps: RegistryDeps,
  scope: Scope,
  input: { maxResults?: number | undefined; nextToken?: string | undefined },
): Promise<{ items: ProvisioningTemplateRecord[]; nextToken?: string }> {
  const limit = input.maxResults ?? 25;
  const after = input.nextToken ? decodeNameToken(input.nextToken) : undefined;
  const rows = await deps.store.listProvisioningTemplates(scope, limit + 1, after);
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextToken: encodeNameToken(items[items.length - 1]!.templateName) };
}

export async function updateProvisioningTemplate(
  deps: RegistryDeps,
  scope: Scope,
  input: {
    templateName: string;
    description?: string | undefined;
    enabled?: boolean | undefined;
    defaultVersionId?: number | undefined;
    provisioningRoleArn?: string | undefined;
    preProvisioningHook?: HookInput | undefined;
    removePreProvisioningHook?: boolean | undefined;
  },
): Promise<void> {
  checkDescription(input.description);
  if (input.provisioningRoleArn !== undefined) checkRoleArn(input.provisioningRoleArn);
  if (input.preProvisioningHook && input.removePreProvisioningHook) {
    throw invalidRequest('Give preProvisioningHook or removePreProvisioningHook, not both');
  }
  await deps.store.transaction(async (tx) => {
    const template = await getProvisioningTemplateRecord(tx, scope, input.templateName);
    if (input.defaultVersionId !== undefined && !(await tx.getProvisioningTemplateVersion(scope, input.templateName, input.defaultVersionId))) {
      throw resourceNotFound(`Version ${input.defaultVersionId} of provisioning template ${input.templateName} does not exist`);
    }
    const hook = input.removePreProvisioningHook
      ? null
      : input.preProvisioningHook
        ? checkedHook(template.type, input.preProvisioningHook)
        : template.preProvisioningHook;
    await tx.updateProvisioningTemplate({
      ...template,
      description: input.description ?? template.description,
      enabled: input.enabled ?? template.enabled,
      defaultVersionId: input.defaultVersionId ?? template.defaultVersionId,
      provisioningRoleArn: input.provisioningRoleArn ?? template.provisioningRoleArn,
      preProvisioningHook: hook,
      lastModifiedDate: deps.clock.now(),
    });
  });
}

/** CA certificates in scope whose registrationConfig names the template (JITP). */
async function casUsingTemplate(store: RegistryStore, scope: Scope, templateName: string): Promise<string[]> {
  const users: string[] = [];
  let after: { createdAt: Date; key: string } | undefined;
  for (;;) {
    const page = await store.listCaCertificates(scope, { limit: 250, ascending: true, ...(after ? { after } : {}) });
    for (const ca of page) if (ca.registrationConfig?.templateName === templateName) users.push(ca.certificateId);
    if (page.length < 250) return users;
    const last = page[page.length - 1]!;
    after = { createdAt: last.creationDate, key: last.certificateId };
  }
}

/** DeleteProvisioningTemplate: the template and all its versions; refused while a CA's JITP configuration names it. */
export async function deleteProvisioningTemplate(deps: RegistryDeps, scope: Scope, input: { templateName: string }): Promise<void> {
  await deps.store.transaction(async (tx) => {
    await getProvisioningTemplateRecord(tx, scope, input.templateName);
    const users = await casUsingTemplate(tx, scope, input.templateName);
    if (users.length > 0) {
      throw deleteConflict(`The provisioning template ${input.templateName} is used by the registration config of CA certificate ${users[0]}`);
    }
    await tx.deleteProvisioningTemplate(scope, input.templateName);
  });
}
