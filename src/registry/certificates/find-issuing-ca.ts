import { certificateValidation } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import { isSignedBy, parseCertificatePem } from '../../pki/index.js';
import type { ParsedCertificate } from '../../pki/index.js';
import type { CaCertificate } from '../entities.js';
import type { CaCertificateStore } from '../ports.js';

export interface IssuingCa {
  readonly ca: CaCertificate;
  readonly parsed: ParsedCertificate;
}

/**
 * The registered CA that signed `device`, in the caller's account and region: named by
 * `caCertificatePem`, or found by issuer DN (and key identifier) among the registered CAs.
 * The signature must verify with that CA's key.
 */
export async function findIssuingCa(
  store: CaCertificateStore,
  scope: Scope,
  device: ParsedCertificate,
  caCertificatePem: string | undefined,
): Promise<IssuingCa> {
  if (caCertificatePem !== undefined) {
    const named = parseCertificatePem(caCertificatePem);
    const ca = await store.getCaCertificate(scope, named.certificateId);
    if (!ca) {
      throw certificateValidation(`The CA certificate ${named.certificateId} is not registered in this account and region`);
    }
    if (!isSignedBy(device, named)) {
      throw certificateValidation('The certificate is not signed by the given CA certificate (signature does not verify)');
    }
    return { ca, parsed: named };
  }
  const candidates = await store.findCaCertificatesBySubject(scope, device.issuer);
  for (const ca of candidates) {
    const parsed = parseCertificatePem(ca.certificatePem);
    if (device.authorityKeyId && parsed.subjectKeyId && device.authorityKeyId !== parsed.subjectKeyId) continue;
    if (isSignedBy(device, parsed)) return { ca, parsed };
  }
  throw certificateValidation(
    candidates.length === 0
      ? `The certificate's issuer (${device.issuer}) is not a CA registered in this account and region; register the CA first`
      : `No CA registered with subject ${device.issuer} verifies this certificate's signature`,
  );
}
