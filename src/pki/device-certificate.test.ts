import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { createRootCa } from './ca-hierarchy.js';
import type { CaHierarchyMember } from './ca-hierarchy.js';
import { AWS_ISSUED_NOT_AFTER, createKeysAndCertificate, issueDeviceCertificate } from './device-certificate.js';
import { generateKeyPair } from './key-pair.js';
import { parseCertificatePem } from './parse-certificate.js';
import { isSignedBy } from './verify-signature.js';
import { ensureX509Runtime } from './x509-runtime.js';

describe('AWS-shaped device certificates', () => {
  const now = new Date('2031-06-15T12:00:00Z');
  let ca: CaHierarchyMember;
  before(async () => {
    ca = await createRootCa({ keyType: 'EC', commonName: 'certgate Device CA', organization: 'certgate', now, years: 30 });
  });

  it('createKeysAndCertificate: RSA 2048, PKCS#1 private key matching the certificate', async () => {
    const out = await createKeysAndCertificate(ca, now);
    assert.ok(out.privateKeyPem.startsWith('-----BEGIN RSA PRIVATE KEY-----\n'));
    assert.ok(out.publicKeyPem.startsWith('-----BEGIN PUBLIC KEY-----\n'));
    const priv = createPrivateKey(out.privateKeyPem);
    assert.equal(priv.asymmetricKeyType, 'rsa');
    assert.equal(priv.asymmetricKeyDetails?.modulusLength, 2048);
    const cert = new X509Certificate(out.certificatePem);
    assert.ok(cert.checkPrivateKey(priv));
    assert.ok(cert.publicKey.equals(createPublicKey(out.publicKeyPem)));
  });

  it('has the observed AWS shape: subject, validity, CA:FALSE, digitalSignature only, SKI/AKI, no EKU', async () => {
    const out = await createKeysAndCertificate(ca, now);
    const parsed = parseCertificatePem(out.certificatePem);
    const issuer = parseCertificatePem(ca.certificatePem);
    assert.equal(parsed.subject, 'CN=AWS IoT Certificate');
    assert.equal(parsed.issuer, issuer.subject);
    assert.equal(parsed.notBefore.toISOString(), '2031-06-15T11:59:00.000Z');
    assert.equal(parsed.notAfter.toISOString(), '2049-12-31T23:59:59.000Z');
    assert.equal(AWS_ISSUED_NOT_AFTER.toISOString(), '2049-12-31T23:59:59.000Z');
    assert.equal(parsed.isCa, false);
    assert.equal(parsed.authorityKeyId, issuer.subjectKeyId);
    assert.match(parsed.subjectKeyId ?? '', /^[0-9a-f]{40}$/);
    assert.equal(isSignedBy(parsed, issuer), true);

    const x509 = ensureX509Runtime();
    const cert = new x509.X509Certificate(out.certificatePem);
    const usage = cert.getExtension(x509.KeyUsagesExtension);
    assert.equal(usage?.usages, x509.KeyUsageFlags.digitalSignature);
    assert.equal(usage?.critical, true);
    assert.equal(cert.getExtension(x509.ExtendedKeyUsageExtension), null);
    assert.equal(cert.getExtension(x509.BasicConstraintsExtension)?.ca, false);
  });

  it('issueDeviceCertificate certifies the given key, with a new serial each time', async () => {
    const keys = await generateKeyPair('EC-P384');
    const a = parseCertificatePem(await issueDeviceCertificate(ca, keys.publicKeyPem, now));
    const b = parseCertificatePem(await issueDeviceCertificate(ca, keys.publicKeyPem, now));
    assert.deepEqual(a.publicKey, { algorithm: 'EC', curve: 'P-384' });
    assert.notEqual(a.serialNumber, b.serialNumber);
    assert.notEqual(a.certificateId, b.certificateId);
    assert.equal(a.subjectKeyId, b.subjectKeyId);
  });
});
