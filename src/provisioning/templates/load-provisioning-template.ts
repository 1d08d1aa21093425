import { invalidRequest, resourceNotFound } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { ProvisioningTemplateKind, ProvisioningTemplateRecord, ProvisioningTemplateStore } from '../../registry/index.js';
import { parseProvisioningTemplate } from '../template/parse-provisioning-template.js';
import type { ProvisioningTemplate } from '../template/provisioning-template.js';

/**
 * For the data plane (JITP, fleet provisioning): a stored template by name, with its default version's body
 * parsed. `expectType` refuses a template of the other kind. Whether a disabled template may be used is the
 * caller's rule (fleet provisioning refuses it), so `enabled` is returned, not checked.
 */
export async function loadProvisioningTemplate(
  store: ProvisioningTemplateStore,
  scope: Scope,
  templateName: string,
  expectType?: ProvisioningTemplateKind,
): Promise<{ record: ProvisioningTemplateRecord; templateBody: string; template: ProvisioningTemplate }> {
  const record = await store.getProvisioningTemplate(scope, templateName);
  if (!record) throw resourceNotFound(`The provisioning template ${templateName} does not exist`);
  if (expectType !== undefined && record.type !== expectType) {
    throw invalidRequest(`The provisioning template ${templateName} is of type ${record.type}, not ${expectType}`);
  }
  const version = await store.getProvisioningTemplateVersion(scope, templateName, record.defaultVersionId);
  if (!version) throw resourceNotFound(`The default version of provisioning template ${templateName} does not exist`);
  return { record, templateBody: version.templateBody, template: parseProvisioningTemplate(version.templateBody, record.type) };
}
