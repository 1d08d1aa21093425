// Integration: bring-your-own-CA through @aws-sdk/client-iot against a real server, with CAs and device
// certificates made by openssl at run time. Covers GetRegistrationCode; RegisterCACertificate proof of
// possession (right CN + CA key → ok; wrong CN → RegistrationCodeValidationException; other key →
// CertificateValidationException), CA checks (CA:TRUE, SHA-1 refused), DEFAULT mode unique per region vs
// SNI_ONLY in several accounts; DescribeCACertificate (registrationConfig top level), ListCACertificates,
// UpdateCACertificate, DeleteCACertificate (only INACTIVE); RegisterCertificate under an ACTIVE CA
// (caCertificateId, ListCertificatesByCA) and its refusals (unregistered / INACTIVE CA, expired, SHA-1,
// duplicate → ResourceAlreadyExistsException with resourceId); RegisterCertificateWithoutCA (SNI_ONLY, Ed25519 refused).
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  DeleteCACertificateCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  GetRegistrationCodeCommand,
  ListCACertificatesCommand,
  ListCertificatesByCACommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCACertificateCommand,
} from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { createAccount, primaryAccount } from '../helpers/accounts.js';
import type { TestAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { expectIotError, iotClient } from '../helpers/iot-clients.js';
import { TestPki } from '../helpers/openssl.js';
import type { TestCa } from '../helpers/openssl.js';

function sha256OfDer(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

const JITP_TEMPLATE = JSON.stringify({
  Parameters: { 'AWS::IoT::Certificate::Id': { Type: 'String' } },
  Resources: {
    certificate: {
      Type: 'AWS::IoT::Certificate',
      Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
    },
  },
});

describe('CA certificates and registered device certificates', { timeout: 180_000 }, () => {
  let server: RunningCertgate;
  let accountA: TestAccount;
  let accountB: TestAccount;
  let iot: IoTClient;
  let iotB: IoTClient;
  let pki: TestPki;
  let code: string;
  /** an ACTIVE DEFAULT-mode CA of account A, used by the RegisterCertificate tests */
  let activeCa: TestCa;
  let activeCaId: string;

  before(async () => {
    server = await startCertgate();
    accountA = primaryAccount(server);
    accountB = await createAccount(server, 'ca-tests-b');
    iot = iotClient(accountA);
    iotB = iotClient(accountB);
    pki = await TestPki.create();
    const rc = await iot.send(new GetRegistrationCodeCommand({}));
    assert.ok(rc.registrationCode);
    code = rc.registrationCode;
    activeCa = await pki.makeCa();
    const verification = await pki.makeVerificationCert(activeCa, code);
    const reg = await iot.send(new RegisterCACertificateCommand({
      caCertificate: activeCa.certPem,
      verificationCertificate: verification.certPem,
      setAsActive: true,
    }));
    assert.ok(reg.certificateId);
    activeCaId = reg.certificateId;
  });

  after(async () => {
    iot?.destroy();
    iotB?.destroy();
    await server?.stop();
    await pki?.cleanup();
  });

  async function registerCa(client: IoTClient, registrationCode: string, opts: { setAsActive?: boolean; ca?: TestCa } = {}): Promise<{ ca: TestCa; id: string }> {
    const ca = opts.ca ?? await pki.makeCa();
    const verification = await pki.makeVerificationCert(ca, registrationCode);
    const out = await client.send(new RegisterCACertificateCommand({
      caCertificate: ca.certPem,
      verificationCertificate: verification.certPem,
      setAsActive: opts.setAsActive ?? true,
    }));
    assert.ok(out.certificateId);
    return { ca, id: out.certificateId };
  }

  describe('GetRegistrationCode', () => {
    it('is 64 lowercase hex and stable for the account; another account has its own', async () => {
      assert.match(code, /^[0-9a-f]{64}$/);
      const again = await iot.send(new GetRegistrationCodeCommand({}));
      assert.equal(again.registrationCode, code);
      const other = await iotB.send(new GetRegistrationCodeCommand({}));
      assert.match(other.registrationCode ?? '', /^[0-9a-f]{64}$/);
      assert.notEqual(other.registrationCode, code);
    });
  });

  describe('RegisterCACertificate', () => {
    it('with a correct verification certificate: id = SHA-256 of DER, ACTIVE, autoRegistrationStatus ENABLE', async () => {
      const ca = await pki.makeCa({ keyType: 'ec' });
      const verification = await pki.makeVerificationCert(ca, code);
      const out = await iot.send(new RegisterCACertificateCommand({
        caCertificate: ca.certPem,
        verificationCertificate: verification.certPem,
        setAsActive: true,
        allowAutoRegistration: true,
      }));
      assert.ok(out.certificateId);
      assert.equal(out.certificateId, sha256OfDer(ca.certPem));
      assert.equal(out.certificateArn, `arn:aws:iot:${server.region}:${server.accountId}:cacert/${out.certificateId}`);
      const d = await iot.send(new DescribeCACertificateCommand({ certificateId: out.certificateId }));
      const desc = d.certificateDescription;
      assert.ok(desc);
      assert.equal(desc.status, 'ACTIVE');
      assert.equal(desc.autoRegistrationStatus, 'ENABLE');
      assert.equal(desc.certificateMode, 'DEFAULT');
      assert.equal(desc.certificateId, out.certificateId);
      assert.equal(desc.ownedBy, server.accountId);
      assert.equal(desc.certificatePem?.trim(), ca.certPem.trim());
      assert.ok(desc.validity?.notAfter instanceof Date);
    });

    it('without setAsActive → INACTIVE, autoRegistrationStatus DISABLE (or absent)', async () => {
      const { id } = await registerCa(iot, code, { setAsActive: false });
      const d = await iot.send(new DescribeCACertificateCommand({ certificateId: id }));
      assert.equal(d.certificateDescription?.status, 'INACTIVE');
      assert.notEqual(d.certificateDescription?.autoRegistrationStatus, 'ENABLE');
    });

    it('returns registrationConfig at the top level of DescribeCACertificate', async () => {
      const ca = await pki.makeCa();
      const verification = await pki.makeVerificationCert(ca, code);
      const roleArn = `arn:aws:iam::${server.accountId}:role/JITPRole`;
      const out = await iot.send(new RegisterCACertificateCommand({
        caCertificate: ca.certPem,
        verificationCertificate: verification.certPem,
        setAsActive: true,
        registrationConfig: { templateBody: JITP_TEMPLATE, roleArn },
      }));
      assert.ok(out.certificateId);
      const d = await iot.send(new DescribeCACertificateCommand({ certificateId: out.certificateId }));
      assert.equal(d.registrationConfig?.roleArn, roleArn);
      assert.deepEqual(JSON.parse(d.registrationConfig?.templateBody ?? 'null'), JSON.parse(JITP_TEMPLATE));
      assert.ok(!('registrationConfig' in (d.certificateDescription ?? {})));
    });

    it('verification certificate with the wrong CN → RegistrationCodeValidationException (400)', async () => {
      const ca = await pki.makeCa();
      const verification = await pki.makeVerificationCert(ca, randomBytes(32).toString('hex'));
      await expectIotError(
        iot.send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, verificationCertificate: verification.certPem })),
        'RegistrationCodeValidationException',
        400,
      );
    });

    it('verification certificate signed by another key → CertificateValidationException (400)', async () => {
      const ca = await pki.makeCa();
      const impostor = await pki.makeCa({ cn: ca.cn }); // same subject, different key
      const verification = await pki.makeVerificationCert(impostor, code);
      await expectIotError(
        iot.send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, verificationCertificate: verification.certPem })),
        'CertificateValidationException',
        400,
      );
    });

    it('a certificate without basicConstraints CA:TRUE → CertificateValidationException', async () => {
      const notCa = await pki.makeCa({ isCa: false });
      const verification = await pki.makeVerificationCert(notCa, code);
      await expectIotError(
        iot.send(new RegisterCACertificateCommand({ caCertificate: notCa.certPem, verificationCertificate: verification.certPem })),
        'CertificateValidationException',
        400,
      );
    });

    it('a SHA-1 signed CA → CertificateValidationException', async () => {
      const sha1Ca = await pki.makeCa({ digest: 'sha1' });
      const verification = await pki.makeVerificationCert(sha1Ca, code);
      await expectIotError(
        iot.send(new RegisterCACertificateCommand({ caCertificate: sha1Ca.certPem, verificationCertificate: verification.certPem })),
        'CertificateValidationException',
        400,
      );
    });

    it('DEFAULT mode without a verification certificate → refused', async () => {
      const ca = await pki.makeCa();
      await expectIotError(
        iot.send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, certificateMode: 'DEFAULT' })),
        ['InvalidRequestException', 'CertificateValidationException', 'RegistrationCodeValidationException'],
        400,
      );
    });

    it('SNI_ONLY needs no verification certificate and the same CA registers in two accounts', async () => {
      const ca = await pki.makeCa();
      const inA = await iot.send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, certificateMode: 'SNI_ONLY', setAsActive: true }));
      const inB = await iotB.send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, certificateMode: 'SNI_ONLY', setAsActive: true }));
      assert.ok(inA.certificateId && inB.certificateId);
      assert.equal(inA.certificateId, sha256OfDer(ca.certPem));
      assert.equal(inB.certificateId, inA.certificateId);
      assert.notEqual(inA.certificateArn, inB.certificateArn);
      const dA = await iot.send(new DescribeCACertificateCommand({ certificateId: inA.certificateId }));
      const dB = await iotB.send(new DescribeCACertificateCommand({ certificateId: inB.certificateId }));
      assert.equal(dA.certificateDescription?.certificateMode, 'SNI_ONLY');
      assert.equal(dB.certificateDescription?.certificateMode, 'SNI_ONLY');
      assert.equal(dB.certificateDescription?.ownedBy, accountB.accountId);
    });

    it('a DEFAULT-mode CA already registered in another account of the region → refused', async () => {
      const codeB = (await iotB.send(new GetRegistrationCodeCommand({}))).registrationCode;
      assert.ok(codeB);
      const verificationB = await pki.makeVerificationCert(activeCa, codeB);
      await expectIotError(
        iotB.send(new RegisterCACertificateCommand({ caCertificate: activeCa.certPem, verificationCertificate: verificationB.certPem })),
        ['ResourceAlreadyExistsException', 'CertificateValidationException'],
      );
      await expectIotError(iotB.send(new DescribeCACertificateCommand({ certificateId: activeCaId })), 'ResourceNotFoundException', 404);
    });

    it('the same CA twice in one account → ResourceAlreadyExistsException with resourceId', async () => {
      const verification = await pki.makeVerificationCert(activeCa, code);
      const err = await expectIotError(
        iot.send(new RegisterCACertificateCommand({ caCertificate: activeCa.certPem, verificationCertificate: verification.certPem })),
        'ResourceAlreadyExistsException',
        409,
      );
      assert.equal(err['resourceId'], activeCaId);
    });
  });

  describe('List / Update / Delete CA certificates', () => {
    it('ListCACertificates lists the registered CAs and pages with pageSize 1', async () => {
      const all = await iot.send(new ListCACertificatesCommand({ pageSize: 250 }));
      const ids = (all.certificates ?? []).map((c) => c.certificateId);
      assert.ok(ids.includes(activeCaId));
      const active = (all.certificates ?? []).find((c) => c.certificateId === activeCaId);
      assert.equal(active?.status, 'ACTIVE');
      assert.match(active?.certificateArn ?? '', /:cacert\/[0-9a-f]{64}$/);
      assert.ok(active?.creationDate instanceof Date);
      const paged: string[] = [];
      let marker: string | undefined;
      for (let i = 0; i < 200; i += 1) {
        const page = await iot.send(new ListCACertificatesCommand({ pageSize: 1, ...(marker === undefined ? {} : { marker }) }));
        assert.ok((page.certificates ?? []).length <= 1);
        for (const c of page.certificates ?? []) paged.push(c.certificateId ?? '');
        marker = page.nextMarker ?? undefined;
        if (marker === undefined || marker === '') break;
      }
      assert.deepEqual([...paged].sort(), [...ids].map(String).sort());
    });

    it('UpdateCACertificate changes status and auto-registration', async () => {
      const { id } = await registerCa(iot, code, { setAsActive: true });
      await iot.send(new UpdateCACertificateCommand({ certificateId: id, newStatus: 'INACTIVE', newAutoRegistrationStatus: 'ENABLE' }));
      let d = await iot.send(new DescribeCACertificateCommand({ certificateId: id }));
      assert.equal(d.certificateDescription?.status, 'INACTIVE');
      assert.equal(d.certificateDescription?.autoRegistrationStatus, 'ENABLE');
      await iot.send(new UpdateCACertificateCommand({ certificateId: id, newStatus: 'ACTIVE', newAutoRegistrationStatus: 'DISABLE' }));
      d = await iot.send(new DescribeCACertificateCommand({ certificateId: id }));
      assert.equal(d.certificateDescription?.status, 'ACTIVE');
      assert.equal(d.certificateDescription?.autoRegistrationStatus, 'DISABLE');
    });

    it('DeleteCACertificate: ACTIVE → CertificateStateException (406); INACTIVE → deleted', async () => {
      const { id } = await registerCa(iot, code, { setAsActive: true });
      await expectIotError(iot.send(new DeleteCACertificateCommand({ certificateId: id })), 'CertificateStateException', 406);
      await iot.send(new UpdateCACertificateCommand({ certificateId: id, newStatus: 'INACTIVE' }));
      await iot.send(new DeleteCACertificateCommand({ certificateId: id }));
      await expectIotError(iot.send(new DescribeCACertificateCommand({ certificateId: id })), 'ResourceNotFoundException', 404);
    });

    it('Describe/Delete of an unknown CA → ResourceNotFoundException', async () => {
      const unknown = randomBytes(32).toString('hex');
      await expectIotError(iot.send(new DescribeCACertificateCommand({ certificateId: unknown })), 'ResourceNotFoundException', 404);
      await expectIotError(iot.send(new DeleteCACertificateCommand({ certificateId: unknown })), 'ResourceNotFoundException', 404);
    });
  });

  describe('RegisterCertificate (CA-signed device certificates)', () => {
    it('under an ACTIVE CA: id = SHA-256 of DER, caCertificateId set, status honoured, ListCertificatesByCA lists it', async () => {
      const device = await pki.makeDeviceCert(activeCa);
      const out = await iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem, caCertificatePem: activeCa.certPem, status: 'ACTIVE' }));
      assert.ok(out.certificateId);
      assert.equal(out.certificateId, sha256OfDer(device.certPem));
      assert.equal(out.certificateArn, `arn:aws:iot:${server.region}:${server.accountId}:cert/${out.certificateId}`);
      const d = await iot.send(new DescribeCertificateCommand({ certificateId: out.certificateId }));
      assert.equal(d.certificateDescription?.caCertificateId, activeCaId);
      assert.equal(d.certificateDescription?.status, 'ACTIVE');
      assert.equal(d.certificateDescription?.certificateMode, 'DEFAULT');
      const byCa = await iot.send(new ListCertificatesByCACommand({ caCertificateId: activeCaId, pageSize: 250 }));
      assert.ok((byCa.certificates ?? []).some((c) => c.certificateId === out.certificateId));
    });

    it('finds the CA without caCertificatePem; default status INACTIVE', async () => {
      const device = await pki.makeDeviceCert(activeCa, { keyType: 'ec' });
      const out = await iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem }));
      assert.ok(out.certificateId);
      const d = await iot.send(new DescribeCertificateCommand({ certificateId: out.certificateId }));
      assert.equal(d.certificateDescription?.caCertificateId, activeCaId);
      assert.equal(d.certificateDescription?.status, 'INACTIVE');
    });

    it('ListCertificatesByCA does not list certificates of other CAs', async () => {
      const { ca: otherCa, id: otherId } = await registerCa(iot, code, { setAsActive: true });
      const device = await pki.makeDeviceCert(otherCa);
      const out = await iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem, caCertificatePem: otherCa.certPem }));
      const byActive = await iot.send(new ListCertificatesByCACommand({ caCertificateId: activeCaId, pageSize: 250 }));
      assert.ok(!(byActive.certificates ?? []).some((c) => c.certificateId === out.certificateId));
      const byOther = await iot.send(new ListCertificatesByCACommand({ caCertificateId: otherId, pageSize: 250 }));
      assert.deepEqual((byOther.certificates ?? []).map((c) => c.certificateId), [out.certificateId]);
    });

    it('from an unregistered CA → CertificateValidationException', async () => {
      const stranger = await pki.makeCa();
      const device = await pki.makeDeviceCert(stranger);
      await expectIotError(
        iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem, caCertificatePem: stranger.certPem })),
        'CertificateValidationException',
        400,
      );
      await expectIotError(iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem })), 'CertificateValidationException', 400);
    });

    it('under an INACTIVE CA → refused', async () => {
      const { ca } = await registerCa(iot, code, { setAsActive: false });
      const device = await pki.makeDeviceCert(ca);
      await expectIotError(
        iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem, caCertificatePem: ca.certPem })),
        ['CertificateValidationException', 'CertificateStateException', 'InvalidRequestException'],
      );
      await expectIotError(
        iot.send(new DescribeCertificateCommand({ certificateId: sha256OfDer(device.certPem) })),
        'ResourceNotFoundException',
        404,
      );
    });

    it('an expired device certificate → CertificateValidationException', async () => {
      const device = await pki.makeDeviceCert(activeCa, { expired: true });
      await expectIotError(
        iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem, caCertificatePem: activeCa.certPem })),
        'CertificateValidationException',
        400,
      );
    });

    it('a SHA-1 signed device certificate → CertificateValidationException', async () => {
      const device = await pki.makeDeviceCert(activeCa, { digest: 'sha1' });
      await expectIotError(
        iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem, caCertificatePem: activeCa.certPem })),
        'CertificateValidationException',
        400,
      );
    });

    it('the same certificate twice → ResourceAlreadyExistsException carrying resourceId', async () => {
      const device = await pki.makeDeviceCert(activeCa);
      const first = await iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem, caCertificatePem: activeCa.certPem }));
      assert.ok(first.certificateId);
      const err = await expectIotError(
        iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem, caCertificatePem: activeCa.certPem })),
        'ResourceAlreadyExistsException',
        409,
      );
      assert.equal(err['resourceId'], first.certificateId);
    });
  });

  describe('RegisterCertificateWithoutCA', () => {
    it('registers a certificate of an unregistered CA in SNI_ONLY mode', async () => {
      const stranger = await pki.makeCa();
      const device = await pki.makeDeviceCert(stranger);
      const out = await iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: device.certPem, status: 'ACTIVE' }));
      assert.ok(out.certificateId);
      assert.equal(out.certificateId, sha256OfDer(device.certPem));
      const d = await iot.send(new DescribeCertificateCommand({ certificateId: out.certificateId }));
      assert.equal(d.certificateDescription?.certificateMode, 'SNI_ONLY');
      assert.equal(d.certificateDescription?.status, 'ACTIVE');
    });

    it('an Ed25519 certificate → CertificateValidationException', async () => {
      const ed = await pki.makeEd25519Cert();
      await expectIotError(iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: ed.certPem })), 'CertificateValidationException', 400);
    });

    it('an expired certificate → CertificateValidationException', async () => {
      const stranger = await pki.makeCa();
      const device = await pki.makeDeviceCert(stranger, { expired: true });
      await expectIotError(iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: device.certPem })), 'CertificateValidationException', 400);
    });
  });
});
