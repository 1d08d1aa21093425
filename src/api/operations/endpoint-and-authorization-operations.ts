import { internalFailure, invalidRequest } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import { testAuthorization } from '../../access/index.js';
import type { AuthInfo } from '../../access/index.js';
import { ENDPOINT_TYPES, endpointAddress } from '../../registry/index.js';
import type { EndpointType, RegistryDeps } from '../../registry/index.js';
import type { OperationTable } from '../create-api-server.js';
import { opt, optStrings } from './input-fields.js';

export function endpointAndAuthorizationOperations(
  deps: RegistryDeps,
  scopeOf: (caller: { accountId: string; region: string }) => Scope,
): OperationTable {
  return {
    DescribeEndpoint: async (caller, input) => {
      const type = opt(input, 'endpointType') ?? 'iot:Data';
      if (!(ENDPOINT_TYPES as readonly string[]).includes(type)) {
        throw invalidRequest(`Endpoint type ${type} not recognized; use one of ${ENDPOINT_TYPES.join(', ')}`);
      }
      const account = await deps.store.getAccount(caller.accountId);
      if (!account) throw internalFailure('The caller account vanished');
      return { endpointAddress: endpointAddress(account, caller.region, deps.domain, type as EndpointType) };
    },
    TestAuthorization: async (caller, input) => {
      const rawInfos = Array.isArray(input['authInfos']) ? (input['authInfos'] as Record<string, unknown>[]) : [];
      const authInfos: AuthInfo[] = rawInfos.map((i) => ({ actionType: opt(i, 'actionType'), resources: optStrings(i, 'resources') ?? [] }));
      const results = await testAuthorization(
        deps.store,
        scopeOf(caller),
        {
          principal: opt(input, 'principal'),
          clientId: opt(input, 'clientId'),
          authInfos,
          policyNamesToAdd: optStrings(input, 'policyNamesToAdd'),
          policyNamesToSkip: optStrings(input, 'policyNamesToSkip'),
        },
        deps.clock.now(),
      );
      for (const r of results) {
        if (r.authDecision !== 'ALLOWED') deps.logger.info({ requestId: caller.requestId, authInfo: r.authInfo, reasons: r.reasons }, 'TestAuthorization denied');
      }
      return {
        authResults: results.map((r) => ({
          authInfo: r.authInfo,
          allowed: { policies: r.allowed },
          denied: { implicitDeny: { policies: r.implicitDeny }, explicitDeny: { policies: r.explicitDeny } },
          authDecision: r.authDecision,
          missingContextValues: r.missingContextValues,
        })),
      };
    },
  };
}
