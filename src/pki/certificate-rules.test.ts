import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { IotError, certificateValidation, invalidRequest } from '../kernel/index.js';
import {
  checkCertificateAcceptable,
  checkIsCa,
  checkPublicKey,
  checkSignatureAlgorithm,
  checkValidity,
} from './certificate-rules.js';
import { parseCertificatePem } from './parse-certificate.js';
import type { ParsedCertificate } from './parse-certificate.js';
import { craftCertificatePem, testKeys } from './test-certificates.js';

function rejectsWith(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IotError, 'expected an IotError');
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

const DAY = 86_400_000;

describe('certificate rules', () => {
  const now = new Date();
  let good: ParsedCertificate;
  before(async () => {
    const keys = await testKeys('EC-P256');
    good = parseCertificatePem(await craftCertificatePem({ subject: 'CN=ok', keys, ca: true }));
  });

  it('accepts an ECDSA P-256 SHA-256 certificate within its validity', () => {
    assert.doesNotThrow(() => checkCertificateAcceptable(good, now));
    assert.doesNotThrow(() => checkIsCa(good));
  });

  it('rejects a SHA-1 signed certificate, naming the algorithm', async () => {
    const keys = await testKeys('RSA-2048-SHA1');
    const cert = parseCertificatePem(await craftCertificatePem({ subject: 'CN=sha1', keys }));
    assert.equal(cert.signatureAlgorithm.name, 'sha1WithRSAEncryption');
    rejectsWith(() => checkSignatureAlgorithm(cert), 'CertificateValidationException', /sha1WithRSAEncryption is not supported/);
    rejectsWith(() => checkCertificateAcceptable(cert, now), 'CertificateValidationException', /sha1WithRSAEncryption/);
  });

  it('rejects an Ed25519 certificate (algorithm and key)', async () => {
    const keys = await testKeys('Ed25519');
    const cert = parseCertificatePem(await craftCertificatePem({ subject: 'CN=ed', keys }));
    assert.deepEqual(cert.publicKey, { algorithm: 'Ed25519' });
    rejectsWith(() => checkSignatureAlgorithm(cert), 'CertificateValidationException', /Ed25519 is not supported/);
    rejectsWith(
      () => checkPublicKey(cert.publicKey, certificateValidation),
      'CertificateValidationException',
      /Key algorithm Ed25519 is not supported/,
    );
  });

  it('rejects an RSA-1024 certificate key, saying the minimum', async () => {
    const keys = await testKeys('RSA-1024');
    const cert = parseCertificatePem(await craftCertificatePem({ subject: 'CN=small', keys }));
    assert.deepEqual(cert.publicKey, { algorithm: 'RSA', bits: 1024 });
    assert.doesNotThrow(() => checkSignatureAlgorithm(cert));
    rejectsWith(() => checkCertificateAcceptable(cert, now), 'CertificateValidationException', /RSA 1024-bit.*at least 2048/);
  });

  it('checkPublicKey applies the key table and uses the given error factory', () => {
    assert.doesNotThrow(() => checkPublicKey({ algorithm: 'RSA', bits: 2048 }, invalidRequest));
    assert.doesNotThrow(() => checkPublicKey({ algorithm: 'RSA', bits: 4096 }, invalidRequest));
    assert.doesNotThrow(() => checkPublicKey({ algorithm: 'EC', curve: 'P-384' }, invalidRequest));
    assert.doesNotThrow(() => checkPublicKey({ algorithm: 'EC', curve: 'P-521' }, invalidRequest));
    assert.doesNotThrow(() => checkPublicKey({ algorithm: 'DSA', bits: 2048 }, invalidRequest));
    rejectsWith(() => checkPublicKey({ algorithm: 'EC', curve: 'secp256k1' }, invalidRequest), 'InvalidRequestException', /secp256k1/);
    rejectsWith(() => checkPublicKey({ algorithm: 'DSA', bits: 1024 }, invalidRequest), 'InvalidRequestException', /DSA 1024-bit/);
    rejectsWith(() => checkPublicKey({ algorithm: 'RSA' }, invalidRequest), 'InvalidRequestException', /RSA keys must be at least 2048/);
    rejectsWith(() => checkPublicKey({ algorithm: 'unknown' }, invalidRequest), 'InvalidRequestException', /unrecognised/);
  });

  it('accepts RSASSA-PSS only with SHA-256 or stronger', () => {
    const pss = (hash: string): ParsedCertificate => ({
      ...good,
      signatureAlgorithm: { oid: '1.2.840.113549.1.1.10', name: 'RSASSA-PSS', hash },
    });
    assert.doesNotThrow(() => checkSignatureAlgorithm(pss('SHA-384')));
    rejectsWith(() => checkSignatureAlgorithm(pss('SHA-1')), 'CertificateValidationException', /RSASSA-PSS with SHA-1/);
  });

  it('rejects an expired and a not-yet-valid certificate', async () => {
    const keys = await testKeys('EC-P256');
    const expired = parseCertificatePem(
      await craftCertificatePem({ subject: 'CN=old', keys, notBefore: new Date(now.getTime() - 10 * DAY), notAfter: new Date(now.getTime() - DAY) }),
    );
    rejectsWith(() => checkValidity(expired, now), 'CertificateValidationException', /has expired/);
    rejectsWith(() => checkCertificateAcceptable(expired, now), 'CertificateValidationException', /has expired/);
    const future = parseCertificatePem(
      await craftCertificatePem({ subject: 'CN=new', keys, notBefore: new Date(now.getTime() + DAY), notAfter: new Date(now.getTime() + 10 * DAY) }),
    );
    rejectsWith(() => checkValidity(future, now), 'CertificateValidationException', /not yet valid/);
    assert.doesNotThrow(() => checkValidity(future, new Date(now.getTime() + 2 * DAY)));
  });

  it('checkIsCa rejects a certificate without basicConstraints CA:TRUE', async () => {
    const keys = await testKeys('EC-P256');
    const leaf = parseCertificatePem(await craftCertificatePem({ subject: 'CN=leaf', keys, ca: false }));
    assert.equal(leaf.isCa, false);
    rejectsWith(() => checkIsCa(leaf), 'CertificateValidationException', /not a CA certificate \(basicConstraints CA:TRUE is missing\)/);
  });
});
