import { certificateValidation } from '../kernel/index.js';
import type { ParsedCertificate } from './parse-certificate.js';
import type { PublicKeyInfo } from './public-key-info.js';
import { publicKeyLabel } from './public-key-info.js';
import { ACCEPTED_PSS_HASHES, ACCEPTED_SIGNATURE_ALGORITHMS } from './signature-algorithms.js';

const ACCEPTED_CURVES: ReadonlySet<string> = new Set(['P-256', 'P-384', 'P-521']);
const MIN_RSA_BITS = 2048;
const MIN_DSA_BITS = 2048;

/**
 * Accepted: SHA-256/384/512 with RSA, RSASSA-PSS with SHA-256/384/512, DSA with SHA-256,
 * ECDSA with SHA-256/384/512. Anything else → CertificateValidationException naming the algorithm.
 */
export function checkSignatureAlgorithm(cert: ParsedCertificate): void {
  const { name, hash } = cert.signatureAlgorithm;
  if (name === 'RSASSA-PSS') {
    if (hash !== undefined && ACCEPTED_PSS_HASHES.has(hash)) return;
    throw certificateValidation(
      `Signature algorithm RSASSA-PSS with ${hash ?? 'an unrecognised hash'} is not supported; use SHA-256 or stronger`,
    );
  }
  if (ACCEPTED_SIGNATURE_ALGORITHMS.has(name)) return;
  throw certificateValidation(
    `Signature algorithm ${name} is not supported; use SHA-256 or stronger with RSA, RSASSA-PSS, DSA or ECDSA`,
  );
}

/** RSA ≥ 2048 bits, EC on P-256/P-384/P-521, DSA ≥ 2048 bits; anything else → errorFactory(message naming the key). */
export function checkPublicKey(key: PublicKeyInfo, errorFactory: (msg: string) => Error): void {
  switch (key.algorithm) {
    case 'RSA':
      if (key.bits !== undefined && key.bits >= MIN_RSA_BITS) return;
      throw errorFactory(`Key ${publicKeyLabel(key)} is not supported; RSA keys must be at least ${MIN_RSA_BITS} bits`);
    case 'EC':
      if (key.curve !== undefined && ACCEPTED_CURVES.has(key.curve)) return;
      throw errorFactory(`Key ${publicKeyLabel(key)} is not supported; EC keys must be on P-256, P-384 or P-521`);
    case 'DSA':
      if (key.bits !== undefined && key.bits >= MIN_DSA_BITS) return;
      throw errorFactory(`Key ${publicKeyLabel(key)} is not supported; DSA keys must be at least ${MIN_DSA_BITS} bits`);
    default:
      throw errorFactory(
        `Key algorithm ${publicKeyLabel(key)} is not supported; use RSA (at least ${MIN_RSA_BITS} bits) or EC (P-256, P-384 or P-521)`,
      );
  }
}

/** notBefore ≤ now ≤ notAfter, else CertificateValidationException. */
export function checkValidity(cert: ParsedCertificate, now: Date): void {
  const t = now.getTime();
  if (t > cert.notAfter.getTime()) {
    throw certificateValidation(`The certificate has expired (notAfter ${cert.notAfter.toISOString()})`);
  }
  if (t < cert.notBefore.getTime()) {
    throw certificateValidation(`The certificate is not yet valid (notBefore ${cert.notBefore.toISOString()})`);
  }
}

/** Signature algorithm, key and validity rules, all as CertificateValidationException. */
export function checkCertificateAcceptable(cert: ParsedCertificate, now: Date): void {
  checkSignatureAlgorithm(cert);
  checkPublicKey(cert.publicKey, (msg) => certificateValidation(msg));
  checkValidity(cert, now);
}

/** basicConstraints CA:TRUE, else CertificateValidationException. */
export function checkIsCa(cert: ParsedCertificate): void {
  if (!cert.isCa) {
    throw certificateValidation('The certificate is not a CA certificate (basicConstraints CA:TRUE is missing)');
  }
}
