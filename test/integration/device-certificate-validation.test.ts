// issue 10 #5 and #6 through the control plane: RegisterCertificate and RegisterCertificateWithoutCA refuse
// what is not a TLS client certificate, or whose path to the registered CA does not validate (RFC 5280),
// with CertificateValidationException naming the check; nothing is registered. CreateCertificateFromCsr
// never issues a CA. Real certgate process, @aws-sdk/client-iot, certificates made by openssl at run time.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateCertificateFromCsrCommand,
  DescribeCertificateCommand,
  GetRegistrationCodeCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
} from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { craftCertificatePem, extendedKeyUsageExtension, keyUsageExtension, testKeys } from '../../src/pki/test-certificates.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ACME_US_CA, CA_EXTENSIONS, DEFECT_REASON, DEFECTIVE_DEVICE_EXTENSIONS, makeCaWith, signWith } from '../helpers/extension-certificates.js';
import { expectIotError, iotClient } from '../helpers/iot-clients.js';
import { certificateIdOfPem, registerCa } from '../helpers/jit.js';
import type { RegisteredCa } from '../helpers/jit.js';
import { runOpenssl, TestPki } from '../helpers/openssl.js';

describe('device certificates are checked as X.509 demands (issue 10 #5, #6): control plane', { timeout: 240_000 }, () => {
  let server: RunningCertgate;
  let iot: IoTClient;
  let pki: TestPki;
  let plainCa: RegisteredCa;

  before(async () => {
    server = await startCertgate();
    iot = iotClient(server);
    pki = await TestPki.create();
    plainCa = await registerCa(iot, pki, { allowAutoRegistration: false });
  });

  after(async () => {
    iot?.destroy();
    await server?.stop();
    await pki?.cleanup();
  });

  async function assertNotRegistered(certPem: string): Promise<void> {
    await expectIotError(iot.send(new DescribeCertificateCommand({ certificateId: certificateIdOfPem(certPem) })), 'ResourceNotFoundException');
  }

  it('issue 10 #5: a CA certificate is not a device certificate — RegisterCertificate refuses a CA:TRUE certificate signed by the registered CA', async () => {
    // A pathLen:0 CA would not even allow it as an intermediate; as a device it is refused for being a CA.
    const intermediate = await signWith(pki, plainCa.ca, { extensions: CA_EXTENSIONS });
    const err = await expectIotError(iot.send(new RegisterCertificateCommand({ certificatePem: intermediate.certPem, caCertificatePem: plainCa.ca.certPem, status: 'ACTIVE' })), 'CertificateValidationException', 400);
    assert.match(err.message, /CA certificate \(basicConstraints CA:TRUE\), not a device certificate/);
    await assertNotRegistered(intermediate.certPem);
    // Found by issuer, without caCertificatePem: the same.
    await expectIotError(iot.send(new RegisterCertificateCommand({ certificatePem: intermediate.certPem, status: 'ACTIVE' })), 'CertificateValidationException', 400);
    await assertNotRegistered(intermediate.certPem);
  });

  it('issue 10 #5: a CA certificate is not a device certificate — RegisterCertificateWithoutCA refuses a CA:TRUE certificate', async () => {
    const ca = await pki.makeCa();
    const err = await expectIotError(iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: ca.certPem, status: 'ACTIVE' })), 'CertificateValidationException', 400);
    assert.match(err.message, /not a device certificate/);
    await assertNotRegistered(ca.certPem);
  });

  for (const [defect, extensions] of Object.entries(DEFECTIVE_DEVICE_EXTENSIONS) as [keyof typeof DEFECTIVE_DEVICE_EXTENSIONS, readonly string[]][]) {
    it(`issue 10 #6: RegisterCertificate and RegisterCertificateWithoutCA refuse a device certificate with ${defect}`, async () => {
      const cert = await signWith(pki, plainCa.ca, { extensions });
      const err = await expectIotError(iot.send(new RegisterCertificateCommand({ certificatePem: cert.certPem, caCertificatePem: plainCa.ca.certPem, status: 'ACTIVE' })), 'CertificateValidationException', 400);
      assert.match(err.message, DEFECT_REASON[defect]);
      await assertNotRegistered(cert.certPem);
      const noCa = await expectIotError(iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: cert.certPem, status: 'ACTIVE' })), 'CertificateValidationException', 400);
      assert.match(noCa.message, DEFECT_REASON[defect]);
      await assertNotRegistered(cert.certPem);
    });
  }

  it("issue 10 #6: RegisterCertificate refuses a device outside the registered CA's name constraints, and registers one inside", async () => {
    const constrained = await registerCa(iot, pki, {
      allowAutoRegistration: false,
      ca: await makeCaWith(pki, { subject: { O: 'Acme' }, extensions: [...CA_EXTENSIONS, 'nameConstraints=critical,permitted;dirName:acme_dn,permitted;DNS:devices.acme.example', '[acme_dn]', 'O=Acme'] }),
    });
    const outside = await signWith(pki, constrained.ca, { subject: { O: 'Evil', CN: 'sensor-outside' } });
    const err = await expectIotError(iot.send(new RegisterCertificateCommand({ certificatePem: outside.certPem, caCertificatePem: constrained.ca.certPem, status: 'ACTIVE' })), 'CertificateValidationException', 400);
    assert.match(err.message, /violates the name constraints of its CA/);
    await assertNotRegistered(outside.certPem);

    const inside = await signWith(pki, constrained.ca, { subject: { O: 'Acme', CN: 'sensor-inside' } });
    const ok = await iot.send(new RegisterCertificateCommand({ certificatePem: inside.certPem, caCertificatePem: constrained.ca.certPem, status: 'ACTIVE' }));
    assert.equal(ok.certificateId, certificateIdOfPem(inside.certPem));
  });

  it('issue 10 review #1: RegisterCertificate refuses a device whose subject puts an RDN before those of its CA\'s directoryName constraint', async () => {
    const constrained = await registerCa(iot, pki, { allowAutoRegistration: false, ca: await makeCaWith(pki, { subject: ACME_US_CA.subject, extensions: ACME_US_CA.extensions }) });
    // DER order OU=Evil, C=US, O=Acme, CN=…: C=US and O=Acme appear in order, but C=US, O=Acme is not its prefix.
    const prepended = await signWith(pki, constrained.ca, { subject: ACME_US_CA.prepended });
    const err = await expectIotError(iot.send(new RegisterCertificateCommand({ certificatePem: prepended.certPem, caCertificatePem: constrained.ca.certPem, status: 'ACTIVE' })), 'CertificateValidationException', 400);
    assert.match(err.message, /violates the name constraints of its CA: its subject OU=Evil, C=US, O=Acme, CN=sensor-prepended is not within the permitted directoryName subtrees/);
    await assertNotRegistered(prepended.certPem);

    const inside = await signWith(pki, constrained.ca, { subject: ACME_US_CA.inside });
    const ok = await iot.send(new RegisterCertificateCommand({ certificatePem: inside.certPem, caCertificatePem: constrained.ca.certPem, status: 'ACTIVE' }));
    assert.equal(ok.certificateId, certificateIdOfPem(inside.certPem));
  });

  it('issue 10 review #2: a repeated extension is refused — RegisterCertificateWithoutCA, RegisterCertificate and RegisterCACertificate', async () => {
    // Two extendedKeyUsage extensions: clientAuth first (what certgate read), serverAuth only second.
    const twoEku = await craftCertificatePem({
      subject: 'CN=two-ekus',
      keys: await testKeys('EC-P256'),
      extensions: [extendedKeyUsageExtension('1.3.6.1.5.5.7.3.2'), extendedKeyUsageExtension('1.3.6.1.5.5.7.3.1')],
    });
    const err = await expectIotError(iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: twoEku, status: 'ACTIVE' })), 'CertificateValidationException', 400);
    assert.match(err.message, /more than one extKeyUsage extension \(2\.5\.29\.37\)/);
    await assertNotRegistered(twoEku);

    // A CA with two keyUsage extensions (keyCertSign, then digitalSignature only) is not registered, nor are its devices.
    const keys = await testKeys('EC-P256');
    const subject = `CN=two keyUsages CA ${Date.now()}`;
    const caPem = await craftCertificatePem({ subject, keys, ca: true, extensions: [keyUsageExtension('keyCertSign'), keyUsageExtension('digitalSignature')] });
    const { registrationCode } = await iot.send(new GetRegistrationCodeCommand({}));
    const verification = await craftCertificatePem({ subject: `CN=${String(registrationCode)}`, keys: await testKeys('EC-P256'), issuer: { keys, subject } });
    const caErr = await expectIotError(iot.send(new RegisterCACertificateCommand({ caCertificate: caPem, verificationCertificate: verification, setAsActive: true })), 'CertificateValidationException', 400);
    assert.match(caErr.message, /more than one keyUsage extension \(2\.5\.29\.15\)/);
    const device = await craftCertificatePem({ subject: 'CN=device-of-two-keyusages', keys: await testKeys('EC-P256'), issuer: { keys, subject } });
    const deviceErr = await expectIotError(iot.send(new RegisterCertificateCommand({ certificatePem: device, caCertificatePem: caPem, status: 'ACTIVE' })), 'CertificateValidationException', 400);
    assert.match(deviceErr.message, /is not registered/);
    await assertNotRegistered(device);
  });

  it('issue 10 #6: RegisterCertificate refuses a device once its registered CA has expired (validity of every certificate of the path)', async () => {
    // A CA valid for a short while, registered while in date; then its notAfter passes.
    const keys = await testKeys('EC-P256');
    const subject = `CN=expiring CA ${certificateIdOfPem(plainCa.ca.certPem).slice(0, 8)}-${Date.now()}`;
    const caNotAfter = new Date(Date.now() + 15_000);
    const caPem = await craftCertificatePem({ subject, keys, ca: true, notBefore: new Date(Date.now() - 60_000), notAfter: caNotAfter });
    const { registrationCode } = await iot.send(new GetRegistrationCodeCommand({}));
    const verification = await craftCertificatePem({ subject: `CN=${String(registrationCode)}`, keys: await testKeys('EC-P256'), issuer: { keys, subject } });
    await iot.send(new RegisterCACertificateCommand({ caCertificate: caPem, verificationCertificate: verification, setAsActive: true }));
    const devicePem = await craftCertificatePem({ subject: 'CN=device-of-expired-ca', keys: await testKeys('EC-P256'), issuer: { keys, subject } });
    for (let i = 0; i < 60 && Date.now() <= caNotAfter.getTime() + 1_000; i++) await new Promise((r) => setTimeout(r, 500));
    assert.ok(Date.now() > caNotAfter.getTime(), 'the CA has expired');
    const err = await expectIotError(iot.send(new RegisterCertificateCommand({ certificatePem: devicePem, caCertificatePem: caPem, status: 'ACTIVE' })), 'CertificateValidationException', 400);
    assert.match(err.message, /CA certificate .* expired at/);
    await assertNotRegistered(devicePem);
  });

  it('a device certificate with keyUsage digitalSignature and EKU clientAuth registers, with and without CA', async () => {
    const good = await signWith(pki, plainCa.ca, { extensions: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth,serverAuth'] });
    const out = await iot.send(new RegisterCertificateCommand({ certificatePem: good.certPem, caCertificatePem: plainCa.ca.certPem, status: 'ACTIVE' }));
    assert.equal(out.certificateId, certificateIdOfPem(good.certPem));
    const self = await pki.makeSelfSigned();
    const noCa = await iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: self.certPem, status: 'ACTIVE' }));
    assert.equal(noCa.certificateId, certificateIdOfPem(self.certPem));
  });

  it('issue 10 #5: CreateCertificateFromCsr never issues a CA, whatever the CSR asks for', async () => {
    const key = await pki.newKey('ec');
    const csrFile = 'ca-asking.csr';
    await runOpenssl(['req', '-new', '-key', key, '-subj', '/CN=wants-to-be-a-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-out', csrFile], pki.dir);
    const csrPem = await readFile(join(pki.dir, csrFile), 'utf8');
    const out = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csrPem, setAsActive: false }));
    assert.ok(out.certificatePem);
    const issued = new X509Certificate(out.certificatePem);
    assert.equal(issued.ca, false);
    await writeFile(join(pki.dir, 'issued-from-csr.pem'), out.certificatePem);
    const usage = await runOpenssl(['x509', '-noout', '-ext', 'keyUsage', '-in', 'issued-from-csr.pem'], pki.dir);
    assert.doesNotMatch(usage, /Certificate Sign/);
  });
});
