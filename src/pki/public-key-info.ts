import { createPublicKey } from 'node:crypto';

export type KeyAlgorithm = 'RSA' | 'EC' | 'DSA' | 'Ed25519' | 'Ed448' | 'unknown';

export interface PublicKeyInfo {
  algorithm: KeyAlgorithm;
  bits?: number;
  curve?: 'P-256' | 'P-384' | 'P-521' | string;
}

const CURVE_NAMES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp256r1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

/** Describes a DER SubjectPublicKeyInfo; keys node cannot load are `{ algorithm: 'unknown' }`. */
export function describePublicKey(spkiDer: Uint8Array): PublicKeyInfo {
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  } catch {
    return { algorithm: 'unknown' };
  }
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return details.modulusLength === undefined ? { algorithm: 'RSA' } : { algorithm: 'RSA', bits: details.modulusLength };
    case 'dsa':
      return details.modulusLength === undefined ? { algorithm: 'DSA' } : { algorithm: 'DSA', bits: details.modulusLength };
    case 'ec': {
      const raw = details.namedCurve;
      return raw === undefined ? { algorithm: 'EC' } : { algorithm: 'EC', curve: CURVE_NAMES[raw] ?? raw };
    }
    case 'ed25519':
      return { algorithm: 'Ed25519' };
    case 'ed448':
      return { algorithm: 'Ed448' };
    default:
      return { algorithm: 'unknown' };
  }
}

/** A readable name for messages: "RSA 1024-bit", "EC secp256k1", "Ed25519". */
export function publicKeyLabel(key: PublicKeyInfo): string {
  if (key.algorithm === 'EC') return `EC ${key.curve ?? '(unnamed curve)'}`;
  if (key.bits !== undefined) return `${key.algorithm} ${key.bits}-bit`;
  return key.algorithm === 'unknown' ? 'an unrecognised key algorithm' : key.algorithm;
}
