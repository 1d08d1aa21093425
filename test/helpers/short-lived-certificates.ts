// Certificates with validity periods openssl cannot easily make (seconds, not days), for data-plane tests:
// a CA registered in an account with RegisterCACertificate (proof of possession included), and device
// certificates under it with an exact notBefore/notAfter. Built with @peculiar/x509 + WebCrypto through
// src/pki's test-only crafting helpers; nothing is written to disk.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { GetRegistrationCodeCommand, RegisterCACertificateCommand } from '@aws-sdk/client-iot';
import { craftCertificatePem, privateKeyPemOfKeys, testKeys } from '../../src/pki/test-certificates.js';
import type { TestKeys } from '../../src/pki/test-certificates.js';
import { iotClient } from './iot-clients.js';
import type { ApiAccount } from './iot-clients.js';

export interface CraftedCa {
  readonly subject: string;
  readonly keys: TestKeys;
  readonly certPem: string;
  readonly caCertificateId: string;
}

export interface CraftedDeviceCert {
  readonly certPem: string;
  readonly keyPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** A new EC P-256 CA, registered ACTIVE (DEFAULT mode) in `account` with a verification certificate. */
export async function registerCraftedCa(account: ApiAccount): Promise<CraftedCa> {
  const iot = iotClient(account);
  const keys = await testKeys('EC-P256');
  const subject = `CN=short-lived test CA ${randomBytes(5).toString('hex')}`;
  const now = Date.now();
  const certPem = await craftCertificatePem({ subject, keys, ca: true, notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 30 * 86_400_000) });
  const { registrationCode } = await iot.send(new GetRegistrationCodeCommand({}));
  assert.ok(registrationCode);
  const verification = await craftCertificatePem({ subject: `CN=${registrationCode}`, keys: await testKeys('EC-P256'), issuer: { keys, subject } });
  const out = await iot.send(new RegisterCACertificateCommand({ caCertificate: certPem, verificationCertificate: verification, setAsActive: true }));
  assert.ok(out.certificateId);
  return { subject, keys, certPem, caCertificateId: out.certificateId };
}

/** X.509 times have whole seconds: what the certificate will say. */
const wholeSeconds = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);

/** A device certificate (EC P-256) signed by `ca`, valid from `notBefore` to `notAfter` (cut to whole seconds). */
export async function craftDeviceCert(ca: CraftedCa, requested: { notBefore: Date; notAfter: Date }): Promise<CraftedDeviceCert> {
  const validity = { notBefore: wholeSeconds(requested.notBefore), notAfter: wholeSeconds(requested.notAfter) };
  const keys = await testKeys('EC-P256');
  const certPem = await craftCertificatePem({
    subject: `CN=device-${randomBytes(5).toString('hex')}`,
    keys,
    issuer: { keys: ca.keys, subject: ca.subject },
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
  });
  return { certPem, keyPem: privateKeyPemOfKeys(keys), notBefore: validity.notBefore, notAfter: validity.notAfter };
}

/** Resolves once the wall clock is past `moment` by `marginMs` (bounded by the distance to it). */
export async function waitUntilPast(moment: Date, marginMs = 1_000): Promise<void> {
  const ms = moment.getTime() + marginMs - Date.now();
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}
