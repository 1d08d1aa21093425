import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { IotError } from '../kernel/index.js';
import { MAX_CSR_LENGTH, parseCsrPem } from './csr.js';
import { craftCsrPem, publicKeyPemOfKeys, testKeys } from './test-certificates.js';

async function rejectsInvalidRequest(pem: string, pattern: RegExp): Promise<void> {
  await assert.rejects(parseCsrPem(pem), (e: unknown) => {
    assert.ok(e instanceof IotError, 'expected an IotError');
    assert.equal(e.code, 'InvalidRequestException');
    assert.match(e.message, pattern);
    return true;
  });
}

describe('parseCsrPem', () => {
  it('parses an EC P-256 CSR: subject, key info and SPKI', async () => {
    const keys = await testKeys('EC-P256');
    const csr = await parseCsrPem(await craftCsrPem('CN=thing-1, O=Acme', keys));
    assert.equal(csr.subject, 'CN=thing-1, O=Acme');
    assert.deepEqual(csr.subjectAttributes, { CN: ['thing-1'], O: ['Acme'] });
    assert.deepEqual(csr.publicKey, { algorithm: 'EC', curve: 'P-256' });
    const spki = createPublicKey({ key: Buffer.from(csr.spkiDer), format: 'der', type: 'spki' });
    assert.ok(spki.equals(createPublicKey(publicKeyPemOfKeys(keys))));
    assert.ok(csr.pem.startsWith('-----BEGIN CERTIFICATE REQUEST-----\n'));
  });

  it('accepts an RSA 2048 CSR', async () => {
    const csr = await parseCsrPem(await craftCsrPem('CN=rsa', await testKeys('RSA-2048')));
    assert.deepEqual(csr.publicKey, { algorithm: 'RSA', bits: 2048 });
  });

  it('rejects an RSA 1024 CSR, saying the key size rule', async () => {
    await rejectsInvalidRequest(await craftCsrPem('CN=small', await testKeys('RSA-1024')), /RSA 1024-bit.*at least 2048 bits/);
  });

  it('rejects an Ed25519 CSR, naming the algorithm', async () => {
    await rejectsInvalidRequest(await craftCsrPem('CN=ed', await testKeys('Ed25519')), /Ed25519.*not supported/);
  });

  it('rejects a CSR whose signature was tampered with', async () => {
    const pem = await craftCsrPem('CN=tamper', await testKeys('EC-P256'));
    const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const der = Buffer.from(body, 'base64');
    const last = der.length - 1;
    der[last] = (der[last] ?? 0) ^ 0x01; // flip a bit in the signature value (the DER ends with it)
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    await rejectsInvalidRequest(tampered, /signature does not verify/);
  });

  it('rejects garbage, empty and non-CSR PEM', async () => {
    await rejectsInvalidRequest('', /empty/);
    await rejectsInvalidRequest('hello', /not a valid PEM-encoded PKCS#10/);
    await rejectsInvalidRequest('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', /not a valid/);
    await rejectsInvalidRequest('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', /not a valid/);
  });

  it(`rejects a CSR longer than ${MAX_CSR_LENGTH} characters`, async () => {
    const pem = await craftCsrPem('CN=long', await testKeys('EC-P256'));
    await rejectsInvalidRequest(pem + ' '.repeat(MAX_CSR_LENGTH), /longer than 4096 characters/);
  });
});
