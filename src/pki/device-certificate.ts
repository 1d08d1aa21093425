import { issueCertificate } from './issue-certificate.js';
import type { IssuerCredentials } from './issue-certificate.js';
import { generateKeyPair, toPkcs1RsaPrivateKeyPem } from './key-pair.js';

/** notAfter of every certificate AWS IoT issues (CreateKeysAndCertificate, CreateCertificateFromCsr). */
export const AWS_ISSUED_NOT_AFTER: Date = new Date('2049-12-31T23:59:59Z');

const AWS_ISSUED_SUBJECT = 'CN=AWS IoT Certificate';
const BACKDATE_MS = 60_000;

/**
 * A device certificate in the shape AWS IoT issues: subject 'CN=AWS IoT Certificate', notBefore one
 * minute before `now`, notAfter 2049-12-31T23:59:59Z, CA:FALSE, keyUsage digitalSignature, SKI/AKI, no EKU.
 */
export function issueDeviceCertificate(issuer: IssuerCredentials, subjectPublicKeyPem: string, now: Date): Promise<string> {
  return issueCertificate({
    issuer,
    subject: AWS_ISSUED_SUBJECT,
    subjectPublicKeyPem,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(AWS_ISSUED_NOT_AFTER.getTime()),
    isCa: false,
    keyUsage: ['digitalSignature'],
  });
}

/** CreateKeysAndCertificate: a new RSA 2048 key pair (private key as PKCS#1, as AWS returns it) and its certificate. */
export async function createKeysAndCertificate(
  issuer: IssuerCredentials,
  now: Date,
): Promise<{ certificatePem: string; privateKeyPem: string; publicKeyPem: string }> {
  const keys = await generateKeyPair('RSA-2048');
  const certificatePem = await issueDeviceCertificate(issuer, keys.publicKeyPem, now);
  return { certificatePem, privateKeyPem: toPkcs1RsaPrivateKeyPem(keys.privateKeyPem), publicKeyPem: keys.publicKeyPem };
}
