import { invalidRequest, parseIotArn, resourceNotFound } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { CertificateStore } from '../ports.js';

/**
 * A principal as the API names it: a certificate ARN of the caller's account and region.
 * (Thing groups and Cognito identities are AWS principals certgate does not have yet.)
 */
export async function resolveCertificatePrincipal(store: CertificateStore, scope: Scope, principal: string): Promise<string> {
  const arn = parseIotArn(principal);
  if (!arn || arn.type !== 'cert') {
    throw invalidRequest(`Principal '${principal}' is not a certificate ARN (arn:aws:iot:<region>:<account>:cert/<certificateId>)`);
  }
  if (arn.accountId !== scope.accountId || arn.region !== scope.region || !(await store.getCertificate(scope, arn.id))) {
    throw resourceNotFound(`The certificate ${principal} does not exist in this account and region`);
  }
  return principal;
}
