import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCertificatePem } from '../../pki/index.js';
import { craftCertificatePem, testKeys } from '../../pki/test-certificates.js';
import type { CaCertificate, Certificate, RegistryStore } from '../../registry/index.js';
import { certificateParameters } from './certificate-parameters.js';
import { EventCoalescer } from './event-coalescer.js';
import { findAutoRegistrationCa } from './find-auto-registration-ca.js';
import { createJustInTimeRegistration } from './just-in-time-registration.js';
import { silentLogger } from '../../kernel/index.js';
import { registeredEvent, registeredEventTopic } from './registered-event.js';

const REGION = 'us-east-1';

function caRow(pem: string, accountId: string, mode: CaCertificate['certificateMode'] = 'DEFAULT'): CaCertificate {
  const p = parseCertificatePem(pem);
  const at = new Date(0);
  return {
    scope: { accountId, region: REGION },
    certificateId: p.certificateId,
    certificatePem: p.pem,
    status: 'ACTIVE',
    autoRegistrationStatus: 'ENABLE',
    certificateMode: mode,
    registrationConfig: null,
    ownedBy: accountId,
    subject: p.subject,
    subjectKeyId: p.subjectKeyId,
    creationDate: at,
    lastModifiedDate: at,
    customerVersion: 1,
    generationId: 'g',
    notBefore: p.notBefore,
    notAfter: p.notAfter,
  };
}

/** The four CA reads the finder makes, over an array (a port stub for a pure unit test). */
function caStore(rows: CaCertificate[]): RegistryStore {
  const store: Partial<RegistryStore> = {
    getCaCertificate: (scope, id) => Promise.resolve(rows.find((r) => r.scope.accountId === scope.accountId && r.certificateId === id)),
    findCaCertificatesInRegion: (region, id) => Promise.resolve(rows.filter((r) => r.scope.region === region && r.certificateId === id)),
    findCaCertificatesBySubject: (scope, subject) => Promise.resolve(rows.filter((r) => r.scope.accountId === scope.accountId && r.subject === subject)),
    findCaCertificatesBySubjectInRegion: (region, subject) => Promise.resolve(rows.filter((r) => r.scope.region === region && r.subject === subject)),
  };
  return store as RegistryStore;
}

async function pkiFixture() {
  const caKeys = await testKeys('EC-P256');
  const caPem = await craftCertificatePem({ subject: 'CN=Factory CA,O=Acme', keys: caKeys, ca: true });
  const forgerKeys = await testKeys('EC-P256');
  const deviceKeys = await testKeys('EC-P256');
  const devicePem = await craftCertificatePem({
    subject: 'CN=sensor-1,O=Acme,OU=Line 2,C=DE,ST=Bavaria,2.5.4.5=SN-77',
    keys: deviceKeys,
    issuer: { keys: caKeys, subject: 'CN=Factory CA,O=Acme' },
  });
  const forgedPem = await craftCertificatePem({ subject: 'CN=sensor-2', keys: deviceKeys, issuer: { keys: forgerKeys, subject: 'CN=Factory CA,O=Acme' } });
  return { caPem, device: parseCertificatePem(devicePem), forged: parseCertificatePem(forgedPem), caDer: parseCertificatePem(caPem).der };
}

describe('JIT: EventCoalescer (one registered event per certificate per window)', () => {
  it('coalesces within the window, publishes again after it, keys are independent', () => {
    const c = new EventCoalescer(1000);
    assert.equal(c.claim('a', 0), true);
    assert.equal(c.claim('a', 999), false);
    assert.equal(c.claim('b', 999), true);
    assert.equal(c.claim('a', 1000), true);
    assert.equal(c.claim('a', 1500), false);
  });
  it('stays bounded', () => {
    const c = new EventCoalescer(10, 3);
    for (let i = 0; i < 100; i++) c.claim(`k${i}`, i * 100);
    assert.equal(c.claim('k99', 9_905), false, 'the newest entry survives pruning');
  });
});

describe('JIT: registered event', () => {
  it("has AWS's fields on $aws/events/certificates/registered/<caId>", () => {
    const created = new Date(1_700_000_000_000);
    const cert = { scope: { accountId: '123456789012', region: REGION }, certificateId: 'c'.repeat(64), caCertificateId: 'a'.repeat(64), creationDate: created } as Certificate & { caCertificateId: string };
    const m = registeredEvent(cert, new Date(1_700_000_000_500));
    assert.equal(m.topic, registeredEventTopic('a'.repeat(64)));
    assert.deepEqual(JSON.parse(m.payload), {
      certificateId: 'c'.repeat(64),
      caCertificateId: 'a'.repeat(64),
      timestamp: 1_700_000_000_500,
      certificateStatus: 'PENDING_ACTIVATION',
      awsAccountId: '123456789012',
      certificateRegistrationTimestamp: '1700000000000',
    });
  });
});

describe('JIT: certificate parameters (JITP)', () => {
  it('exactly the seven subject parameters present, plus the certificate id', async () => {
    const { device } = await pkiFixture();
    assert.deepEqual(certificateParameters(device, 'id-1'), {
      'AWS::IoT::Certificate::CommonName': 'sensor-1',
      'AWS::IoT::Certificate::Organization': 'Acme',
      'AWS::IoT::Certificate::OrganizationalUnit': 'Line 2',
      'AWS::IoT::Certificate::Country': 'DE',
      'AWS::IoT::Certificate::StateName': 'Bavaria',
      'AWS::IoT::Certificate::SerialNumber': 'SN-77',
      'AWS::IoT::Certificate::Id': 'id-1',
    });
  });
});

describe('JIT: findAutoRegistrationCa', () => {
  it('finds the CA from the chain the device sent, and by issuer + key id without it', async () => {
    const { caPem, device, caDer } = await pkiFixture();
    const store = caStore([caRow(caPem, '111111111111')]);
    const scope = { accountId: '111111111111', region: REGION };
    const byChain = await findAutoRegistrationCa(store, { device, chainDer: [caDer], scope, region: REGION });
    assert.equal(byChain.ok && byChain.foundBy, 'chain');
    const byIssuer = await findAutoRegistrationCa(store, { device, chainDer: [], scope: undefined, region: REGION });
    assert.equal(byIssuer.ok && byIssuer.foundBy, 'issuer');
  });

  it('refuses a forged certificate (same issuer name, another key)', async () => {
    const { caPem, forged, caDer } = await pkiFixture();
    const r = await findAutoRegistrationCa(caStore([caRow(caPem, '111111111111')]), { device: forged, chainDer: [caDer], scope: undefined, region: REGION });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /verifies the certificate's signature/);
  });

  it('refuses an unregistered CA with the hint, and another account’s CA under SNI', async () => {
    const { caPem, device } = await pkiFixture();
    const none = await findAutoRegistrationCa(caStore([]), { device, chainDer: [], scope: undefined, region: REGION });
    assert.match(none.ok ? '' : none.reason, /not registered in any account in us-east-1; send the CA certificate in the TLS chain or use the account endpoint as SNI/);
    const other = await findAutoRegistrationCa(caStore([caRow(caPem, '222222222222')]), { device, chainDer: [], scope: { accountId: '111111111111', region: REGION }, region: REGION });
    assert.equal(other.ok, false);
  });

  it('without SNI: an SNI_ONLY CA, or one registered in several accounts, cannot be placed', async () => {
    const { caPem, device } = await pkiFixture();
    const sniOnly = await findAutoRegistrationCa(caStore([caRow(caPem, '111111111111', 'SNI_ONLY')]), { device, chainDer: [], scope: undefined, region: REGION });
    assert.match(sniOnly.ok ? '' : sniOnly.reason, /SNI_ONLY/);
    const two = await findAutoRegistrationCa(caStore([caRow(caPem, '111111111111', 'SNI_ONLY'), caRow(caPem, '222222222222', 'SNI_ONLY')]), {
      device,
      chainDer: [],
      scope: undefined,
      region: REGION,
    });
    assert.match(two.ok ? '' : two.reason, /registered in 2 accounts/);
    const withSni = await findAutoRegistrationCa(caStore([caRow(caPem, '111111111111', 'SNI_ONLY'), caRow(caPem, '222222222222', 'SNI_ONLY')]), {
      device,
      chainDer: [],
      scope: { accountId: '222222222222', region: REGION },
      region: REGION,
    });
    assert.equal(withSni.ok && withSni.ca.scope.accountId, '222222222222');
  });
});

/** A registry stub with certificates too, enough for the JIT follow-up (transaction = the store itself). */
function jitStore(rows: CaCertificate[]): RegistryStore & { certificates: Certificate[] } {
  const certificates: Certificate[] = [];
  const store = caStore(rows) as RegistryStore & { certificates: Certificate[] };
  Object.assign(store, {
    certificates,
    getCertificate: (scope: { accountId: string }, id: string) => Promise.resolve(certificates.find((c) => c.scope.accountId === scope.accountId && c.certificateId === id)),
    findCertificatesInRegion: (region: string, id: string) => Promise.resolve(certificates.filter((c) => c.scope.region === region && c.certificateId === id)),
    insertCertificate: (c: Certificate) => {
      certificates.push(c);
      return Promise.resolve();
    },
    transaction: <T>(fn: (tx: RegistryStore) => Promise<T>) => fn(store),
  });
  return store;
}

describe('JIT review fixes', () => {
  it('among duplicate CAs (same subject and key) an ACTIVE, auto-registering one is chosen', async () => {
    const caKeys = await testKeys('EC-P256');
    const subject = 'CN=Twin CA,O=Acme';
    const stale = await craftCertificatePem({ subject, keys: caKeys, ca: true, notBefore: new Date(Date.now() - 7_200_000) });
    const fresh = await craftCertificatePem({ subject, keys: caKeys, ca: true });
    const device = parseCertificatePem(await craftCertificatePem({ subject: 'CN=d', keys: await testKeys('EC-P256'), issuer: { keys: caKeys, subject } }));
    const staleRow: CaCertificate = { ...caRow(stale, '111111111111'), status: 'INACTIVE' };
    const r = await findAutoRegistrationCa(caStore([staleRow, caRow(fresh, '111111111111')]), {
      device,
      chainDer: [],
      scope: { accountId: '111111111111', region: REGION },
      region: REGION,
      now: new Date(),
    });
    assert.equal(r.ok && r.ca.certificateId, parseCertificatePem(fresh).certificateId);
  });

  it('an expired or not-yet-valid CA registers nothing: refused at admission with the reason, and re-checked at CONNECT', async () => {
    const caKeys = await testKeys('EC-P256');
    const subject = 'CN=Dated CA';
    const now = Date.now();
    const expiredCa = await craftCertificatePem({ subject, keys: caKeys, ca: true, notBefore: new Date(now - 86_400_000), notAfter: new Date(now - 3_600_000) });
    const device = parseCertificatePem(await craftCertificatePem({ subject: 'CN=d', keys: await testKeys('EC-P256'), issuer: { keys: caKeys, subject } }));
    const store = jitStore([caRow(expiredCa, '111111111111')]);
    const jit = createJustInTimeRegistration({ store, clock: { now: () => new Date() }, logger: silentLogger });
    const peer = { certificateDer: device.der, chainDer: [], serverName: undefined, remoteAddress: '127.0.0.1', remotePort: 1, listener: 'mqtt' };
    const refused = await jit.onUnknownCertificate({ certificate: device, chainDer: [], scope: undefined, region: REGION, peer });
    assert.ok(refused && !refused.admitted);
    assert.equal(refused.onConnect, undefined, 'no registration follow-up');
    assert.match(refused.reason, /expired at/);

    // In date at the handshake, expired by the time CONNECT arrives: the transaction re-checks.
    const ca2Keys = await testKeys('EC-P256');
    const shortCa = await craftCertificatePem({ subject: 'CN=Short CA', keys: ca2Keys, ca: true, notAfter: new Date(now + 60_000) });
    const device2 = parseCertificatePem(await craftCertificatePem({ subject: 'CN=d2', keys: await testKeys('EC-P256'), issuer: { keys: ca2Keys, subject: 'CN=Short CA' } }));
    let clock = new Date(now);
    const store2 = jitStore([caRow(shortCa, '111111111111')]);
    const jit2 = createJustInTimeRegistration({ store: store2, clock: { now: () => clock }, logger: silentLogger });
    const pending = await jit2.onUnknownCertificate({ certificate: device2, chainDer: [], scope: undefined, region: REGION, peer });
    assert.ok(pending && !pending.admitted && pending.onConnect);
    clock = new Date(now + 120_000);
    const outcome = await pending.onConnect();
    assert.deepEqual(outcome.messages, []);
    assert.equal(store2.certificates.length, 0);
    assert.ok(outcome.reasons.some((r) => r.includes('outside its validity period')), outcome.reasons.join('\n'));
  });

  it('concurrent CONNECTs: one registration, one event; the followers record the leader’s outcome', async () => {
    const { caPem, device, caDer } = await pkiFixture();
    const store = jitStore([caRow(caPem, '111111111111')]);
    const jit = createJustInTimeRegistration({ store, clock: { now: () => new Date() }, logger: silentLogger });
    const peer = { certificateDer: device.der, chainDer: [caDer], serverName: undefined, remoteAddress: '127.0.0.1', remotePort: 1, listener: 'mqtt' };
    const refusals = await Promise.all(
      Array.from({ length: 5 }, () => jit.onUnknownCertificate({ certificate: device, chainDer: [caDer], scope: undefined, region: REGION, peer })),
    );
    const outcomes = await Promise.all(refusals.map((r) => (r && !r.admitted && r.onConnect ? r.onConnect() : Promise.reject(new Error('no follow-up')))));
    assert.equal(store.certificates.length, 1);
    assert.equal(store.certificates[0]!.status, 'PENDING_ACTIVATION');
    assert.equal(outcomes.flatMap((o) => o.messages).length, 1);
    const followers = outcomes.filter((o) => o.messages.length === 0);
    assert.equal(followers.length, 4);
    for (const f of followers) assert.ok(f.reasons.some((r) => r.includes('registered PENDING_ACTIVATION under CA')), f.reasons.join('\n'));
  });
});
