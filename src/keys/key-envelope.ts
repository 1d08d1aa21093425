import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The on-disk envelope of an encrypted key, version 1: JSON
 * `{"v":1,"alg":"AES-256-GCM","iv":b64,"tag":b64,"ct":b64}`; AAD = the key's name, so a file
 * renamed to another key's name does not decrypt.
 */
export interface KeyEnvelopeV1 {
  readonly v: 1;
  readonly alg: 'AES-256-GCM';
  readonly iv: string;
  readonly tag: string;
  readonly ct: string;
}

export const MASTER_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealKey(masterKey: Uint8Array, name: string, plaintext: string): string {
  checkMasterKey(masterKey);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const envelope: KeyEnvelopeV1 = {
    v: 1,
    alg: 'AES-256-GCM',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ct: ct.toString('base64'),
  };
  return JSON.stringify(envelope) + '\n';
}

/** Throws on a malformed envelope or a failed authentication (wrong key, wrong name, tampering). */
export function openKey(masterKey: Uint8Array, name: string, envelopeText: string): string {
  checkMasterKey(masterKey);
  const env = parseEnvelope(envelopeText);
  const iv = Buffer.from(env.iv, 'base64');
  const tag = Buffer.from(env.tag, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('key envelope: bad iv or tag length');
  const decipher = createDecipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(name, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(Buffer.from(env.ct, 'base64')), decipher.final()]).toString('utf8');
}

function parseEnvelope(text: string): KeyEnvelopeV1 {
  const raw: unknown = JSON.parse(text);
  if (typeof raw !== 'object' || raw === null) throw new Error('key envelope: not an object');
  const o = raw as Record<string, unknown>;
  if (o['v'] !== 1 || o['alg'] !== 'AES-256-GCM') throw new Error(`key envelope: unsupported version ${String(o['v'])}`);
  const { iv, tag, ct } = o;
  if (typeof iv !== 'string' || typeof tag !== 'string' || typeof ct !== 'string') throw new Error('key envelope: missing fields');
  return { v: 1, alg: 'AES-256-GCM', iv, tag, ct };
}

function checkMasterKey(key: Uint8Array): void {
  if (key.length !== MASTER_KEY_BYTES) throw new Error(`master key must be ${MASTER_KEY_BYTES} bytes`);
}
