/**
 * registry: accounts, certificates, CA certificates, things, policies and transfers — entities,
 * status rules and one use case per concept. Core: imports kernel, pki, policy; storage only through
 * ports.ts (RegistryStore), never an adapter, node I/O module or process.env.
 */
export * from './entities.js';
export * from './ports.js';
export * from './registry-deps.js';
export * from './registry-events.js';
export * from './pagination.js';
export * from './accounts/create-account.js';
export * from './accounts/ensure-default-account.js';
export * from './accounts/update-account-settings.js';
export * from './accounts/data-endpoint.js';
export * from './accounts/authenticate-access-key.js';
export * from './certificates/create-keys-and-certificate.js';
export * from './certificates/create-certificate-from-csr.js';
export * from './certificates/register-certificate.js';
export * from './certificates/get-certificate.js';
export * from './certificates/update-certificate.js';
export * from './certificates/delete-certificate.js';
export * from './certificates/list-certificates.js';
export * from './certificates/transfer-certificate.js';
export * from './ca-certificates/registration-code.js';
export * from './ca-certificates/register-ca-certificate.js';
export * from './ca-certificates/manage-ca-certificate.js';
export * from './things/manage-things.js';
export * from './things/thing-principals.js';
export * from './policies/manage-policies.js';
export * from './policies/policy-attachments.js';
export * from './provisioning-templates/provisioning-template-entities.js';
