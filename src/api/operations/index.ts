/**
 * The AWS IoT operations certgate serves: each maps a model-shaped input onto a registry use case
 * and the result back onto the model's output shape. No HTTP here (create-api-server does that).
 */
import type { Scope } from '../../kernel/index.js';
import type { RegistryDeps } from '../../registry/index.js';
import type { OperationTable } from '../create-api-server.js';
import { caCertificateOperations } from './ca-certificate-operations.js';
import { certificateOperations } from './certificate-operations.js';
import { endpointAndAuthorizationOperations } from './endpoint-and-authorization-operations.js';
import { policyOperations } from './policy-operations.js';
import { provisioningTemplateOperations } from './provisioning-template-operations.js';
import { thingOperations } from './thing-operations.js';

export function createIotOperations(deps: RegistryDeps): OperationTable {
  const scopeOf = (caller: { accountId: string; region: string }): Scope => ({ accountId: caller.accountId, region: caller.region });
  return {
    ...certificateOperations(deps, scopeOf),
    ...caCertificateOperations(deps, scopeOf),
    ...thingOperations(deps, scopeOf),
    ...policyOperations(deps, scopeOf),
    ...provisioningTemplateOperations(deps, scopeOf),
    ...endpointAndAuthorizationOperations(deps, scopeOf),
  };
}
