import { certificateState, invalidRequest } from '../../kernel/index.js';
import type { CertificateStatus } from '../entities.js';

/**
 * UpdateCertificate transitions, as AWS documents them:
 * - the caller may ask for ACTIVE, INACTIVE, REVOKED (and the deprecated REGISTER_INACTIVE);
 *   PENDING_TRANSFER and PENDING_ACTIVATION are the service's own states;
 * - REVOKED is terminal;
 * - a certificate in PENDING_TRANSFER cannot be updated until the transfer ends.
 */
const REQUESTABLE: ReadonlySet<CertificateStatus> = new Set(['ACTIVE', 'INACTIVE', 'REVOKED', 'REGISTER_INACTIVE']);

export function checkStatusTransition(from: CertificateStatus, to: CertificateStatus): void {
  if (!REQUESTABLE.has(to)) {
    throw invalidRequest(`Status ${to} is set by the service and cannot be requested; use ACTIVE, INACTIVE or REVOKED`);
  }
  if (from === 'REVOKED' && to !== 'REVOKED') {
    throw certificateState('The certificate is REVOKED; a revoked certificate cannot be reactivated or changed');
  }
  if (from === 'PENDING_TRANSFER') {
    throw certificateState('The certificate is PENDING_TRANSFER; cancel or complete the transfer first');
  }
}

/** Registration-time status: `status` wins, else deprecated `setAsActive`, else INACTIVE. */
export function initialStatus(status: string | undefined, setAsActive: boolean | undefined): CertificateStatus {
  if (status !== undefined) {
    if (status === 'ACTIVE' || status === 'INACTIVE' || status === 'REVOKED' || status === 'REGISTER_INACTIVE') return status;
    throw invalidRequest(`Status ${status} cannot be requested at registration; use ACTIVE, INACTIVE or REVOKED`);
  }
  return setAsActive ? 'ACTIVE' : 'INACTIVE';
}
