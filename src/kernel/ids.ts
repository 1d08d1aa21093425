import { randomBytes, randomUUID } from 'node:crypto';

/** Random identifiers. node:crypto's CSPRNG is pure computation, allowed in the core. */

export function newGenerationId(): string {
  return randomUUID();
}

export function newThingId(): string {
  return randomUUID();
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** 12-digit AWS account id, first digit non-zero. */
export function newAccountId(): string {
  const digits = Array.from(randomBytes(12), (b) => String(b % 10));
  if (digits[0] === '0') digits[0] = '1';
  return digits.join('');
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Access key id in AWS's shape: AKIA + 16 upper-case base32 characters. */
export function newAccessKeyId(): string {
  return 'AKIA' + Array.from(randomBytes(16), (b) => KEY_ALPHABET[b % 32]).join('');
}

export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64').replace(/[+/=]/g, (c) => (c === '+' ? 'x' : c === '/' ? 'Y' : 'z')).slice(0, 40);
}

const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Data endpoint prefix: 14 lower-case alphanumerics, like AWS's. */
export function newEndpointPrefix(): string {
  return 'a' + Array.from(randomBytes(13), (b) => PREFIX_ALPHABET[b % 36]).join('');
}
