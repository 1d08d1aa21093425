import { iotArn } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import {
  createProvisioningTemplate,
  createProvisioningTemplateVersion,
  deleteProvisioningTemplate,
  deleteProvisioningTemplateVersion,
  describeProvisioningTemplate,
  describeProvisioningTemplateVersion,
  listProvisioningTemplates,
  listProvisioningTemplateVersions,
  updateProvisioningTemplate,
} from '../../provisioning/index.js';
import type { HookInput } from '../../provisioning/index.js';
import type { PreProvisioningHook, ProvisioningTemplateKind, RegistryDeps } from '../../registry/index.js';
import type { OperationTable } from '../create-api-server.js';
import type { Input } from './input-fields.js';
import { opt, optBool, optNum, optObject, req } from './input-fields.js';

const hookIn = (input: Input): HookInput | undefined => {
  const o = optObject(input, 'preProvisioningHook');
  return o ? { targetArn: opt(o, 'targetArn'), payloadVersion: opt(o, 'payloadVersion') } : undefined;
};
const hookOut = (hook: PreProvisioningHook | null) => (hook ? { preProvisioningHook: { targetArn: hook.targetArn, payloadVersion: hook.payloadVersion } } : {});
const tokenOut = (t: string | undefined) => (t ? { nextToken: t } : {});

function reqNum(input: Input, name: string): number {
  const v = optNum(input, name);
  if (v === undefined) throw new TypeError(`validated input lacks number member ${name}`);
  return v;
}

/** Tags are accepted and not kept, as CreatePolicy does. */
export function provisioningTemplateOperations(deps: RegistryDeps, scopeOf: (caller: { accountId: string; region: string }) => Scope): OperationTable {
  return {
    CreateProvisioningTemplate: async (caller, input) => {
      const scope = scopeOf(caller);
      const t = await createProvisioningTemplate(deps, scope, {
        templateName: req(input, 'templateName'),
        templateBody: req(input, 'templateBody'),
        provisioningRoleArn: req(input, 'provisioningRoleArn'),
        description: opt(input, 'description'),
        enabled: optBool(input, 'enabled'),
        type: opt(input, 'type') as ProvisioningTemplateKind | undefined,
        preProvisioningHook: hookIn(input),
      });
      return { templateArn: iotArn(scope, 'provisioningtemplate', t.templateName), templateName: t.templateName, defaultVersionId: t.defaultVersionId };
    },
    DescribeProvisioningTemplate: async (caller, input) => {
      const scope = scopeOf(caller);
      const { template: t, defaultVersion } = await describeProvisioningTemplate(deps, scope, req(input, 'templateName'));
      return {
        templateArn: iotArn(scope, 'provisioningtemplate', t.templateName),
        templateName: t.templateName,
        ...(t.description !== null ? { description: t.description } : {}),
        creationDate: t.creationDate,
        lastModifiedDate: t.lastModifiedDate,
        defaultVersionId: t.defaultVersionId,
        templateBody: defaultVersion.templateBody,
        enabled: t.enabled,
        provisioningRoleArn: t.provisioningRoleArn,
        ...hookOut(t.preProvisioningHook),
        type: t.type,
      };
    },
    ListProvisioningTemplates: async (caller, input) => {
      const scope = scopeOf(caller);
      const page = await listProvisioningTemplates(deps, scope, { maxResults: optNum(input, 'maxResults'), nextToken: opt(input, 'nextToken') });
      return {
        templates: page.items.map((t) => ({
          templateArn: iotArn(scope, 'provisioningtemplate', t.templateName),
          templateName: t.templateName,
          ...(t.description !== null ? { description: t.description } : {}),
          creationDate: t.creationDate,
          lastModifiedDate: t.lastModifiedDate,
          enabled: t.enabled,
          type: t.type,
        })),
        ...tokenOut(page.nextToken),
      };
    },
    UpdateProvisioningTemplate: async (caller, input) => {
      await updateProvisioningTemplate(deps, scopeOf(caller), {
        templateName: req(input, 'templateName'),
        description: opt(input, 'description'),
        enabled: optBool(input, 'enabled'),
        defaultVersionId: optNum(input, 'defaultVersionId'),
        provisioningRoleArn: opt(input, 'provisioningRoleArn'),
        preProvisioningHook: hookIn(input),
        removePreProvisioningHook: optBool(input, 'removePreProvisioningHook'),
      });
    },
    DeleteProvisioningTemplate: async (caller, input) => {
      await deleteProvisioningTemplate(deps, scopeOf(caller), { templateName: req(input, 'templateName') });
    },
    CreateProvisioningTemplateVersion: async (caller, input) => {
      const scope = scopeOf(caller);
      const { version, isDefault } = await createProvisioningTemplateVersion(deps, scope, {
        templateName: req(input, 'templateName'),
        templateBody: req(input, 'templateBody'),
        setAsDefault: optBool(input, 'setAsDefault'),
      });
      return {
        templateArn: iotArn(scope, 'provisioningtemplate', version.templateName),
        templateName: version.templateName,
        versionId: version.versionId,
        isDefaultVersion: isDefault,
      };
    },
    DescribeProvisioningTemplateVersion: async (caller, input) => {
      const { version, isDefault } = await describeProvisioningTemplateVersion(deps, scopeOf(caller), {
        templateName: req(input, 'templateName'),
        versionId: reqNum(input, 'versionId'),
      });
      return { versionId: version.versionId, creationDate: version.creationDate, templateBody: version.templateBody, isDefaultVersion: isDefault };
    },
    ListProvisioningTemplateVersions: async (caller, input) => {
      const page = await listProvisioningTemplateVersions(deps, scopeOf(caller), {
        templateName: req(input, 'templateName'),
        maxResults: optNum(input, 'maxResults'),
        nextToken: opt(input, 'nextToken'),
      });
      return {
        versions: page.items.map((v) => ({ versionId: v.versionId, creationDate: v.creationDate, isDefaultVersion: v.versionId === page.template.defaultVersionId })),
        ...tokenOut(page.nextToken),
      };
    },
    DeleteProvisioningTemplateVersion: async (caller, input) => {
      await deleteProvisioningTemplateVersion(deps, scopeOf(caller), { templateName: req(input, 'templateName'), versionId: reqNum(input, 'versionId') });
    },
  };
}
