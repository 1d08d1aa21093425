import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { FleetRejection } from './fleet-rejection.js';
import { createOwnershipTokens, deriveOwnershipTokenKey } from './ownership-token.js';

const scope = { accountId: '123456789012', region: 'us-east-1' };
const cert = 'a'.repeat(64);
const HOUR = 3_600_000;
const t0 = new Date('2030-01-01T00:00:00Z');

function rejected(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof FleetRejection && e.statusCode === 400 && e.errorCode === 'InvalidCertificateOwnershipToken' && message.test(e.message));
}

describe('certificateOwnershipToken', () => {
  const key = deriveOwnershipTokenKey(randomBytes(32));
  const tokens = createOwnershipTokens(key, HOUR);

  it('names the certificate it was issued for, in its account, for one hour', () => {
    const token = tokens.issue(scope, cert, t0);
    const claims = tokens.verify(token, scope, new Date(t0.getTime() + HOUR - 1));
    assert.equal(claims.certificateId, cert);
    assert.equal(claims.expiresAt.getTime(), t0.getTime() + HOUR);
  });

  it('two tokens for the same certificate differ (random nonce)', () => {
    assert.notEqual(tokens.issue(scope, cert, t0), tokens.issue(scope, cert, t0));
  });

  it('expired after the lifetime', () => {
    const token = tokens.issue(scope, cert, t0);
    rejected(() => tokens.verify(token, scope, new Date(t0.getTime() + HOUR)), /expired/);
  });

  it('refused in another account or region', () => {
    const token = tokens.issue(scope, cert, t0);
    rejected(() => tokens.verify(token, { ...scope, accountId: '210987654321' }, t0), /not valid/);
    rejected(() => tokens.verify(token, { ...scope, region: 'eu-west-1' }, t0), /not valid/);
  });

  it('a forged or altered token is refused', () => {
    const token = tokens.issue(scope, cert, t0);
    const [body, mac] = token.split('.') as [string, string];
    const fields = Buffer.from(body, 'base64url').toString().split('|');
    fields[3] = 'b'.repeat(64);
    const altered = `${Buffer.from(fields.join('|')).toString('base64url')}.${mac}`;
    rejected(() => tokens.verify(altered, scope, t0), /not valid/);
    const otherKey = createOwnershipTokens(deriveOwnershipTokenKey(randomBytes(32)), HOUR);
    rejected(() => tokens.verify(otherKey.issue(scope, cert, t0), scope, t0), /not valid/);
    for (const junk of ['', '.', 'abc', 'a.b.c', `${body}.`, 'x'.repeat(5000), `${body}.${mac}x`]) rejected(() => tokens.verify(junk, scope, t0), /not valid/);
  });

  it('only the canonical spelling of a genuine token is accepted (no characters the base64url decoder skips)', () => {
    const token = tokens.issue(scope, cert, t0);
    const [body, mac] = token.split('.') as [string, string];
    assert.equal(tokens.verify(token, scope, t0).certificateId, cert);
    for (const variant of [`${body}.${mac}!`, `${body}.${mac}=`, `${body}.!${mac}`, `${body}.${mac.slice(0, 20)}*${mac.slice(20)}`]) {
      rejected(() => tokens.verify(variant, scope, t0), /not valid/);
    }
  });

  it('the key is derived, not the secret itself, and needs a real secret', () => {
    const secret = randomBytes(32);
    assert.notDeepEqual(Buffer.from(deriveOwnershipTokenKey(secret)), secret);
    assert.deepEqual(deriveOwnershipTokenKey(secret), deriveOwnershipTokenKey(secret));
    assert.throws(() => deriveOwnershipTokenKey(new Uint8Array(8)));
    assert.throws(() => createOwnershipTokens(key, 0));
  });
});
