import { createPrivateKey, generateKeyPair as generateNodeKeyPair } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { invalidRequest } from '../kernel/index.js';

/** PKCS#8 private key PEM and SPKI public key PEM. */
export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export type KeyPairKind = 'RSA-2048' | 'EC-P256' | 'EC-P384';

const PEM_ENCODING = {
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
} as const;

export function generateKeyPair(kind: KeyPairKind): Promise<KeyPairPem> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKeyPem: string, privateKeyPem: string): void => {
      if (err) reject(err);
      else resolve({ privateKeyPem, publicKeyPem });
    };
    switch (kind) {
      case 'RSA-2048':
        generateNodeKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001, ...PEM_ENCODING }, done);
        break;
      case 'EC-P256':
        generateNodeKeyPair('ec', { namedCurve: 'P-256', ...PEM_ENCODING }, done);
        break;
      case 'EC-P384':
        generateNodeKeyPair('ec', { namedCurve: 'P-384', ...PEM_ENCODING }, done);
        break;
      default:
        reject(invalidRequest(`Unsupported key pair kind ${String(kind)}`));
    }
  });
}

/** A PKCS#8 (or any node-readable) RSA private key PEM as '-----BEGIN RSA PRIVATE KEY-----' (PKCS#1). */
export function toPkcs1RsaPrivateKeyPem(pkcs8Pem: string): string {
  const key = loadPrivateKey(pkcs8Pem);
  if (key.asymmetricKeyType !== 'rsa') {
    throw invalidRequest(`Only RSA private keys have a PKCS#1 form, this key is ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return key.export({ type: 'pkcs1', format: 'pem' }).toString();
}

/** node KeyObject of a private key PEM → InvalidRequestException if it is not one. */
export function loadPrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw invalidRequest('The private key is not a valid PEM-encoded private key', { cause });
  }
}
