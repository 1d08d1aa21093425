import { X509Certificate } from 'node:crypto';
import type { ParsedCertificate } from './parse-certificate.js';

/** Whether `child`'s signature verifies with `issuer`'s public key (OpenSSL via node). Never throws. */
export function isSignedBy(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return new X509Certificate(child.der).verify(new X509Certificate(issuer.der).publicKey);
  } catch {
    return false;
  }
}
