import { iotArn } from '../../kernel/index.js';
import type { RegistryDeps, RegistryEvent } from '../../registry/index.js';
import { invalidOwnershipToken } from './fleet-rejection.js';
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
      // Single use, checked where it is spent: in the template's own transaction the certificate must still be
      // PENDING_ACTIVATION (an operator may have activated, revoked or deleted it since the token was checked),
      // else the engine would follow OverrideSettings and provision an already-activated certificate.
      const held: RegistryEvent[] = [];
      const result = await registry.store.transaction(async (store) => {
        const cert = await store.getCertificate(input.scope, input.certificateId);
        if (cert?.status !== 'PENDING_ACTIVATION') {
          throw invalidOwnershipToken(`The certificate ownership token can no longer be used (the certificate is ${cert?.status ?? 'deleted'})`);
        }
        const tx: RegistryDeps = { ...registry, store, events: { emit: async (e) => void held.push(e) } };
        return applyProvisioningTemplate(tx, { scope: input.scope, template, parameters: input.parameters, certificateId: input.certificateId });
      });
      for (const e of held) await registry.events.emit(e);
      return { thingName: result.thingName, deviceConfiguration: result.deviceConfiguration };
    },
  };
}
