// Admission of certificates in the states device-admission.test.ts does not cover, against the REAL server
// (data-plane.md "Authenticating the device" step 2): PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION
// (not reachable through the API), an expired certificate, and a not-yet-valid one (refused at registration).
// Refusals: MQTT 3.1.1 closed without CONNACK, MQTT 5 CONNACK 0x87; the reason is in `certgate why`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AcceptCertificateTransferCommand,
  AttachPolicyCommand,
  CreatePolicyCommand,
  DescribeCertificateCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  TransferCertificateCommand,
} from '@aws-sdk/client-iot';
import { createAccount } from '../helpers/accounts.js';
import type { TestAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY, createDevice, dataEndpointOf, endClient } from '../helpers/device.js';
import type { ConnectOutcome, Device } from '../helpers/device.js';
import { expectIotError, iotClient } from '../helpers/iot-clients.js';
import { TestPki } from '../helpers/openssl.js';
import { craftDeviceCert, registerCraftedCa, waitUntilPast } from '../helpers/short-lived-certificates.js';
import type { CraftedCa } from '../helpers/short-lived-certificates.js';
import { lastAdmissionRefusal } from '../helpers/why-records.js';

/** MQTT 5 CONNACK "Not authorized" [MQTT-3.2.2.2]. */
const NOT_AUTHORIZED = 0x87;

function assertRefused(r: ConnectOutcome, protocolVersion: 4 | 5): void {
  if (r.outcome === 'connected') {
    r.client.end(true);
    assert.fail('expected a refusal, the device connected');
  }
  if (protocolVersion === 4) assert.equal(r.reasonCode, undefined, 'MQTT 3.1.1: a refused device gets no CONNACK');
  else assert.equal(r.reasonCode, NOT_AUTHORIZED, `MQTT 5: CONNACK 0x87 (${r.error?.message ?? 'closed'})`);
}

async function assertRefusedBoth(device: Device, opts: { servername?: string } = {}): Promise<void> {
  assertRefused(await device.tryConnect({ ...opts, protocolVersion: 4 }), 4);
  assertRefused(await device.tryConnect({ ...opts, protocolVersion: 5 }), 5);
}

describe('data plane: admission of certificates by state (real server)', () => {
  let server: RunningCertgate;
  let target: TestAccount;
  let pki: TestPki;
  let ca: CraftedCa;

  before(async () => {
    server = await startCertgate();
    assert.ok(server.mqttPort !== undefined, `no mqttPort in the ready line:\n${server.output()}`);
    target = await createAccount(server);
    pki = await TestPki.create();
    ca = await registerCraftedCa(server);
  });
  after(async () => {
    await server?.stop();
    await pki?.cleanup();
  });

  it('PENDING_TRANSFER is refused at the source endpoint and at the target endpoint; once accepted and activated it connects only at the target', async () => {
    const iot = iotClient(server);
    // TransferCertificate needs an INACTIVE certificate without policies (AWS); admission must refuse it for
    // its state, and the recorded reason says PENDING_TRANSFER rather than INACTIVE.
    const device = await createDevice(server, { certificate: { ...(await pki.makeSelfSigned()), withoutCa: true, status: 'INACTIVE' } });
    await iot.send(new TransferCertificateCommand({ certificateId: device.certificateId, targetAwsAccount: target.accountId }));
    const described = await iot.send(new DescribeCertificateCommand({ certificateId: device.certificateId }));
    assert.equal(described.certificateDescription?.status, 'PENDING_TRANSFER');

    await assertRefusedBoth(device);
    const refusal = await lastAdmissionRefusal(server, device.certificateId);
    assert.equal(refusal.accountId, server.accountId);
    assert.ok(refusal.reasons.some((r) => r.startsWith('CERTIFICATE_NOT_ACTIVE') && r.includes('PENDING_TRANSFER')), refusal.reasons.join('; '));

    const targetEndpoint = await dataEndpointOf(target);
    await assertRefusedBoth(device, { servername: targetEndpoint }); // offered to the target, not its own yet

    const iotTarget = iotClient(target);
    await iotTarget.send(new AcceptCertificateTransferCommand({ certificateId: device.certificateId, setAsActive: true }));
    await iotTarget.send(new CreatePolicyCommand({ policyName: 'after-transfer', policyDocument: JSON.stringify(ALLOW_ALL_POLICY) }));
    await iotTarget.send(new AttachPolicyCommand({ policyName: 'after-transfer', target: device.certificateArn.replace(server.accountId, target.accountId) }));
    const ok = await device.tryConnect({ protocolVersion: 5, servername: targetEndpoint });
    assert.equal(ok.outcome, 'connected', ok.outcome === 'refused' ? `refused: ${ok.reasonCode} ${ok.error?.message}` : '');
    if (ok.outcome === 'connected') await endClient(ok.client);
    await assertRefusedBoth(device, { servername: device.endpoint }); // the source account no longer has it
  });

  it('REGISTER_INACTIVE (deprecated, still requestable at registration) is refused, and `certgate why` names the status', async () => {
    const leaf = await pki.makeSelfSigned();
    const out = await iotClient(server).send(new RegisterCertificateWithoutCACommand({ certificatePem: leaf.certPem, status: 'REGISTER_INACTIVE' }));
    assert.ok(out.certificateId);
    const carrier = await createDevice(server); // its endpoint and trust store, presenting the REGISTER_INACTIVE certificate
    const cert = { certPem: leaf.certPem, keyPem: leaf.keyPem };
    assertRefused(await carrier.tryConnect({ cert, protocolVersion: 4 }), 4);
    assertRefused(await carrier.tryConnect({ cert, protocolVersion: 5 }), 5);
    const refusal = await lastAdmissionRefusal(server, out.certificateId);
    assert.ok(refusal.reasons.some((r) => r.startsWith('CERTIFICATE_NOT_ACTIVE') && r.includes('REGISTER_INACTIVE')), refusal.reasons.join('; '));
  });

  it('PENDING_ACTIVATION cannot be requested through the API (the service sets it during JITR): RegisterCertificate* answer InvalidRequestException', async () => {
    const iot = iotClient(server);
    const leaf = await pki.makeSelfSigned();
    await expectIotError(iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: leaf.certPem, status: 'PENDING_ACTIVATION' })), 'InvalidRequestException', 400);
    const underCa = await craftDeviceCert(ca, { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) });
    await expectIotError(
      iot.send(new RegisterCertificateCommand({ certificatePem: underCa.certPem, caCertificatePem: ca.certPem, status: 'PENDING_ACTIVATION' })),
      'InvalidRequestException',
      400,
    );
    await expectIotError(iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: leaf.certPem, status: 'PENDING_TRANSFER' })), 'InvalidRequestException', 400);
  });

  it('an EXPIRED certificate (registered while valid, notAfter a few seconds later) is refused with CERTIFICATE_EXPIRED', async () => {
    const now = Date.now();
    const leaf = await craftDeviceCert(ca, { notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_000) });
    const device = await createDevice(server, {
      policyDocument: ALLOW_ALL_POLICY,
      certificate: { certPem: leaf.certPem, keyPem: leaf.keyPem, caCertificatePem: ca.certPem, status: 'ACTIVE' },
    });
    const described = await iotClient(server).send(new DescribeCertificateCommand({ certificateId: device.certificateId }));
    assert.equal(described.certificateDescription?.status, 'ACTIVE');
    assert.equal(described.certificateDescription?.caCertificateId, ca.caCertificateId);
    await waitUntilPast(leaf.notAfter);
    await assertRefusedBoth(device);
    const refusal = await lastAdmissionRefusal(server, device.certificateId);
    assert.ok(refusal.reasons.some((r) => r.startsWith('CERTIFICATE_EXPIRED') && r.includes(leaf.notAfter.toISOString())), refusal.reasons.join('; '));
  });

  it('a certificate valid for days (same CA, same path) connects: the refusal above is the expiry, not the CA or the policy', async () => {
    const leaf = await craftDeviceCert(ca, { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) });
    const device = await createDevice(server, {
      policyDocument: ALLOW_ALL_POLICY,
      certificate: { certPem: leaf.certPem, keyPem: leaf.keyPem, caCertificatePem: ca.certPem, status: 'ACTIVE' },
    });
    for (const protocolVersion of [4, 5] as const) {
      const r = await device.tryConnect({ protocolVersion });
      assert.equal(r.outcome, 'connected', r.outcome === 'refused' ? `refused: ${r.reasonCode} ${r.error?.message}` : '');
      if (r.outcome === 'connected') await endClient(r.client);
    }
  });

  it('a NOT-YET-VALID certificate cannot be registered (CertificateValidationException, AWS registration sanity check), so it never reaches admission', async () => {
    const leaf = await craftDeviceCert(ca, { notBefore: new Date(Date.now() + 3_600_000), notAfter: new Date(Date.now() + 86_400_000) });
    await expectIotError(
      iotClient(server).send(new RegisterCertificateCommand({ certificatePem: leaf.certPem, caCertificatePem: ca.certPem, status: 'ACTIVE' })),
      'CertificateValidationException',
      400,
    );
  });
});
