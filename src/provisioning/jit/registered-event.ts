import type { ServiceMessage } from '../../access/index.js';
import type { Certificate } from '../../registry/index.js';

/** `$aws/events/certificates/registered/<caCertificateId>` (AWS reserved topic, subscribe only). */
export function registeredEventTopic(caCertificateId: string): string {
  return `$aws/events/certificates/registered/${caCertificateId}`;
}

/**
 * The JITR registration event (aws-reference.md §2.1 step 4): `timestamp` a number (epoch ms, like the
 * lifecycle events), `certificateRegistrationTimestamp` a string (AWS's example shows one; here the
 * registration time in epoch ms), `certificateStatus` PENDING_ACTIVATION — the status it was registered with.
 */
export function registeredEvent(certificate: Certificate & { readonly caCertificateId: string }, now: Date): ServiceMessage {
  return {
    scope: certificate.scope,
    topic: registeredEventTopic(certificate.caCertificateId),
    payload: JSON.stringify({
      certificateId: certificate.certificateId,
      caCertificateId: certificate.caCertificateId,
      timestamp: now.getTime(),
      certificateStatus: 'PENDING_ACTIVATION',
      awsAccountId: certificate.scope.accountId,
      certificateRegistrationTimestamp: String(certificate.creationDate.getTime()),
    }),
  };
}
