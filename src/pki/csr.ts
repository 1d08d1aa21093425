import type { Pkcs10CertificateRequest } from '@peculiar/x509';
import { invalidRequest } from '../kernel/index.js';
import { checkPublicKey } from './certificate-rules.js';
import { dnAttributesOf, formatDistinguishedName } from './distinguished-name.js';
import type { DnAttributes } from './distinguished-name.js';
import { decodePemBlocks, encodePem } from './pem.js';
import { describePublicKey, publicKeyLabel } from './public-key-info.js';
import type { PublicKeyInfo } from './public-key-info.js';
import { ensureX509Runtime } from './x509-runtime.js';

export interface ParsedCsr {
  pem: string;
  subject: string;
  subjectAttributes: DnAttributes;
  publicKey: PublicKeyInfo;
  /** DER SubjectPublicKeyInfo of the requested key. */
  spkiDer: Uint8Array;
}

/** CreateCertificateFromCsr's certificateSigningRequest limit. */
export const MAX_CSR_LENGTH = 4096;
const CSR_TYPES: ReadonlySet<string> = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/**
 * Parses and checks a PKCS#10 CSR → InvalidRequestException when it is not a PEM CSR, is longer than
 * 4096 characters, has a key other than RSA ≥ 2048 or EC on P-256/P-384/P-521, or its signature fails.
 */
export async function parseCsrPem(pem: string): Promise<ParsedCsr> {
  if (typeof pem !== 'string' || pem.trim() === '') {
    throw invalidRequest('The certificate signing request is empty');
  }
  if (pem.length > MAX_CSR_LENGTH) {
    throw invalidRequest(`The certificate signing request is longer than ${MAX_CSR_LENGTH} characters`);
  }
  const block = decodePemBlocks(pem).find((b) => CSR_TYPES.has(b.type));
  if (!block) {
    throw invalidRequest('The certificate signing request is not a valid PEM-encoded PKCS#10 request');
  }
  const x509 = ensureX509Runtime();
  let csr: Pkcs10CertificateRequest;
  let subjectDer: ArrayBuffer;
  let spkiDer: Uint8Array;
  try {
    csr = new x509.Pkcs10CertificateRequest(block.der);
    subjectDer = csr.subjectName.toArrayBuffer();
    spkiDer = new Uint8Array(csr.publicKey.rawData);
  } catch (cause) {
    throw invalidRequest('The certificate signing request is not a valid PEM-encoded PKCS#10 request', { cause });
  }
  const publicKey = describePublicKey(spkiDer);
  if (publicKey.algorithm !== 'RSA' && publicKey.algorithm !== 'EC') {
    throw invalidRequest(
      `The certificate signing request's key (${publicKeyLabel(publicKey)}) is not supported; use RSA (at least 2048 bits) or EC (P-256, P-384 or P-521)`,
    );
  }
  checkPublicKey(publicKey, (msg) => invalidRequest(`The certificate signing request's key is not accepted: ${msg}`));
  let verified = false;
  try {
    verified = await csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) {
    throw invalidRequest('The certificate signing request signature does not verify with its public key');
  }
  return {
    pem: encodePem(block.der, 'CERTIFICATE REQUEST'),
    subject: formatDistinguishedName(subjectDer),
    subjectAttributes: dnAttributesOf(subjectDer),
    publicKey,
    spkiDer,
  };
}
