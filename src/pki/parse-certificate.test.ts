import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { IotError } from '../kernel/index.js';
import { parseCertificateChainPem, parseCertificatePem, publicKeyPemOf } from './parse-certificate.js';
import { craftCertificatePem, testKeys } from './test-certificates.js';
import type { TestKeys } from './test-certificates.js';
import { ensureX509Runtime } from './x509-runtime.js';

function assertCertificateValidation(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IotError);
    assert.equal(e.code, 'CertificateValidationException');
    assert.equal(e.httpStatus, 400);
    assert.match(e.message, /not a valid PEM-encoded X\.509 certificate/);
    return true;
  });
}

describe('parseCertificatePem', () => {
  let ec: TestKeys;
  let pem: string;
  before(async () => {
    ec = await testKeys('EC-P256');
    pem = await craftCertificatePem({ subject: 'CN=device-1, O=Acme, C=DE', keys: ec, ca: true });
  });

  it('certificateId is the SHA-256 fingerprint node reports, lowercase without colons', () => {
    const cert = parseCertificatePem(pem);
    const expected = new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
    assert.equal(cert.certificateId, expected);
    assert.match(cert.certificateId, /^[0-9a-f]{64}$/);
  });

  it('reads subject, issuer, key, algorithm, CA flag, SKI', () => {
    const cert = parseCertificatePem(pem);
    assert.equal(cert.subject, 'CN=device-1, O=Acme, C=DE');
    assert.equal(cert.issuer, cert.subject);
    assert.deepEqual(cert.subjectAttributes, { CN: ['device-1'], O: ['Acme'], C: ['DE'] });
    assert.deepEqual(cert.publicKey, { algorithm: 'EC', curve: 'P-256' });
    assert.equal(cert.signatureAlgorithm.name, 'ecdsa-with-SHA256');
    assert.equal(cert.signatureAlgorithm.oid, '1.2.840.10045.4.3.2');
    assert.equal(cert.isCa, true);
    assert.match(cert.subjectKeyId ?? '', /^[0-9a-f]{40}$/);
    assert.equal(cert.serialNumber, '01');
    assert.equal(new X509Certificate(cert.der).subject, new X509Certificate(pem).subject);
  });

  it('normalises the PEM to one block with a trailing newline, tolerating CRLF and indentation', () => {
    const messy = `  leading text\r\n${pem.replace(/\n/g, '\r\n    ')}\r\n`;
    const cert = parseCertificatePem(messy);
    assert.ok(cert.pem.startsWith('-----BEGIN CERTIFICATE-----\n'));
    assert.ok(cert.pem.endsWith('-----END CERTIFICATE-----\n'));
    assert.equal(new X509Certificate(cert.pem).fingerprint256, new X509Certificate(pem).fingerprint256);
  });

  it('maps DN attributes to their short names and SAN entries to their kinds', async () => {
    const x509 = ensureX509Runtime();
    const keys = await testKeys('EC-P256');
    const name = new x509.Name([
      { '2.5.4.5': ['SN-42'] },
      { '1.2.840.113549.1.9.1': ['ops@example.com'] },
      { '2.5.4.12': ['Sensor'] },
      { OU: ['Plant A'] },
      { OU: ['Line 3'] },
    ]);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name,
      keys: keys.pair,
      signingAlgorithm: keys.signingAlgorithm,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'a.example' },
          { type: 'ip', value: '10.0.0.1' },
          { type: 'email', value: 'e@example.com' },
          { type: 'url', value: 'spiffe://acme/device' },
        ]),
      ],
    });
    const parsed = parseCertificatePem(cert.toString('pem'));
    assert.deepEqual(parsed.subjectAttributes, {
      serialNumber: ['SN-42'],
      emailAddress: ['ops@example.com'],
      title: ['Sensor'],
      OU: ['Plant A', 'Line 3'],
    });
    assert.deepEqual(parsed.subjectAltNames, {
      dns: ['a.example'],
      email: ['e@example.com'],
      uri: ['spiffe://acme/device'],
      ip: ['10.0.0.1'],
      directoryName: [],
    });
    assert.deepEqual(parsed.issuerAltNames.dns, []);
  });

  it('takes exactly the first CERTIFICATE block, skipping other block types', async () => {
    const other = await craftCertificatePem({ subject: 'CN=second', keys: ec });
    const keyBlock = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n';
    const cert = parseCertificatePem(keyBlock + pem + other);
    assert.equal(cert.subjectAttributes['CN']?.[0], 'device-1');
  });

  it('rejects garbage, empty text, bad base64 and non-certificate DER with CertificateValidationException', () => {
    assertCertificateValidation(() => parseCertificatePem(''));
    assertCertificateValidation(() => parseCertificatePem('not a certificate'));
    assertCertificateValidation(() => parseCertificatePem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'));
    assertCertificateValidation(() => parseCertificatePem('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n'));
    const truncated = pem.replace(/\n[^\n]+\n-----END/, '\n-----END');
    assertCertificateValidation(() => parseCertificatePem(truncated));
    assertCertificateValidation(() => parseCertificatePem(undefined as unknown as string));
  });

  it('publicKeyPemOf returns the SPKI PEM of the certificate key', () => {
    const cert = parseCertificatePem(pem);
    const spki = publicKeyPemOf(cert);
    assert.ok(spki.startsWith('-----BEGIN PUBLIC KEY-----'));
    assert.ok(createPublicKey(spki).equals(new X509Certificate(pem).publicKey));
  });
});

describe('parseCertificateChainPem', () => {
  it('returns every CERTIFICATE block in order', async () => {
    const keys = await testKeys('EC-P256');
    const a = await craftCertificatePem({ subject: 'CN=a', keys });
    const b = await craftCertificatePem({ subject: 'CN=b', keys });
    const chain = parseCertificateChainPem(`${a}\n${b}`);
    assert.deepEqual(
      chain.map((c) => c.subject),
      ['CN=a', 'CN=b'],
    );
  });

  it('rejects text without certificates, and a chain with one bad member', async () => {
    assertCertificateValidation(() => parseCertificateChainPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'));
    const keys = await testKeys('EC-P256');
    const good = await craftCertificatePem({ subject: 'CN=a', keys });
    assert.throws(
      () => parseCertificateChainPem(`${good}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`),
      (e: unknown) => e instanceof IotError && e.code === 'CertificateValidationException' && /certificate 2 of the chain/.test(e.message),
    );
  });
});
