import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { IotError } from '../kernel/index.js';
import { createRootCa } from './ca-hierarchy.js';
import type { CaHierarchyMember } from './ca-hierarchy.js';
import { issueCertificate } from './issue-certificate.js';
import type { IssueOptions } from './issue-certificate.js';
import { generateKeyPair, toPkcs1RsaPrivateKeyPem } from './key-pair.js';
import type { KeyPairPem } from './key-pair.js';
import { parseCertificatePem } from './parse-certificate.js';

async function rejectsInvalidRequest(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof IotError, 'expected an IotError');
    assert.equal(e.code, 'InvalidRequestException');
    assert.match(e.message, pattern);
    return true;
  });
}

describe('issueCertificate', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  let ca: CaHierarchyMember;
  let other: CaHierarchyMember;
  let leafKeys: KeyPairPem;
  let base: IssueOptions;
  before(async () => {
    ca = await createRootCa({ keyType: 'EC', commonName: 'ca', organization: 'o', now, years: 5 });
    other = await createRootCa({ keyType: 'EC', commonName: 'other', organization: 'o', now, years: 5 });
    leafKeys = await generateKeyPair('EC-P256');
    base = {
      issuer: ca,
      subject: 'CN=leaf, OU=Plant\\, North, O=Acme',
      subjectPublicKeyPem: leafKeys.publicKeyPem,
      notBefore: now,
      notAfter: new Date('2031-01-01T00:00:00Z'),
      isCa: false,
      keyUsage: ['digitalSignature'],
      extendedKeyUsage: ['clientAuth'],
    };
  });

  it('issues from a DN string, with the requested EKU and exact validity', async () => {
    const pem = await issueCertificate(base);
    const parsed = parseCertificatePem(pem);
    assert.deepEqual(parsed.subjectAttributes, { CN: ['leaf'], OU: ['Plant, North'], O: ['Acme'] });
    assert.equal(parsed.notBefore.toISOString(), now.toISOString());
    assert.equal(parsed.notAfter.toISOString(), '2031-01-01T00:00:00.000Z');
    assert.deepEqual(new X509Certificate(pem).keyUsage, ['1.3.6.1.5.5.7.3.2']);
  });

  it('self-signs with the subject key', async () => {
    const keys = await generateKeyPair('RSA-2048');
    const pem = await issueCertificate({
      ...base,
      issuer: 'self',
      subject: 'CN=self',
      subjectPublicKeyPem: keys.publicKeyPem,
      subjectPrivateKeyPem: keys.privateKeyPem,
      isCa: true,
      keyUsage: ['keyCertSign', 'cRLSign'],
    });
    const parsed = parseCertificatePem(pem);
    assert.equal(parsed.issuer, 'CN=self');
    assert.equal(parsed.authorityKeyId, parsed.subjectKeyId);
    assert.equal(parsed.signatureAlgorithm.name, 'sha256WithRSAEncryption');
    // PKCS#1 form of an RSA key, and refusal for an EC key
    assert.ok(toPkcs1RsaPrivateKeyPem(keys.privateKeyPem).startsWith('-----BEGIN RSA PRIVATE KEY-----'));
    assert.throws(() => toPkcs1RsaPrivateKeyPem(leafKeys.privateKeyPem), (e: unknown) => e instanceof IotError && /Only RSA/.test(e.message));
  });

  it('rejects bad inputs with InvalidRequestException', async () => {
    await rejectsInvalidRequest(issueCertificate({ ...base, subjectPublicKeyPem: 'nope' }), /subject public key is not a valid/);
    await rejectsInvalidRequest(issueCertificate({ ...base, issuer: 'self' }), /needs the subject private key/);
    await rejectsInvalidRequest(
      issueCertificate({ ...base, issuer: { certificatePem: ca.certificatePem, privateKeyPem: other.privateKeyPem } }),
      /issuer private key does not match/,
    );
    await rejectsInvalidRequest(
      issueCertificate({ ...base, issuer: { certificatePem: 'garbage', privateKeyPem: ca.privateKeyPem } }),
      /issuer certificate is not a valid/,
    );
    await rejectsInvalidRequest(
      issueCertificate({ ...base, issuer: { certificatePem: ca.certificatePem, privateKeyPem: 'garbage' } }),
      /private key is not a valid/,
    );
    await rejectsInvalidRequest(issueCertificate({ ...base, notAfter: now }), /notAfter must be later/);
    await rejectsInvalidRequest(issueCertificate({ ...base, subject: 'XYZZY=1' }), /distinguished name .* is not valid/);
    await rejectsInvalidRequest(issueCertificate({ ...base, ipAddresses: ['not-an-ip'] }), /alternative names/);
  });
});
