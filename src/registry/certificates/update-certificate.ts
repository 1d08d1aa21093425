import type { Scope } from '../../kernel/index.js';
import type { CertificateStatus } from '../entities.js';
import type { RegistryDeps } from '../registry-deps.js';
import { checkStatusTransition } from './certificate-status-rules.js';
import { getOwnedCertificate } from './get-certificate.js';
import { revised } from './new-certificate-record.js';

/** UpdateCertificate: idempotent; leaving ACTIVE is announced so live connections can be closed. */
export async function updateCertificate(
  deps: RegistryDeps,
  scope: Scope,
  input: { certificateId: string; newStatus: CertificateStatus },
): Promise<void> {
  const changed = await deps.store.transaction(async (tx) => {
    const cert = await getOwnedCertificate(tx, scope, input.certificateId);
    if (cert.status === input.newStatus) return false;
    checkStatusTransition(cert.status, input.newStatus);
    await tx.updateCertificate(revised(cert, { status: input.newStatus }, deps.clock.now()));
    return true;
  });
  if (changed) {
    await deps.events.emit({ type: 'certificate-status-changed', scope, certificateId: input.certificateId, status: input.newStatus });
  }
}
