/**
 * provisioning: provisioning templates (parse, check, apply) for JITP and fleet provisioning.
 * Core: imports kernel, policy and registry (through their index.ts) only; no sockets, no SQL,
 * no fs, no process.env. The data plane and the API call in; this module never calls out.
 */
export { parseProvisioningTemplate } from './template/parse-provisioning-template.js';
export { applyProvisioningTemplate } from './template/apply-provisioning-template.js';
export type { ApplyProvisioningTemplateInput, ApplyProvisioningTemplateResult } from './template/apply-provisioning-template.js';
export { CERTIFICATE_ID_PARAMETER, OVERRIDE_ACTIONS, PROVISIONING_TEMPLATE_TYPES } from './template/provisioning-template.js';
export type {
  CertificateResource,
  OverrideAction,
  PolicyResource,
  ProvisioningTemplate,
  ProvisioningTemplateType,
  TemplateExpression,
  TemplateResource,
  TemplateValue,
  ThingResource,
} from './template/provisioning-template.js';
export * from './templates/provisioning-template-rules.js';
export * from './templates/manage-provisioning-templates.js';
export * from './templates/provisioning-template-versions.js';
export { loadProvisioningTemplate } from './templates/load-provisioning-template.js';
export * from './fleet/index.js';
