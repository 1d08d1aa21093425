import { X509Certificate as NodeX509Certificate, createHash } from 'node:crypto';
import type { X509Certificate, Extension } from '@peculiar/x509';
import { certificateValidation } from '../kernel/index.js';
import { dnAttributesOf, formatDistinguishedName } from './distinguished-name.js';
import type { DnAttributes } from './distinguished-name.js';
import { decodePemBlocks, encodePem } from './pem.js';
import { describePublicKey } from './public-key-info.js';
import type { PublicKeyInfo } from './public-key-info.js';
import { SIGNATURE_ALGORITHM_NAMES } from './signature-algorithms.js';
import { ensureX509Runtime } from './x509-runtime.js';

export interface SubjectAltNames {
  dns: string[];
  email: string[];
  uri: string[];
  ip: string[];
  directoryName: string[];
}

export interface SignatureAlgorithmInfo {
  oid: string;
  /** OpenSSL's name ('sha256WithRSAEncryption', 'RSASSA-PSS', …), or the OID when unknown. */
  name: string;
  /** The WebCrypto hash name when known ('SHA-256'); for RSASSA-PSS it comes from the parameters. */
  hash?: string;
}

export interface ParsedCertificate {
  /** Normalised single PEM block with a trailing newline. */
  pem: string;
  der: Uint8Array;
  /** Lowercase hex SHA-256 of the DER: AWS's certificateId. */
  certificateId: string;
  /** DN string; same formatting for subject and issuer, so `leaf.issuer === ca.subject`. */
  subject: string;
  issuer: string;
  subjectAttributes: DnAttributes;
  issuerAttributes: DnAttributes;
  subjectAltNames: SubjectAltNames;
  issuerAltNames: SubjectAltNames;
  /** Lowercase hex of the serial number (as OpenSSL prints it, without a sign-padding 00). */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  signatureAlgorithm: SignatureAlgorithmInfo;
  publicKey: PublicKeyInfo;
  /** basicConstraints cA = TRUE. */
  isCa: boolean;
  subjectKeyId: string | null;
  authorityKeyId: string | null;
}

const INVALID_CERTIFICATE = 'The certificate is not a valid PEM-encoded X.509 certificate';

/** Exactly the first CERTIFICATE block of `pem`. → CertificateValidationException if there is none or it is not X.509. */
export function parseCertificatePem(pem: string): ParsedCertificate {
  const first = certificateBlocks(pem)[0];
  if (!first) throw certificateValidation(INVALID_CERTIFICATE);
  return parseCertificateDer(first);
}

/** Every CERTIFICATE block of `pem`, in order. → CertificateValidationException if none, or any is not X.509. */
export function parseCertificateChainPem(pem: string): ParsedCertificate[] {
  const blocks = certificateBlocks(pem);
  if (blocks.length === 0) throw certificateValidation(INVALID_CERTIFICATE);
  return blocks.map((der, index) => parseCertificateDer(der, index));
}

/** The certificate's public key as an SPKI PEM. */
export function publicKeyPemOf(cert: ParsedCertificate): string {
  const key = new NodeX509Certificate(cert.der).publicKey;
  const pem = key.export({ type: 'spki', format: 'pem' }).toString();
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

function certificateBlocks(pem: string): Uint8Array[] {
  if (typeof pem !== 'string') return [];
  return decodePemBlocks(pem)
    .filter((block) => block.type === 'CERTIFICATE')
    .map((block) => block.der);
}

function parseCertificateDer(der: Uint8Array, index?: number): ParsedCertificate {
  const x509 = ensureX509Runtime();
  let cert: X509Certificate;
  try {
    // OpenSSL (node) is the stricter parser; x509 gives the extensions. Both must accept it.
    new NodeX509Certificate(der);
    cert = new x509.X509Certificate(der);
  } catch (cause) {
    const which = index === undefined ? '' : ` (certificate ${index + 1} of the chain)`;
    throw certificateValidation(`${INVALID_CERTIFICATE}${which}`, { cause });
  }
  try {
    return describe(cert, der);
  } catch (cause) {
    throw certificateValidation(`${INVALID_CERTIFICATE}: its fields could not be decoded`, { cause });
  }
}

function describe(cert: X509Certificate, der: Uint8Array): ParsedCertificate {
  const x509 = ensureX509Runtime();
  const subjectDer = cert.subjectName.toArrayBuffer();
  const issuerDer = cert.issuerName.toArrayBuffer();
  const basic = optionalExtension(() => cert.getExtension(x509.BasicConstraintsExtension));
  const ski = optionalExtension(() => cert.getExtension(x509.SubjectKeyIdentifierExtension));
  const aki = optionalExtension(() => cert.getExtension(x509.AuthorityKeyIdentifierExtension));
  return {
    pem: encodePem(der, 'CERTIFICATE'),
    der: new Uint8Array(der),
    certificateId: createHash('sha256').update(der).digest('hex'),
    subject: formatDistinguishedName(subjectDer),
    issuer: formatDistinguishedName(issuerDer),
    subjectAttributes: dnAttributesOf(subjectDer),
    issuerAttributes: dnAttributesOf(issuerDer),
    subjectAltNames: altNames(() => cert.getExtension(x509.SubjectAlternativeNameExtension)?.names),
    issuerAltNames: altNames(() => cert.getExtension(x509.IssuerAlternativeNameExtension)?.names),
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    signatureAlgorithm: signatureAlgorithmOf(cert),
    publicKey: describePublicKey(new Uint8Array(cert.publicKey.rawData)),
    isCa: basic?.ca === true,
    subjectKeyId: ski?.keyId?.toLowerCase() ?? null,
    authorityKeyId: aki?.keyId?.toLowerCase() ?? null,
  };
}

function signatureAlgorithmOf(cert: X509Certificate): SignatureAlgorithmInfo {
  const x509 = ensureX509Runtime();
  const web = cert.signatureAlgorithm as { name: string; hash?: { name?: string } };
  // x509 reports algorithms it has no WebCrypto mapping for by their OID.
  const oid = /^\d+(\.\d+)+$/.test(web.name) ? web.name : new x509.AlgorithmProvider().toAsnAlgorithm(web).algorithm;
  const name = SIGNATURE_ALGORITHM_NAMES[oid] ?? oid;
  const hash = web.hash?.name;
  return hash === undefined ? { oid, name } : { oid, name, hash };
}

/** A malformed optional extension is treated as absent rather than failing the whole parse. */
function optionalExtension<T extends Extension>(read: () => T | null): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

function altNames(read: () => { toJSON(): { type: string; value: string }[] } | undefined): SubjectAltNames {
  const out: SubjectAltNames = { dns: [], email: [], uri: [], ip: [], directoryName: [] };
  let names: { type: string; value: string }[] = [];
  try {
    names = read()?.toJSON() ?? [];
  } catch {
    return out; // e.g. otherName forms x509 does not decode
  }
  for (const { type, value } of names) {
    if (type === 'dns') out.dns.push(value);
    else if (type === 'email') out.email.push(value);
    else if (type === 'url') out.uri.push(value);
    else if (type === 'ip') out.ip.push(value);
    else if (type === 'dn') out.directoryName.push(value);
  }
  return out;
}
