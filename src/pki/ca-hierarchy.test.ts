import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createIntermediateCa, createRootCa, createServerCertificate } from './ca-hierarchy.js';
import type { CaHierarchyMember } from './ca-hierarchy.js';
import { checkCertificateAcceptable, checkIsCa } from './certificate-rules.js';
import { parseCertificatePem } from './parse-certificate.js';
import type { ParsedCertificate } from './parse-certificate.js';
import { isSignedBy } from './verify-signature.js';
import { ensureX509Runtime } from './x509-runtime.js';

describe('CA hierarchy: root → intermediate → server', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  let root: CaHierarchyMember;
  let intermediate: CaHierarchyMember;
  let server: CaHierarchyMember;
  let otherRoot: CaHierarchyMember;
  let r: ParsedCertificate;
  let i: ParsedCertificate;
  let s: ParsedCertificate;
  let o: ParsedCertificate;

  before(async () => {
    root = await createRootCa({ keyType: 'EC', commonName: 'certgate Root CA, "ECC"', organization: 'certgate', now, years: 20 });
    intermediate = await createIntermediateCa(root, { keyType: 'RSA', commonName: 'certgate Issuing CA', organization: 'certgate', now, years: 10 });
    server = await createServerCertificate(intermediate, {
      keyType: 'EC',
      commonName: 'iot.example.com',
      dnsNames: ['iot.example.com', 'localhost'],
      ipAddresses: ['127.0.0.1'],
      now,
      days: 90,
    });
    otherRoot = await createRootCa({ keyType: 'EC', commonName: 'other', organization: 'elsewhere', now, years: 1 });
    [r, i, s, o] = [root, intermediate, server, otherRoot].map((m) => parseCertificatePem(m.certificatePem)) as [
      ParsedCertificate,
      ParsedCertificate,
      ParsedCertificate,
      ParsedCertificate,
    ];
  });

  it('names: issuer of each is the subject of its CA, values kept verbatim', () => {
    assert.deepEqual(r.subjectAttributes, { CN: ['certgate Root CA, "ECC"'], O: ['certgate'] });
    assert.equal(r.issuer, r.subject);
    assert.equal(i.issuer, r.subject);
    assert.equal(s.issuer, i.subject);
    assert.deepEqual(s.subjectAttributes, { CN: ['iot.example.com'] });
  });

  it('AKI of each certificate is its issuer SKI (own SKI for the root)', () => {
    for (const c of [r, i, s]) assert.match(c.subjectKeyId ?? '', /^[0-9a-f]{40}$/);
    assert.equal(r.authorityKeyId, r.subjectKeyId);
    assert.equal(i.authorityKeyId, r.subjectKeyId);
    assert.equal(s.authorityKeyId, i.subjectKeyId);
  });

  it('isSignedBy holds along the chain and fails across it', () => {
    assert.equal(isSignedBy(r, r), true);
    assert.equal(isSignedBy(i, r), true);
    assert.equal(isSignedBy(s, i), true);
    assert.equal(isSignedBy(s, r), false);
    assert.equal(isSignedBy(i, o), false);
    assert.equal(isSignedBy(r, i), false);
    assert.equal(isSignedBy(s, { ...i, der: new Uint8Array([1, 2, 3]) }), false);
  });

  it('node/OpenSSL agrees the chain is issued and signed', () => {
    const [nr, ni, ns] = [root, intermediate, server].map((m) => new X509Certificate(m.certificatePem)) as [
      X509Certificate,
      X509Certificate,
      X509Certificate,
    ];
    assert.equal(ni.checkIssued(nr), true);
    assert.equal(ns.checkIssued(ni), true);
    assert.equal(ns.verify(ni.publicKey), true);
    assert.equal(ns.checkHost('iot.example.com'), 'iot.example.com');
    assert.equal(ns.checkIP('127.0.0.1'), '127.0.0.1');
    assert.deepEqual(ns.keyUsage, ['1.3.6.1.5.5.7.3.1']); // node's keyUsage lists EKU OIDs: serverAuth
    assert.match(ni.subject, /CN=certgate Issuing CA/);
  });

  it('CA flags, key types, validity and signature algorithms', () => {
    assert.equal(r.isCa, true);
    assert.equal(i.isCa, true);
    assert.equal(s.isCa, false);
    assert.doesNotThrow(() => checkIsCa(i));
    assert.deepEqual(r.publicKey, { algorithm: 'EC', curve: 'P-256' });
    assert.deepEqual(i.publicKey, { algorithm: 'RSA', bits: 2048 });
    assert.equal(i.signatureAlgorithm.name, 'ecdsa-with-SHA256');
    assert.equal(s.signatureAlgorithm.name, 'sha256WithRSAEncryption');
    assert.equal(r.notAfter.toISOString(), '2050-01-01T00:00:00.000Z');
    assert.equal(s.notAfter.toISOString(), '2030-04-01T00:00:00.000Z');
    assert.ok(r.notBefore.getTime() <= now.getTime());
    for (const c of [r, i, s]) assert.doesNotThrow(() => checkCertificateAcceptable(c, now));
    assert.deepEqual(s.subjectAltNames.dns, ['iot.example.com', 'localhost']);
    assert.deepEqual(s.subjectAltNames.ip, ['127.0.0.1']);
  });

  it('serials are random positive 20-byte values', () => {
    const serials = [r, i, s, o].map((c) => c.serialNumber);
    assert.equal(new Set(serials).size, 4);
    for (const serial of serials) assert.match(serial, /^[4-7][0-9a-f]{39}$/);
  });

  it('the intermediate has pathLength 0, basicConstraints and keyUsage are critical', () => {
    const x509 = ensureX509Runtime();
    const cert = new x509.X509Certificate(intermediate.certificatePem);
    const basic = cert.getExtension(x509.BasicConstraintsExtension);
    assert.equal(basic?.ca, true);
    assert.equal(basic?.pathLength, 0);
    assert.equal(basic?.critical, true);
    const usage = cert.getExtension(x509.KeyUsagesExtension);
    assert.equal(usage?.critical, true);
    assert.ok(((usage?.usages ?? 0) & x509.KeyUsageFlags.keyCertSign) !== 0);
    const rootBasic = new x509.X509Certificate(root.certificatePem).getExtension(x509.BasicConstraintsExtension);
    assert.equal(rootBasic?.pathLength, undefined);
    assert.ok(intermediate.privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----'));
  });
});
