import { certificateState, deleteConflict, iotArn } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { RegistryDeps } from '../registry-deps.js';
import { getOwnedCertificate } from './get-certificate.js';

/**
 * DeleteCertificate: refused while ACTIVE or PENDING_TRANSFER (CertificateStateException), while a thing
 * is attached (DeleteConflictException, even with forceDelete), and while policies are attached unless
 * forceDelete, which detaches them.
 */
export async function deleteCertificate(
  deps: RegistryDeps,
  scope: Scope,
  input: { certificateId: string; forceDelete?: boolean | undefined },
): Promise<void> {
  const arn = iotArn(scope, 'cert', input.certificateId);
  const detached = await deps.store.transaction(async (tx) => {
    const cert = await getOwnedCertificate(tx, scope, input.certificateId);
    if (cert.status === 'ACTIVE') {
      throw certificateState('The certificate is ACTIVE; deactivate it (UpdateCertificate INACTIVE or REVOKED) before deleting it');
    }
    if (cert.status === 'PENDING_TRANSFER') {
      throw certificateState('The certificate is PENDING_TRANSFER; cancel the transfer before deleting it');
    }
    if ((await tx.countPrincipalThings(scope, arn)) > 0) {
      throw deleteConflict('Things are attached to the certificate; detach them (DetachThingPrincipal) before deleting it');
    }
    const policies = await tx.countAttachedPolicies(scope, arn);
    if (policies > 0 && !input.forceDelete) {
      throw deleteConflict('Policies are attached to the certificate; detach them or use forceDelete');
    }
    if (policies > 0) {
      const attached = await tx.listAttachedPolicies(scope, arn, { limit: policies + 1, ascending: true });
      for (const a of attached) await tx.deletePolicyAttachment(scope, a.policyName, arn);
    }
    await tx.deleteCertificate(scope, input.certificateId);
    return policies > 0;
  });
  await deps.events.emit({ type: 'certificate-deleted', scope, certificateId: input.certificateId });
  if (detached) await deps.events.emit({ type: 'policy-attachment-changed', scope, target: arn });
}
