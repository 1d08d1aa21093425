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

/**
 * A certificate principal that policies and things may be attached to: as `resolveCertificatePrincipal`, and not
 * PENDING_TRANSFER. AWS: a certificate is transferred deactivated and detached from all policies and things
 * (developer guide, "Transfer a certificate to another account"); an attachment made meanwhile would break
 * that precondition (issue 10 #8). InvalidRequestException: the error AttachPolicy's and
 * AttachThingPrincipal's models list for a request that cannot be done.
 */
export async function resolveAttachableCertificatePrincipal(store: CertificateStore, scope: Scope, principal: string): Promise<string> {
  const resolved = await resolveCertificatePrincipal(store, scope, principal);
  const id = parseIotArn(resolved)?.id ?? '';
  if ((await store.getCertificate(scope, id))?.status === 'PENDING_TRANSFER') {
    throw invalidRequest(
      `The certificate ${id} is PENDING_TRANSFER: nothing can be attached to it during a transfer (cancel the transfer with CancelCertificateTransfer first)`,
    );
  }
  return resolved;
}
