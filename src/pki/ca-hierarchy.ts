import { nameFromParts } from './distinguished-name.js';
import { issueCertificateWithName } from './issue-certificate.js';
import type { IssuerCredentials, KeyUsageName } from './issue-certificate.js';
import { generateKeyPair } from './key-pair.js';
import type { KeyPairKind } from './key-pair.js';

/** A certificate and its PKCS#8 private key. */
export interface CaHierarchyMember {
  certificatePem: string;
  privateKeyPem: string;
}

export interface CaOptions {
  keyType: 'RSA' | 'EC';
  commonName: string;
  organization: string;
  now: Date;
  years: number;
}

export interface ServerCertificateOptions {
  keyType: 'RSA' | 'EC';
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  now: Date;
  days: number;
}

/** Backdating tolerates small clock differences between this host and its peers. */
const BACKDATE_MS = 60_000;
const CA_KEY_USAGE: KeyUsageName[] = ['digitalSignature', 'keyCertSign', 'cRLSign'];

/** A self-signed root CA (CA:TRUE, no path length limit). */
export async function createRootCa(opts: CaOptions): Promise<CaHierarchyMember> {
  const keys = await generateKeyPair(keyKind(opts.keyType));
  const certificatePem = await issueCertificateWithName(nameFromParts([['CN', opts.commonName], ['O', opts.organization]]), {
    issuer: 'self',
    subjectPublicKeyPem: keys.publicKeyPem,
    subjectPrivateKeyPem: keys.privateKeyPem,
    notBefore: backdated(opts.now),
    notAfter: addYears(opts.now, opts.years),
    isCa: true,
    keyUsage: CA_KEY_USAGE,
  });
  return { certificatePem, privateKeyPem: keys.privateKeyPem };
}

/** An intermediate CA signed by `issuer` (CA:TRUE, pathLength 0). */
export async function createIntermediateCa(issuer: IssuerCredentials, opts: CaOptions): Promise<CaHierarchyMember> {
  const keys = await generateKeyPair(keyKind(opts.keyType));
  const certificatePem = await issueCertificateWithName(nameFromParts([['CN', opts.commonName], ['O', opts.organization]]), {
    issuer,
    subjectPublicKeyPem: keys.publicKeyPem,
    notBefore: backdated(opts.now),
    notAfter: addYears(opts.now, opts.years),
    isCa: true,
    pathLength: 0,
    keyUsage: CA_KEY_USAGE,
  });
  return { certificatePem, privateKeyPem: keys.privateKeyPem };
}

/** A TLS server certificate (serverAuth) for the given DNS names and IP addresses. */
export async function createServerCertificate(
  issuer: IssuerCredentials,
  opts: ServerCertificateOptions,
): Promise<CaHierarchyMember> {
  const keys = await generateKeyPair(keyKind(opts.keyType));
  const certificatePem = await issueCertificateWithName(nameFromParts([['CN', opts.commonName]]), {
    issuer,
    subjectPublicKeyPem: keys.publicKeyPem,
    notBefore: backdated(opts.now),
    notAfter: new Date(opts.now.getTime() + opts.days * 86_400_000),
    isCa: false,
    keyUsage: opts.keyType === 'RSA' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'],
    extendedKeyUsage: ['serverAuth'],
    dnsNames: opts.dnsNames,
    ipAddresses: opts.ipAddresses,
  });
  return { certificatePem, privateKeyPem: keys.privateKeyPem };
}

function keyKind(keyType: 'RSA' | 'EC'): KeyPairKind {
  return keyType === 'RSA' ? 'RSA-2048' : 'EC-P256';
}

function backdated(now: Date): Date {
  return new Date(now.getTime() - BACKDATE_MS);
}

function addYears(now: Date, years: number): Date {
  const end = new Date(now.getTime());
  end.setUTCFullYear(end.getUTCFullYear() + years);
  return end;
}
