import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Scope } from '../../kernel/index.js';
import { invalidOwnershipToken } from './fleet-rejection.js';

/**
 * certificateOwnershipToken (fleet provisioning by claim): proves that whoever presents it received the new
 * certificate. Stateless: `<body>.<mac>`, body = base64url of `v1|accountId|region|certificateId|expiresAtMs|nonce`,
 * mac = HMAC-SHA256 under a key derived from certgate's master key, so tokens survive restarts and need no
 * storage. Bound to the certificate and its account/region; valid for `ttlMs` (AWS: one hour). Single use is
 * enforced by state: RegisterThing only accepts a certificate still PENDING_ACTIVATION, and leaves it ACTIVE
 * or INACTIVE.
 */

const VERSION = 'v1';
const HKDF_INFO = 'certgate fleet provisioning certificateOwnershipToken v1';
const MAX_TOKEN_CHARS = 2048;

export interface OwnershipTokenClaims {
  readonly scope: Scope;
  readonly certificateId: string;
  readonly expiresAt: Date;
}

export interface OwnershipTokens {
  issue(scope: Scope, certificateId: string, now: Date): string;
  /** The certificate the token names, if the token is genuine, for `scope`, and not expired; else InvalidCertificateOwnershipToken. */
  verify(token: string, scope: Scope, now: Date): OwnershipTokenClaims;
}

/** A 32-byte HMAC key for ownership tokens from a long-lived secret (HKDF-SHA256 with a purpose label). */
export function deriveOwnershipTokenKey(secret: Uint8Array): Uint8Array {
  if (secret.length < 16) throw new Error('ownership token secret must be at least 16 bytes');
  return new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), HKDF_INFO, 32));
}

export function createOwnershipTokens(key: Uint8Array, ttlMs: number): OwnershipTokens {
  if (key.length < 32) throw new Error('ownership token key must be 32 bytes');
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new Error('ownership token lifetime must be a positive number of milliseconds');
  const mac = (body: string): Buffer => createHmac('sha256', key).update(body).digest();

  return {
    issue(scope, certificateId, now) {
      const fields = [VERSION, scope.accountId, scope.region, certificateId, String(now.getTime() + ttlMs), randomBytes(16).toString('hex')];
      const body = Buffer.from(fields.join('|')).toString('base64url');
      return `${body}.${mac(body).toString('base64url')}`;
    },
    verify(token, scope, now) {
      const invalid = invalidOwnershipToken('The certificate ownership token is not valid');
      if (token.length > MAX_TOKEN_CHARS) throw invalid;
      const dot = token.indexOf('.');
      if (dot <= 0 || dot !== token.lastIndexOf('.')) throw invalid;
      const body = token.slice(0, dot);
      const macText = token.slice(dot + 1);
      const given = Buffer.from(macText, 'base64url');
      const expected = mac(body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid;
      // Node's base64url decoder skips characters outside the alphabet: only the canonical spelling is the token.
      // (The body needs no such check: the MAC is over its text.)
      if (given.toString('base64url') !== macText) throw invalid;
      const fields = Buffer.from(body, 'base64url').toString('utf8').split('|');
      const [version, accountId, region, certificateId, expiresAtMs] = fields;
      if (fields.length !== 6 || version !== VERSION || certificateId === undefined || expiresAtMs === undefined || !/^\d{1,15}$/.test(expiresAtMs)) throw invalid;
      // Genuine but minted for another account or region: not the caller's certificate.
      if (accountId !== scope.accountId || region !== scope.region) throw invalid;
      const expiresAt = new Date(Number(expiresAtMs));
      if (now.getTime() >= expiresAt.getTime()) throw invalidOwnershipToken('The certificate ownership token has expired');
      return { scope, certificateId, expiresAt };
    },
  };
}
