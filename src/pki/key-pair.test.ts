import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { IotError } from '../kernel/index.js';
import { generateKeyPair, toPkcs1RsaPrivateKeyPem } from './key-pair.js';
import type { KeyPairKind } from './key-pair.js';

describe('generateKeyPair', () => {
  it('makes PKCS#8 / SPKI PEM pairs of the requested kind', async () => {
    const expected = { 'EC-P256': 'prime256v1', 'EC-P384': 'secp384r1' } as const;
    for (const kind of ['EC-P256', 'EC-P384'] as const) {
      const keys = await generateKeyPair(kind);
      assert.ok(keys.privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----'));
      assert.ok(keys.publicKeyPem.startsWith('-----BEGIN PUBLIC KEY-----'));
      const priv = createPrivateKey(keys.privateKeyPem);
      assert.equal(priv.asymmetricKeyDetails?.namedCurve, expected[kind]);
      assert.ok(createPublicKey(priv).equals(createPublicKey(keys.publicKeyPem)));
    }
  });

  it('RSA-2048 converts to PKCS#1 with the same key', async () => {
    const keys = await generateKeyPair('RSA-2048');
    const pkcs1 = toPkcs1RsaPrivateKeyPem(keys.privateKeyPem);
    assert.ok(pkcs1.startsWith('-----BEGIN RSA PRIVATE KEY-----\n'));
    assert.ok(createPublicKey(createPrivateKey(pkcs1)).equals(createPublicKey(keys.publicKeyPem)));
    assert.equal(createPrivateKey(pkcs1).asymmetricKeyDetails?.modulusLength, 2048);
  });

  it('refuses unknown kinds and non-key input with InvalidRequestException', async () => {
    await assert.rejects(generateKeyPair('DSA-1024' as KeyPairKind), (e: unknown) => e instanceof IotError && e.code === 'InvalidRequestException');
    assert.throws(() => toPkcs1RsaPrivateKeyPem('not a key'), (e: unknown) => e instanceof IotError && /not a valid PEM-encoded private key/.test(e.message));
  });
});
