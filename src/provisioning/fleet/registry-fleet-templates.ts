import { iotArn } from '../../kernel/index.js';
import type { RegistryDeps } from '../../registry/index.js';
import { applyProvisioningTemplate } from '../template/apply-provisioning-template.js';
import { parseProvisioningTemplate } from '../template/parse-provisioning-template.js';
import type { FleetTemplates } from './ports.js';

/** Fleet templates from the registry's template store, run by the provisioning template engine. */
export function registryFleetTemplates(registry: RegistryDeps): FleetTemplates {
  return {
    async get(scope, templateName) {
      const record = await registry.store.getProvisioningTemplate(scope, templateName);
      if (record === undefined) return undefined;
      const version = await registry.store.getProvisioningTemplateVersion(scope, templateName, record.defaultVersionId);
      if (version === undefined) return undefined;
      return {
        templateName: record.templateName,
        templateArn: iotArn(scope, 'provisioningtemplate', record.templateName),
        type: record.type,
        enabled: record.enabled,
        templateBody: version.templateBody,
        ...(record.preProvisioningHook !== null ? { preProvisioningHook: record.preProvisioningHook } : {}),
      };
    },
    async apply(input) {
      const template = parseProvisioningTemplate(input.template.templateBody, 'FLEET_PROVISIONING');
      const result = await applyProvisioningTemplate(registry, { scope: input.scope, template, parameters: input.parameters, certificateId: input.certificateId });
      return { thingName: result.thingName, deviceConfiguration: result.deviceConfiguration };
    },
  };
}
