/**
 * Test-only helpers (imported by *.test.ts, never by index.ts): craft certificates and CSRs the
 * production issuer refuses to make — SHA-1 signatures, small or Ed25519 keys, odd validity —
 * with @peculiar/x509 and WebCrypto only (no openssl child process in core tests).
 */
import { KeyObject } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import type { Extension } from '@peculiar/x509';
import { ensureX509Runtime, subtleCrypto } from './x509-runtime.js';

export type TestKeyKind = 'EC-P256' | 'EC-P384' | 'RSA-2048' | 'RSA-1024' | 'RSA-2048-SHA1' | 'Ed25519';

export interface TestKeys {
  kind: TestKeyKind;
  pair: webcrypto.CryptoKeyPair;
  signingAlgorithm: { name: string; hash?: string };
}

const RSA_EXPONENT = new Uint8Array([1, 0, 1]);

export async function testKeys(kind: TestKeyKind): Promise<TestKeys> {
  const subtle = subtleCrypto();
  const usages: webcrypto.KeyUsage[] = ['sign', 'verify'];
  switch (kind) {
    case 'EC-P256':
    case 'EC-P384': {
      const namedCurve = kind === 'EC-P256' ? 'P-256' : 'P-384';
      const pair = (await subtle.generateKey({ name: 'ECDSA', namedCurve }, true, usages)) as webcrypto.CryptoKeyPair;
      return { kind, pair, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } };
    }
    case 'RSA-2048':
    case 'RSA-1024':
    case 'RSA-2048-SHA1': {
      const modulusLength = kind === 'RSA-1024' ? 1024 : 2048;
      const hash = kind === 'RSA-2048-SHA1' ? 'SHA-1' : 'SHA-256';
      const algorithm = { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: RSA_EXPONENT, hash };
      const pair = (await subtle.generateKey(algorithm, true, usages)) as webcrypto.CryptoKeyPair;
      return { kind, pair, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash } };
    }
    case 'Ed25519': {
      const pair = (await subtle.generateKey({ name: 'Ed25519' }, true, usages)) as webcrypto.CryptoKeyPair;
      return { kind, pair, signingAlgorithm: { name: 'Ed25519' } };
    }
  }
}

export function publicKeyPemOfKeys(keys: TestKeys): string {
  return KeyObject.from(keys.pair.publicKey).export({ type: 'spki', format: 'pem' }).toString();
}

export function privateKeyPemOfKeys(keys: TestKeys): string {
  return KeyObject.from(keys.pair.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
}

export interface CraftOptions {
  subject: string;
  keys: TestKeys;
  /** The signer: its keys and subject DN; omitted → self-signed. */
  issuer?: { keys: TestKeys; subject: string };
  notBefore?: Date;
  notAfter?: Date;
  ca?: boolean;
  /** basicConstraints pathLenConstraint (with ca). */
  pathLength?: number;
  /** Further extensions (keyUsage, extendedKeyUsage, name constraints, unknown ones …). */
  extensions?: Extension[];
  serialNumber?: string;
}

/** A certificate signed with whatever the keys allow (SHA-1, Ed25519, RSA-1024 …), as PEM. */
export async function craftCertificatePem(opts: CraftOptions): Promise<string> {
  const x509 = ensureX509Runtime();
  const signer = opts.issuer ?? { keys: opts.keys, subject: opts.subject };
  const now = Date.now();
  const extensions: Extension[] = [
    new x509.BasicConstraintsExtension(opts.ca ?? false, opts.pathLength, true),
    await x509.SubjectKeyIdentifierExtension.create(opts.keys.pair.publicKey),
    ...(opts.extensions ?? []),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: opts.serialNumber ?? '01',
    subject: opts.subject,
    issuer: signer.subject,
    notBefore: opts.notBefore ?? new Date(now - 3_600_000),
    notAfter: opts.notAfter ?? new Date(now + 86_400_000),
    publicKey: opts.keys.pair.publicKey,
    signingKey: signer.keys.pair.privateKey,
    signingAlgorithm: signer.keys.signingAlgorithm,
    extensions,
  });
  return cert.toString('pem');
}

/** A PKCS#10 CSR for the keys, as PEM. */
export async function craftCsrPem(subject: string, keys: TestKeys): Promise<string> {
  const x509 = ensureX509Runtime();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys: keys.pair,
    signingAlgorithm: keys.signingAlgorithm,
  });
  return csr.toString('pem');
}

/** A keyUsage extension (critical) with the named bits, for crafted certificates (e.g. one with two keyUsages). */
export function keyUsageExtension(...names: ('digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign')[]): Extension {
  const x509 = ensureX509Runtime();
  return new x509.KeyUsagesExtension(
    names.reduce((flags, name) => flags | x509.KeyUsageFlags[name], 0),
    true,
  );
}

/** An extendedKeyUsage extension (not critical) with the given purpose OIDs, for crafted certificates (e.g. one with two EKUs). */
export function extendedKeyUsageExtension(...oids: string[]): Extension {
  return new (ensureX509Runtime().ExtendedKeyUsageExtension)(oids, false);
}
