import { limitExceeded, resourceNotFound } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { PolicyAttachment } from '../entities.js';
import { pageOf, pageRequest } from '../pagination.js';
import type { RegistryDeps } from '../registry-deps.js';
import { resolveAttachableCertificatePrincipal, resolveCertificatePrincipal } from '../things/principal-arn.js';
import { getPolicyRecord } from './manage-policies.js';

/** Policies one target may have attached (AWS quota). */
export const MAX_POLICIES_PER_TARGET = 10;

/** AttachPolicy: idempotent; the target is a certificate ARN of this account and region. */
export async function attachPolicy(deps: RegistryDeps, scope: Scope, input: { policyName: string; target: string }): Promise<void> {
  const attached = await deps.store.transaction(async (tx) => {
    await getPolicyRecord(tx, scope, input.policyName);
    const target = await resolveAttachableCertificatePrincipal(tx, scope, input.target);
    const already = await tx.listAttachedPolicies(scope, target, { limit: MAX_POLICIES_PER_TARGET + 1, ascending: true });
    if (already.some((a) => a.policyName === input.policyName)) return false;
    if (already.length >= MAX_POLICIES_PER_TARGET) {
      throw limitExceeded(`At most ${MAX_POLICIES_PER_TARGET} policies can be attached to a certificate`);
    }
    await tx.insertPolicyAttachment({ scope, policyName: input.policyName, target, createdAt: deps.clock.now() });
    return true;
  });
  if (attached) await deps.events.emit({ type: 'policy-attachment-changed', scope, target: input.target });
}

/** DetachPolicy: idempotent (the model lists no ResourceNotFound for it). */
export async function detachPolicy(deps: RegistryDeps, scope: Scope, input: { policyName: string; target: string }): Promise<void> {
  if (await deps.store.deletePolicyAttachment(scope, input.policyName, input.target)) {
    await deps.events.emit({ type: 'policy-attachment-changed', scope, target: input.target });
  }
}

export async function listAttachedPolicies(
  deps: RegistryDeps,
  scope: Scope,
  input: { target: string; marker?: string | undefined; pageSize?: number | undefined },
): Promise<{ items: PolicyAttachment[]; nextMarker?: string }> {
  const target = await resolveCertificatePrincipal(deps.store, scope, input.target);
  const page = pageRequest({ ...input, ascendingOrder: true });
  return pageOf(await deps.store.listAttachedPolicies(scope, target, page), page, (a) => ({ createdAt: a.createdAt, key: a.policyName }));
}

export async function listTargetsForPolicy(
  deps: RegistryDeps,
  scope: Scope,
  input: { policyName: string; marker?: string | undefined; pageSize?: number | undefined },
): Promise<{ items: PolicyAttachment[]; nextMarker?: string }> {
  if (!(await deps.store.getPolicy(scope, input.policyName))) throw resourceNotFound(`Policy ${input.policyName} does not exist`);
  const page = pageRequest({ ...input, ascendingOrder: true });
  return pageOf(await deps.store.listPolicyTargets(scope, input.policyName, page), page, (a) => ({ createdAt: a.createdAt, key: a.target }));
}
