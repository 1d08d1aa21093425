// Integration: device certificates issued by certgate itself, through @aws-sdk/client-iot against a real server.
// Covers CreateKeysAndCertificate (status, certificateId = SHA-256 of DER, 2049-12-31 expiry, key pair works,
// key never stored), CreateCertificateFromCsr (EC P-256 / RSA 2048 accepted, distinct certificate per call,
// RSA-1024 and garbage refused), DescribeCertificate, ListCertificates paging and ordering, UpdateCertificate
// transitions (REVOKED is terminal, PENDING_TRANSFER refused) and DeleteCertificate's refusals
// (ACTIVE, policy attached unless forceDelete, thing attached always, unknown id).
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  DetachThingPrincipalCommand,
  ListAttachedPoliciesCommand,
  ListCertificatesCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { CertificateStatus, IoTClient } from '@aws-sdk/client-iot';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { expectIotError, iotClient } from '../helpers/iot-clients.js';
import { TestPki } from '../helpers/openssl.js';

const AWS_NOT_AFTER_MS = Date.UTC(2049, 11, 31, 23, 59, 59);
const suffix = randomBytes(4).toString('hex');

function sha256OfDer(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

function spkiPem(key: string | KeyObject): string {
  const pub = typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key);
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

describe('certificates (CreateKeysAndCertificate, CreateCertificateFromCsr, Describe/List/Update/Delete)', { timeout: 120_000 }, () => {
  let server: RunningCertgate;
  let iot: IoTClient;
  let pki: TestPki;

  before(async () => {
    server = await startCertgate();
    iot = iotClient(server);
    pki = await TestPki.create();
  });

  after(async () => {
    iot?.destroy();
    await server?.stop();
    await pki?.cleanup();
  });

  async function newCert(setAsActive: boolean): Promise<string> {
    const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive }));
    assert.ok(out.certificateId);
    return out.certificateId;
  }

  async function statusOf(certificateId: string): Promise<CertificateStatus | undefined> {
    const d = await iot.send(new DescribeCertificateCommand({ certificateId }));
    return d.certificateDescription?.status;
  }

  describe('CreateKeysAndCertificate', () => {
    it('setAsActive=true → ACTIVE; certificateId is the SHA-256 of the DER; ARN names account and region', async () => {
      const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      assert.ok(out.certificatePem && out.certificateId && out.certificateArn);
      assert.match(out.certificateId, /^[0-9a-f]{64}$/);
      assert.equal(out.certificateId, sha256OfDer(out.certificatePem));
      assert.equal(out.certificateArn, `arn:aws:iot:${server.region}:${server.accountId}:cert/${out.certificateId}`);
      assert.equal(await statusOf(out.certificateId), 'ACTIVE');
    });

    it('setAsActive=false and omitted → INACTIVE', async () => {
      const off = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
      assert.ok(off.certificateId);
      assert.equal(await statusOf(off.certificateId), 'INACTIVE');
      const omitted = await iot.send(new CreateKeysAndCertificateCommand({}));
      assert.ok(omitted.certificateId);
      assert.equal(await statusOf(omitted.certificateId), 'INACTIVE');
    });

    it('issues an RSA 2048 certificate valid until 2049-12-31T23:59:59Z with subject CN=AWS IoT Certificate', async () => {
      const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
      assert.ok(out.certificatePem);
      const x = new X509Certificate(out.certificatePem);
      assert.equal(new Date(x.validTo).getTime(), AWS_NOT_AFTER_MS);
      assert.equal(x.publicKey.asymmetricKeyType, 'rsa');
      assert.equal(x.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
      assert.equal(x.ca, false);
      assert.match(x.subject, /CN=AWS IoT Certificate/);
    });

    it('returns a key pair that matches the certificate and can sign', async () => {
      const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      assert.ok(out.certificatePem && out.keyPair?.PrivateKey && out.keyPair.PublicKey);
      const cert = new X509Certificate(out.certificatePem);
      const priv = createPrivateKey(out.keyPair.PrivateKey);
      assert.ok(cert.checkPrivateKey(priv), 'private key does not match the certificate');
      assert.equal(spkiPem(out.keyPair.PublicKey), spkiPem(cert.publicKey));
      const data = Buffer.from('certgate proof of possession');
      const sig = sign('sha256', data, priv);
      assert.ok(verify('sha256', data, cert.publicKey, sig));
    });

    it('never returns the private key again: DescribeCertificate has the certificate only', async () => {
      const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      assert.ok(out.certificateId && out.certificatePem);
      const d = await iot.send(new DescribeCertificateCommand({ certificateId: out.certificateId }));
      const desc = d.certificateDescription;
      assert.ok(desc);
      const text = JSON.stringify(d);
      assert.doesNotMatch(text, /PRIVATE KEY/);
      assert.ok(!('keyPair' in d) && !('keyPair' in desc));
      assert.equal(desc.certificateId, out.certificateId);
      assert.equal(desc.certificateArn, out.certificateArn);
      assert.equal(desc.certificatePem?.trim(), out.certificatePem.trim());
      assert.equal(desc.ownedBy, server.accountId);
      assert.ok(desc.creationDate instanceof Date && !Number.isNaN(desc.creationDate.getTime()));
      assert.equal(desc.validity?.notAfter?.getTime(), AWS_NOT_AFTER_MS);
      assert.ok(desc.validity?.notBefore instanceof Date);
    });
  });

  describe('CreateCertificateFromCsr', () => {
    it('accepts an EC P-256 CSR and issues a certificate for its key; each call is a distinct certificate', async () => {
      const csr = await pki.makeCsr({ keyType: 'ec', curve: 'P-256' });
      const first = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.csrPem, setAsActive: true }));
      const second = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.csrPem }));
      assert.ok(first.certificatePem && first.certificateId && second.certificatePem && second.certificateId);
      assert.notEqual(first.certificateId, second.certificateId);
      const a = new X509Certificate(first.certificatePem);
      const b = new X509Certificate(second.certificatePem);
      assert.notEqual(a.serialNumber, b.serialNumber);
      assert.equal(spkiPem(a.publicKey), spkiPem(csr.keyPem));
      assert.equal(first.certificateId, sha256OfDer(first.certificatePem));
      assert.equal(new Date(a.validTo).getTime(), AWS_NOT_AFTER_MS);
      assert.equal(await statusOf(first.certificateId), 'ACTIVE');
      assert.equal(await statusOf(second.certificateId), 'INACTIVE');
    });

    it('accepts an RSA 2048 CSR', async () => {
      const csr = await pki.makeCsr({ keyType: 'rsa', bits: 2048 });
      const out = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.csrPem, setAsActive: true }));
      assert.ok(out.certificatePem);
      assert.equal(spkiPem(new X509Certificate(out.certificatePem).publicKey), spkiPem(csr.keyPem));
    });

    it('refuses an RSA-1024 CSR with InvalidRequestException', async () => {
      const csr = await pki.makeCsr({ keyType: 'rsa', bits: 1024 });
      await expectIotError(iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.csrPem })), 'InvalidRequestException', 400);
    });

    it('refuses garbage with InvalidRequestException', async () => {
      await expectIotError(
        iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: '-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n' })),
        'InvalidRequestException',
        400,
      );
      await expectIotError(iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: 'hello' })), 'InvalidRequestException', 400);
    });
  });

  describe('DescribeCertificate / ListCertificates', () => {
    it('DescribeCertificate of an unknown id → ResourceNotFoundException', async () => {
      await expectIotError(iot.send(new DescribeCertificateCommand({ certificateId: randomBytes(32).toString('hex') })), 'ResourceNotFoundException', 404);
    });

    it('pages through every certificate with pageSize 1 (marker → nextMarker)', async () => {
      const created = [await newCert(true), await newCert(false), await newCert(false)];
      const seen: string[] = [];
      let marker: string | undefined;
      for (let page = 0; page < 500; page += 1) {
        const out = await iot.send(new ListCertificatesCommand({ pageSize: 1, ...(marker === undefined ? {} : { marker }) }));
        const certs = out.certificates ?? [];
        assert.ok(certs.length <= 1, `page ${page} has ${certs.length} entries`);
        for (const c of certs) {
          assert.ok(c.certificateId);
          assert.match(c.certificateArn ?? '', /^arn:aws:iot:[^:]+:\d{12}:cert\/[0-9a-f]{64}$/);
          assert.ok(c.status);
          seen.push(c.certificateId);
        }
        marker = out.nextMarker ?? undefined;
        if (marker === undefined || marker === '') break;
        assert.ok(page < 499, 'paging did not end');
      }
      assert.equal(new Set(seen).size, seen.length, 'a certificate was listed twice');
      for (const id of created) assert.ok(seen.includes(id), `${id} missing from the pages`);
      const all = await iot.send(new ListCertificatesCommand({ pageSize: 250 }));
      assert.equal(all.certificates?.length, seen.length);
    });

    it('isAscendingOrder orders by creation date', async () => {
      const asc = await iot.send(new ListCertificatesCommand({ pageSize: 250, ascendingOrder: true }));
      const desc = await iot.send(new ListCertificatesCommand({ pageSize: 250, ascendingOrder: false }));
      const ascDates = (asc.certificates ?? []).map((c) => c.creationDate?.getTime() ?? Number.NaN);
      const descDates = (desc.certificates ?? []).map((c) => c.creationDate?.getTime() ?? Number.NaN);
      assert.ok(ascDates.length >= 3);
      assert.equal(ascDates.length, descDates.length);
      for (let i = 1; i < ascDates.length; i += 1) assert.ok((ascDates[i - 1] ?? 0) <= (ascDates[i] ?? 0), 'ascending order broken');
      for (let i = 1; i < descDates.length; i += 1) assert.ok((descDates[i - 1] ?? 0) >= (descDates[i] ?? 0), 'descending order broken');
      assert.deepEqual(
        new Set((asc.certificates ?? []).map((c) => c.certificateId)),
        new Set((desc.certificates ?? []).map((c) => c.certificateId)),
      );
    });
  });

  describe('UpdateCertificate', () => {
    it('ACTIVE → INACTIVE → ACTIVE', async () => {
      const id = await newCert(true);
      await iot.send(new UpdateCertificateCommand({ certificateId: id, newStatus: 'INACTIVE' }));
      assert.equal(await statusOf(id), 'INACTIVE');
      await iot.send(new UpdateCertificateCommand({ certificateId: id, newStatus: 'ACTIVE' }));
      assert.equal(await statusOf(id), 'ACTIVE');
    });

    it('REVOKED is terminal: back to ACTIVE or INACTIVE → CertificateStateException (406)', async () => {
      const id = await newCert(true);
      await iot.send(new UpdateCertificateCommand({ certificateId: id, newStatus: 'REVOKED' }));
      assert.equal(await statusOf(id), 'REVOKED');
      await expectIotError(iot.send(new UpdateCertificateCommand({ certificateId: id, newStatus: 'ACTIVE' })), 'CertificateStateException', 406);
      await expectIotError(iot.send(new UpdateCertificateCommand({ certificateId: id, newStatus: 'INACTIVE' })), 'CertificateStateException', 406);
      assert.equal(await statusOf(id), 'REVOKED');
    });

    it('newStatus PENDING_TRANSFER / PENDING_ACTIVATION (service-only states) → error, status unchanged', async () => {
      const id = await newCert(false);
      for (const newStatus of ['PENDING_TRANSFER', 'PENDING_ACTIVATION'] as const) {
        await expectIotError(
          iot.send(new UpdateCertificateCommand({ certificateId: id, newStatus })),
          ['InvalidRequestException', 'CertificateStateException'],
        );
      }
      assert.equal(await statusOf(id), 'INACTIVE');
    });

    it('unknown id → ResourceNotFoundException', async () => {
      await expectIotError(
        iot.send(new UpdateCertificateCommand({ certificateId: randomBytes(32).toString('hex'), newStatus: 'INACTIVE' })),
        'ResourceNotFoundException',
        404,
      );
    });
  });

  describe('DeleteCertificate', () => {
    it('refuses an ACTIVE certificate with CertificateStateException (406); INACTIVE deletes', async () => {
      const id = await newCert(true);
      await expectIotError(iot.send(new DeleteCertificateCommand({ certificateId: id })), 'CertificateStateException', 406);
      assert.equal(await statusOf(id), 'ACTIVE');
      await iot.send(new UpdateCertificateCommand({ certificateId: id, newStatus: 'INACTIVE' }));
      await iot.send(new DeleteCertificateCommand({ certificateId: id }));
      await expectIotError(iot.send(new DescribeCertificateCommand({ certificateId: id })), 'ResourceNotFoundException', 404);
    });

    it('with a policy attached → DeleteConflictException (409); forceDelete detaches and deletes', async () => {
      const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
      assert.ok(out.certificateId && out.certificateArn);
      const policyName = `cert-delete-${suffix}`;
      await iot.send(new CreatePolicyCommand({
        policyName,
        policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] }),
      }));
      await iot.send(new AttachPolicyCommand({ policyName, target: out.certificateArn }));
      await expectIotError(iot.send(new DeleteCertificateCommand({ certificateId: out.certificateId })), 'DeleteConflictException', 409);
      await expectIotError(iot.send(new DeleteCertificateCommand({ certificateId: out.certificateId, forceDelete: false })), 'DeleteConflictException', 409);
      await iot.send(new DeleteCertificateCommand({ certificateId: out.certificateId, forceDelete: true }));
      await expectIotError(iot.send(new DescribeCertificateCommand({ certificateId: out.certificateId })), 'ResourceNotFoundException', 404);
      // the attachment must be gone: either the deleted target is unknown or it has no policies left
      const left = await iot.send(new ListAttachedPoliciesCommand({ target: out.certificateArn })).then(
        (r) => r.policies ?? [],
        (e: unknown) => {
          assert.equal((e as { name?: string }).name, 'ResourceNotFoundException');
          return [];
        },
      );
      assert.deepEqual(left, []);
    });

    it('with a thing attached → DeleteConflictException even with forceDelete', async () => {
      const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
      assert.ok(out.certificateId && out.certificateArn);
      const thingName = `cert-delete-thing-${suffix}`;
      await iot.send(new CreateThingCommand({ thingName }));
      await iot.send(new AttachThingPrincipalCommand({ thingName, principal: out.certificateArn }));
      await expectIotError(iot.send(new DeleteCertificateCommand({ certificateId: out.certificateId })), 'DeleteConflictException', 409);
      await expectIotError(iot.send(new DeleteCertificateCommand({ certificateId: out.certificateId, forceDelete: true })), 'DeleteConflictException', 409);
      assert.equal(await statusOf(out.certificateId), 'INACTIVE');
      await iot.send(new DetachThingPrincipalCommand({ thingName, principal: out.certificateArn }));
      await iot.send(new DeleteCertificateCommand({ certificateId: out.certificateId }));
    });

    it('unknown id → ResourceNotFoundException', async () => {
      await expectIotError(iot.send(new DeleteCertificateCommand({ certificateId: randomBytes(32).toString('hex') })), 'ResourceNotFoundException', 404);
    });
  });
});
