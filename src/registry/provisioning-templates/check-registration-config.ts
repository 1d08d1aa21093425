import { invalidRequest, resourceNotFound } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { RegistrationConfig } from '../entities.js';
import type { ProvisioningTemplateStore } from '../ports.js';

/**
 * A CA's registrationConfig (RegisterCACertificate, UpdateCACertificate) that names a template must name an
 * existing template of type JITP in the same account and region (RegisterCACertificate's model lists
 * ResourceNotFoundException). An inline templateBody is checked against the template grammar by the caller
 * that can parse templates (the provisioning module).
 */
export async function checkRegistrationConfigTemplate(store: ProvisioningTemplateStore, scope: Scope, config: RegistrationConfig | undefined): Promise<void> {
  const name = config?.templateName;
  if (name === undefined) return;
  const template = await store.getProvisioningTemplate(scope, name);
  if (!template) throw resourceNotFound(`The provisioning template ${name} does not exist`);
  if (template.type !== 'JITP') {
    throw invalidRequest(`The provisioning template ${name} is of type ${template.type}; a CA's registrationConfig needs a JITP template`);
  }
}
