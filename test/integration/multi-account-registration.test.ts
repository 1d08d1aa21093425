// Issue 10 #7: a registration without proof of possession (SNI_ONLY: RegisterCACertificate without a
// verification certificate, RegisterCertificateWithoutCA) never locks out the account that proves possession.
// AWS (developer guide, "Manage your CA certificates"): a CA can be registered in DEFAULT mode by only one
// account in a Region, and in SNI_ONLY mode by several. certgate applies the same rule to device certificates:
// DEFAULT stays unique per region, SNI_ONLY registrations elsewhere never block it, and the data plane without
// SNI places a certificate in its DEFAULT registration. Real server, two accounts, @aws-sdk/client-iot, mqtt.js.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { createAccount, primaryAccount } from '../helpers/accounts.js';
import type { TestAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY, createDevice, dataEndpointOf, endClient } from '../helpers/device.js';
import type { Device } from '../helpers/device.js';
import { expectIotError, iotClient } from '../helpers/iot-clients.js';
import { certificateIdOfPem, registerCa, unregisteredDevice } from '../helpers/jit.js';
import { TestPki } from '../helpers/openssl.js';
import { lastAdmissionRefusal } from '../helpers/why-records.js';

/** Bounded wait for a just-in-time registration to land (it runs when the CONNECT arrives). */
async function describeWhenRegistered(iot: IoTClient, certificateId: string): Promise<{ status?: string | undefined; certificateMode?: string | undefined }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const d = await iot.send(new DescribeCertificateCommand({ certificateId }));
      if (d.certificateDescription) return d.certificateDescription;
    } catch (e) {
      if ((e as { name?: string }).name !== 'ResourceNotFoundException') throw e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`certificate ${certificateId} was not registered just in time`);
}

describe('issue 10 #7: registration without proof cannot lock out the owner (real server, two accounts)', { timeout: 240_000 }, () => {
  let server: RunningCertgate;
  let pki: TestPki;
  let owner: TestAccount;
  let squatter: TestAccount;
  let third: TestAccount;
  let iotOwner: IoTClient;
  let iotSquatter: IoTClient;
  let iotThird: IoTClient;
  /** The owner's registered device: only its roots and endpoint are borrowed for other certificates. */
  let template: Device;

  before(async () => {
    server = await startCertgate();
    pki = await TestPki.create();
    owner = primaryAccount(server);
    squatter = await createAccount(server, 'sni-only-squatter');
    third = await createAccount(server, 'third-account');
    iotOwner = iotClient(owner);
    iotSquatter = iotClient(squatter);
    iotThird = iotClient(third);
    template = await createDevice(server, { account: owner, policyDocument: ALLOW_ALL_POLICY });
  });

  after(async () => {
    for (const c of [iotOwner, iotSquatter, iotThird]) c?.destroy();
    await server?.stop();
    await pki?.cleanup();
  });

  it("issue 10 #7: an SNI_ONLY CA registration in another account does not block the owner's DEFAULT registration (proof of possession)", async () => {
    const ca = await pki.makeCa({ cn: 'Owned CA 1' });
    const squatted = await iotSquatter.send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, certificateMode: 'SNI_ONLY', setAsActive: true }));
    const proven = await registerCa(iotOwner, pki, { ca, allowAutoRegistration: false });
    assert.equal(proven.caCertificateId, squatted.certificateId);
    const mine = await iotOwner.send(new DescribeCACertificateCommand({ certificateId: proven.caCertificateId }));
    assert.equal(mine.certificateDescription?.certificateMode, 'DEFAULT');
    assert.equal(mine.certificateDescription?.ownedBy, owner.accountId);
    const theirs = await iotSquatter.send(new DescribeCACertificateCommand({ certificateId: proven.caCertificateId }));
    assert.equal(theirs.certificateDescription?.certificateMode, 'SNI_ONLY');
  });

  it('issue 10 #7: DEFAULT stays unique per region; SNI_ONLY registrations of the same CA are still allowed beside it', async () => {
    const ca = await pki.makeCa({ cn: 'Owned CA 2' });
    const proven = await registerCa(iotOwner, pki, { ca, allowAutoRegistration: false });
    // A second proven (DEFAULT) registration in another account of the region: refused.
    const err = await expectIotError(
      registerCa(iotThird, pki, { ca, allowAutoRegistration: false }),
      'ResourceAlreadyExistsException',
      409,
    );
    assert.doesNotMatch(err.message ?? '', new RegExp(owner.accountId), 'the refusal does not name the other account');
    // Unproven (SNI_ONLY) ones are multi-account registrations: allowed after the DEFAULT one, as before it.
    const sniOnly = await iotThird.send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, certificateMode: 'SNI_ONLY', setAsActive: true }));
    assert.equal(sniOnly.certificateId, proven.caCertificateId);
  });

  it("issue 10 #7: a device certificate registered without CA (SNI_ONLY) in another account does not block RegisterCertificate under the owner's DEFAULT CA", async () => {
    const ca = await pki.makeCa({ cn: 'Owned CA 3' });
    const cert = await pki.makeDeviceCert(ca, { cn: 'owned-device-3' });
    // The squatter only has the certificate (it is public): RegisterCertificateWithoutCA needs no key.
    const squatted = await iotSquatter.send(new RegisterCertificateWithoutCACommand({ certificatePem: cert.certPem, status: 'ACTIVE' }));
    await registerCa(iotOwner, pki, { ca, allowAutoRegistration: false });
    const mine = await iotOwner.send(new RegisterCertificateCommand({ certificatePem: cert.certPem, caCertificatePem: ca.certPem, status: 'ACTIVE' }));
    assert.equal(mine.certificateId, squatted.certificateId);
    const d = await iotOwner.send(new DescribeCertificateCommand({ certificateId: mine.certificateId! }));
    assert.equal(d.certificateDescription?.certificateMode, 'DEFAULT');

    // The data plane: without SNI the DEFAULT registration (the owner's) is the one found, unambiguously;
    // with the squatter's endpoint as SNI, the squatter's own registration (and policies: none) apply.
    const policyName = `owner-${mine.certificateId!.slice(0, 8)}`;
    await iotOwner.send(new CreatePolicyCommand({ policyName, policyDocument: JSON.stringify(ALLOW_ALL_POLICY) }));
    await iotOwner.send(new AttachPolicyCommand({ policyName, target: mine.certificateArn! }));
    const device = unregisteredDevice(server, template, cert, ca);
    const noSni = await device.tryConnect({ servername: null, protocolVersion: 5 });
    assert.equal(noSni.outcome, 'connected', `without SNI the owner's DEFAULT registration admits the device: ${noSni.outcome === 'refused' ? String(noSni.reasonCode) : ''}`);
    if (noSni.outcome === 'connected') await endClient(noSni.client);
    const viaSquatter = await device.tryConnect({ servername: await dataEndpointOf(squatter), protocolVersion: 5 });
    assert.equal(viaSquatter.outcome, 'refused', "the squatter's registration has no policy: its endpoint does not reach the owner's policies");
  });

  it('issue 10 #7: a DEFAULT device certificate stays unique per region (a second account cannot register it DEFAULT)', async () => {
    const ca = await pki.makeCa({ cn: 'Owned CA 4' });
    const cert = await pki.makeDeviceCert(ca, { cn: 'owned-device-4' });
    await registerCa(iotOwner, pki, { ca, allowAutoRegistration: false });
    await iotOwner.send(new RegisterCertificateCommand({ certificatePem: cert.certPem, caCertificatePem: ca.certPem, status: 'ACTIVE' }));
    // The third account registers the same CA in SNI_ONLY mode: its device certificates are SNI_ONLY, allowed.
    await iotThird.send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, certificateMode: 'SNI_ONLY', setAsActive: true }));
    const inThird = await iotThird.send(new RegisterCertificateCommand({ certificatePem: cert.certPem, caCertificatePem: ca.certPem, status: 'ACTIVE' }));
    const d = await iotThird.send(new DescribeCertificateCommand({ certificateId: inThird.certificateId! }));
    assert.equal(d.certificateDescription?.certificateMode, 'SNI_ONLY');
  });

  it("issue 10 #7: JITR under the owner's DEFAULT CA is not stopped by SNI_ONLY registrations of the certificate and of its CA elsewhere (with and without SNI)", async () => {
    const ca = await pki.makeCa({ cn: 'Owned JITR CA' });
    // The squatter registers the CA first, without proof (SNI_ONLY), auto-registering too.
    await iotSquatter.send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, certificateMode: 'SNI_ONLY', setAsActive: true, allowAutoRegistration: true }));
    await registerCa(iotOwner, pki, { ca, allowAutoRegistration: true });
    for (const withSni of [true, false]) {
      const cert = await pki.makeDeviceCert(ca, { cn: `jitr-device-${String(withSni)}` });
      const certificateId = certificateIdOfPem(cert.certPem);
      await iotSquatter.send(new RegisterCertificateWithoutCACommand({ certificatePem: cert.certPem, status: 'ACTIVE' }));
      const device = unregisteredDevice(server, template, cert, ca);
      const first = await device.tryConnect({ withChain: true, protocolVersion: 5, ...(withSni ? {} : { servername: null }) });
      assert.equal(first.outcome, 'refused', 'JITR registers PENDING_ACTIVATION and closes the first connection');
      const registered = await describeWhenRegistered(iotOwner, certificateId);
      assert.equal(registered.status, 'PENDING_ACTIVATION', `JITR (${withSni ? 'SNI' : 'no SNI'})`);
      assert.equal(registered.certificateMode, 'DEFAULT');
      // The operator activates it; the device connects (without SNI: its DEFAULT registration places it).
      await iotOwner.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' }));
      const policyName = `jitr-${certificateId.slice(0, 8)}`;
      await iotOwner.send(new CreatePolicyCommand({ policyName, policyDocument: JSON.stringify(ALLOW_ALL_POLICY) }));
      const arn = (await iotOwner.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription?.certificateArn;
      await iotOwner.send(new AttachPolicyCommand({ policyName, target: arn! }));
      const next = await device.tryConnect({ withChain: true, ...(withSni ? {} : { servername: null }) });
      assert.equal(next.outcome, 'connected', `after activation (${withSni ? 'SNI' : 'no SNI'})`);
      if (next.outcome === 'connected') await endClient(next.client);
    }
  });

  it('issue 10 #7: without SNI, a certificate registered only SNI_ONLY is still refused with SNI_REQUIRED, and `certgate why` says so', async () => {
    const ca = await pki.makeCa({ cn: 'Unregistered CA' });
    const cert = await pki.makeDeviceCert(ca, { cn: 'sni-only-device' });
    const out = await iotSquatter.send(new RegisterCertificateWithoutCACommand({ certificatePem: cert.certPem, status: 'ACTIVE' }));
    const device = unregisteredDevice(server, template, cert, undefined);
    const r = await device.tryConnect({ servername: null, protocolVersion: 5 });
    assert.equal(r.outcome, 'refused');
    const refusal = await lastAdmissionRefusal(server, out.certificateId!, squatter);
    assert.ok(refusal.reasons.some((x) => /SNI/.test(x)), refusal.reasons.join('; '));
  });
});
