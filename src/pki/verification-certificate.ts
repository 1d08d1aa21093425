import { certificateValidation, registrationCodeValidation } from '../kernel/index.js';
import { checkSignatureAlgorithm, checkValidity } from './certificate-rules.js';
import type { ParsedCertificate } from './parse-certificate.js';
import { isSignedBy } from './verify-signature.js';

/**
 * RegisterCACertificate proof of possession (certificateMode DEFAULT): the verification certificate's
 * subject CN must be the registration code (→ RegistrationCodeValidationException) and its signature
 * must verify with the CA's public key (→ CertificateValidationException); its signature algorithm
 * and validity are checked too. `now` defaults to the wall clock: pass the Clock's time.
 */
export function checkVerificationCertificate(
  verification: ParsedCertificate,
  ca: ParsedCertificate,
  registrationCode: string,
  now: Date = new Date(),
): void {
  const commonNames = verification.subjectAttributes['CN'] ?? [];
  if (commonNames.length !== 1 || commonNames[0] !== registrationCode) {
    throw registrationCodeValidation(
      "The verification certificate's subject common name (CN) does not match the registration code",
    );
  }
  if (!isSignedBy(verification, ca)) {
    throw certificateValidation("The verification certificate is not signed by the CA certificate's private key");
  }
  checkSignatureAlgorithm(verification);
  checkValidity(verification, now);
}
