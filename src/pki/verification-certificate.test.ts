import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { IotError } from '../kernel/index.js';
import { parseCertificatePem } from './parse-certificate.js';
import type { ParsedCertificate } from './parse-certificate.js';
import { craftCertificatePem, testKeys } from './test-certificates.js';
import type { TestKeys } from './test-certificates.js';
import { checkVerificationCertificate } from './verification-certificate.js';

function rejectsWith(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IotError, 'expected an IotError');
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('checkVerificationCertificate (RegisterCACertificate proof of possession)', () => {
  const code = '4c1c9b7e0d2f3a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b';
  const now = new Date();
  let caKeys: TestKeys;
  let leafKeys: TestKeys;
  let ca: ParsedCertificate;
  const caSubject = 'CN=Customer CA, O=Customer';

  before(async () => {
    caKeys = await testKeys('EC-P256');
    leafKeys = await testKeys('EC-P256');
    ca = parseCertificatePem(await craftCertificatePem({ subject: caSubject, keys: caKeys, ca: true }));
  });

  async function verification(cn: string, signer: TestKeys, validity: { notBefore?: Date; notAfter?: Date } = {}) {
    return parseCertificatePem(
      await craftCertificatePem({ subject: `CN=${cn}`, keys: leafKeys, issuer: { keys: signer, subject: caSubject }, ...validity }),
    );
  }

  it('accepts a certificate with CN = registration code signed by the CA key', async () => {
    const v = await verification(code, caKeys);
    assert.doesNotThrow(() => checkVerificationCertificate(v, ca, code, now));
    assert.doesNotThrow(() => checkVerificationCertificate(v, ca, code));
  });

  it('wrong CN → RegistrationCodeValidationException', async () => {
    const v = await verification('not-the-code', caKeys);
    rejectsWith(() => checkVerificationCertificate(v, ca, code, now), 'RegistrationCodeValidationException', /does not match the registration code/);
  });

  it("signed by another key → CertificateValidationException", async () => {
    const impostor = await testKeys('EC-P256');
    const v = await verification(code, impostor);
    rejectsWith(
      () => checkVerificationCertificate(v, ca, code, now),
      'CertificateValidationException',
      /not signed by the CA certificate's private key/,
    );
  });

  it('an expired verification certificate → CertificateValidationException', async () => {
    const v = await verification(code, caKeys, {
      notBefore: new Date(now.getTime() - 2 * 86_400_000),
      notAfter: new Date(now.getTime() - 86_400_000),
    });
    rejectsWith(() => checkVerificationCertificate(v, ca, code, now), 'CertificateValidationException', /has expired/);
  });

  it('a SHA-1 signed verification certificate → CertificateValidationException', async () => {
    const sha1Ca = await testKeys('RSA-2048-SHA1');
    const sha1CaCert = parseCertificatePem(await craftCertificatePem({ subject: caSubject, keys: sha1Ca, ca: true }));
    const v = await verification(code, sha1Ca);
    rejectsWith(() => checkVerificationCertificate(v, sha1CaCert, code, now), 'CertificateValidationException', /sha1WithRSAEncryption/);
  });
});
