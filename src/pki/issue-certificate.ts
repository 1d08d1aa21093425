import { createPublicKey, randomBytes } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import type { Extension, Name } from '@peculiar/x509';
import { invalidRequest } from '../kernel/index.js';
import { parseDistinguishedName } from './distinguished-name.js';
import { loadPrivateKey } from './key-pair.js';
import { encodePem } from './pem.js';
import { ensureX509Runtime, subtleCrypto } from './x509-runtime.js';

/** An issuing CA: its certificate and its PKCS#8 private key. */
export interface IssuerCredentials {
  certificatePem: string;
  privateKeyPem: string;
}

export type KeyUsageName = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';
export type ExtendedKeyUsageName = 'serverAuth' | 'clientAuth';

export interface IssueOptions {
  /** 'self' → self-signed with the subject key (subjectPrivateKeyPem required). */
  issuer: IssuerCredentials | 'self';
  /** DN string like 'CN=certgate Root CA ECC, O=certgate'. */
  subject: string;
  subjectPublicKeyPem: string;
  subjectPrivateKeyPem?: string;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  pathLength?: number;
  keyUsage: KeyUsageName[];
  extendedKeyUsage?: ExtendedKeyUsageName[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

const SERIAL_BYTES = 20;

interface Signer {
  key: webcrypto.CryptoKey;
  algorithm: { name: string; hash: string };
  spkiDer: Uint8Array;
}

/**
 * Issues an X.509 v3 certificate, PEM. Random positive 20-byte serial; SKI always; AKI = the issuer's
 * SKI (own SKI when self-signed); basicConstraints and keyUsage critical; SHA-256 signature
 * (RSA PKCS#1 v1.5 for RSA issuers, ECDSA for EC issuers). Bad inputs → InvalidRequestException.
 */
export async function issueCertificate(opts: IssueOptions): Promise<string> {
  const { subject, ...rest } = opts;
  return await issueCertificateWithName(parseDistinguishedName(subject), rest);
}

/** issueCertificate with the subject given as a Name (no DN-string round trip: values are kept verbatim). */
export async function issueCertificateWithName(subjectName: Name, opts: Omit<IssueOptions, 'subject'>): Promise<string> {
  const x509 = ensureX509Runtime();
  checkDates(opts.notBefore, opts.notAfter);
  const subjectSpki = spkiDerOf(opts.subjectPublicKeyPem);
  const subjectKey = new x509.PublicKey(subjectSpki);
  const subjectKeyId = await x509.SubjectKeyIdentifierExtension.create(subjectKey);

  let signer: Signer;
  let issuerName: Name;
  let authorityKeyId: string;
  if (opts.issuer === 'self') {
    if (opts.subjectPrivateKeyPem === undefined) {
      throw invalidRequest('A self-signed certificate needs the subject private key');
    }
    signer = await importSigner(opts.subjectPrivateKeyPem);
    if (!sameBytes(signer.spkiDer, subjectSpki)) {
      throw invalidRequest('The subject private key does not match the subject public key');
    }
    issuerName = subjectName;
    authorityKeyId = subjectKeyId.keyId;
  } else {
    let issuerCert;
    try {
      issuerCert = new x509.X509Certificate(opts.issuer.certificatePem);
    } catch (cause) {
      throw invalidRequest('The issuer certificate is not a valid PEM-encoded X.509 certificate', { cause });
    }
    signer = await importSigner(opts.issuer.privateKeyPem);
    if (!sameBytes(signer.spkiDer, new Uint8Array(issuerCert.publicKey.rawData))) {
      throw invalidRequest('The issuer private key does not match the issuer certificate');
    }
    issuerName = issuerCert.subjectName;
    const issuerSki = issuerCert.getExtension(x509.SubjectKeyIdentifierExtension);
    authorityKeyId = issuerSki?.keyId ?? (await x509.SubjectKeyIdentifierExtension.create(issuerCert.publicKey)).keyId;
  }

  const extensions: Extension[] = [
    new x509.BasicConstraintsExtension(opts.isCa, opts.isCa ? opts.pathLength : undefined, true),
    new x509.KeyUsagesExtension(keyUsageFlags(opts.keyUsage), true),
  ];
  if (opts.extendedKeyUsage !== undefined && opts.extendedKeyUsage.length > 0) {
    extensions.push(new x509.ExtendedKeyUsageExtension(opts.extendedKeyUsage.map((u) => x509.ExtendedKeyUsage[u])));
  }
  const san = subjectAltNames(opts.dnsNames ?? [], opts.ipAddresses ?? []);
  if (san) extensions.push(san);
  extensions.push(subjectKeyId, new x509.AuthorityKeyIdentifierExtension(authorityKeyId));

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: subjectName,
    issuer: issuerName,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    publicKey: subjectKey,
    signingKey: signer.key,
    signingAlgorithm: signer.algorithm,
    extensions,
  });
  return encodePem(new Uint8Array(cert.rawData), 'CERTIFICATE');
}

function checkDates(notBefore: Date, notAfter: Date): void {
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    throw invalidRequest('notBefore and notAfter must be valid dates');
  }
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw invalidRequest('notAfter must be later than notBefore');
  }
}

/** A positive serial of exactly 20 bytes (RFC 5280 §4.1.2.2): top bit clear, next bit set. */
function randomSerial(): string {
  const bytes = randomBytes(SERIAL_BYTES);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function keyUsageFlags(usages: readonly KeyUsageName[]): number {
  const x509 = ensureX509Runtime();
  return usages.reduce((flags, usage) => flags | x509.KeyUsageFlags[usage], 0);
}

function subjectAltNames(dnsNames: readonly string[], ipAddresses: readonly string[]): Extension | null {
  if (dnsNames.length === 0 && ipAddresses.length === 0) return null;
  const x509 = ensureX509Runtime();
  try {
    return new x509.SubjectAlternativeNameExtension([
      ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ]);
  } catch (cause) {
    throw invalidRequest('The subject alternative names are not valid DNS names or IP addresses', { cause });
  }
}

function spkiDerOf(publicKeyPem: string): Uint8Array {
  try {
    return new Uint8Array(createPublicKey({ key: publicKeyPem, format: 'pem' }).export({ type: 'spki', format: 'der' }));
  } catch (cause) {
    throw invalidRequest('The subject public key is not a valid PEM-encoded public key', { cause });
  }
}

async function importSigner(privateKeyPem: string): Promise<Signer> {
  const key = loadPrivateKey(privateKeyPem);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const spkiDer = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  const subtle = subtleCrypto();
  if (key.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { key: await subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']), algorithm, spkiDer };
  }
  if (key.asymmetricKeyType === 'ec') {
    const namedCurve = webCryptoCurve(key.asymmetricKeyDetails?.namedCurve);
    const cryptoKey = await subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, ['sign']);
    return { key: cryptoKey, algorithm: { name: 'ECDSA', hash: 'SHA-256' }, spkiDer };
  }
  throw invalidRequest(`Issuer keys must be RSA or EC, this key is ${key.asymmetricKeyType ?? 'unknown'}`);
}

function webCryptoCurve(nodeCurve: string | undefined): string {
  switch (nodeCurve) {
    case 'prime256v1':
      return 'P-256';
    case 'secp384r1':
      return 'P-384';
    case 'secp521r1':
      return 'P-521';
    default:
      throw invalidRequest(`Issuer EC keys must be on P-256, P-384 or P-521, this key is on ${nodeCurve ?? 'an unnamed curve'}`);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
