import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRootCa } from '../../src/pki/index.js';
import type { CaHierarchyMember } from '../../src/pki/index.js';
import { createKeysAndCertificate, deleteCertificate, updateCaCertificate, updateCertificate } from '../../src/registry/index.js';
import type { Scope } from '../../src/kernel/index.js';
import type { AdmissionResult, UnknownCertificateInput } from '../../src/access/index.js';
import { SNI_ONLY_WITHOUT_SNI } from '../../src/access/index.js';
import {
  DOMAIN,
  REGION,
  deviceCertificate,
  newAccount,
  openFixture,
  peer,
  registeredCa,
  registeredDevice,
  sniOnlyDevice,
} from './access-fixture.js';
import type { DeviceCert, Fixture } from './access-fixture.js';

function refused(result: AdmissionResult): Extract<AdmissionResult, { admitted: false }> {
  assert.equal(result.admitted, false, `expected a refusal, got ${JSON.stringify(result)}`);
  return result as Extract<AdmissionResult, { admitted: false }>;
}
function admitted(result: AdmissionResult): Extract<AdmissionResult, { admitted: true }> {
  assert.equal(result.admitted, true, `expected admission, got ${JSON.stringify(result)}`);
  return result as Extract<AdmissionResult, { admitted: true }>;
}

describe('admission (data-plane.md "Authenticating the device")', () => {
  let f: Fixture;
  let alpha: { scope: Scope; endpoint: string; accountId: string };
  let beta: { scope: Scope; endpoint: string; accountId: string };
  let acme: { ca: CaHierarchyMember; caCertificateId: string };
  let device: DeviceCert;

  before(async () => {
    f = await openFixture();
    const a = await newAccount(f, 'alpha');
    const b = await newAccount(f, 'beta');
    alpha = { scope: a.scope, endpoint: a.endpoint, accountId: a.account.accountId };
    beta = { scope: b.scope, endpoint: b.endpoint, accountId: b.account.accountId };
    acme = await registeredCa(f, alpha.scope, 'Acme');
    device = (await registeredDevice(f, alpha.scope, acme.ca, 'CN=sensor-1, O=Acme Devices')).device;
  });
  after(() => f.close());

  it('NO_CERTIFICATE: a peer without a client certificate is refused', async () => {
    const r = refused(await f.access.admit(peer(undefined, alpha.endpoint)));
    assert.equal(r.refusal, 'NO_CERTIFICATE');
    assert.match(r.reason, /no certificate/);
    assert.equal(refused(await f.access.admit(peer(new Uint8Array(0), alpha.endpoint))).refusal, 'NO_CERTIFICATE');
  });

  it('MALFORMED_CERTIFICATE: bytes that are not X.509 are refused with their fingerprint, never thrown', async () => {
    const junk = new Uint8Array([0x30, 0x82, 0x01, 0x00, 1, 2, 3, 4, 5]);
    const r = refused(await f.access.admit(peer(junk, alpha.endpoint)));
    assert.equal(r.refusal, 'MALFORMED_CERTIFICATE');
    assert.match(r.certificateId ?? '', /^[0-9a-f]{64}$/);
    assert.match(r.reason, /cannot be parsed/);
    // Trailing bytes after a valid certificate change the fingerprint: refused as malformed too.
    const padded = new Uint8Array([...device.der, 0]);
    assert.equal(refused(await f.access.admit(peer(padded, alpha.endpoint))).refusal, 'MALFORMED_CERTIFICATE');
  });

  it('UNKNOWN_ENDPOINT: an SNI that is not a certgate endpoint, or names no account', async () => {
    const foreign = refused(await f.access.admit(peer(device.der, 'broker.example.com')));
    assert.equal(foreign.refusal, 'UNKNOWN_ENDPOINT');
    assert.match(foreign.reason, /"broker\.example\.com" is not a certgate data endpoint/);
    const noAccount = refused(await f.access.admit(peer(device.der, `zzzzzzzzzzzzzz-ats.iot.${REGION}.${DOMAIN}`)));
    assert.equal(noAccount.refusal, 'UNKNOWN_ENDPOINT');
    assert.match(noAccount.reason, /no account has the endpoint prefix zzzzzzzzzzzzzz/);
  });

  it('SNI routing: the endpoint selects the account; DEFAULT certificate without SNI, with localhost or an IP is placed by its registration', async () => {
    const bySni = admitted(await f.access.admit(peer(device.der, alpha.endpoint)));
    assert.deepEqual(bySni.principal.scope, alpha.scope);
    assert.equal(bySni.principal.certificateId, device.certificateId);
    assert.equal(bySni.principal.certificateArn, `arn:aws:iot:${REGION}:${alpha.accountId}:cert/${device.certificateId}`);
    assert.deepEqual(bySni.principal.certificateValues['iot:Certificate.Subject.CommonName'], ['sensor-1']);
    assert.deepEqual(bySni.principal.certificateValues['iot:Certificate.Issuer.Organization'], ['Acme']);
    // SNI is case-insensitive and may carry the root dot.
    assert.deepEqual(admitted(await f.access.admit(peer(device.der, `${alpha.endpoint.toUpperCase()}.`))).principal.scope, alpha.scope);
    for (const serverName of [undefined, 'localhost', '127.0.0.1', '::1']) {
      const r = admitted(await f.access.admit(peer(device.der, serverName)));
      assert.deepEqual(r.principal.scope, alpha.scope, `SNI ${String(serverName)}`);
    }
  });

  it('UNKNOWN_CERTIFICATE: a certificate of account alpha presented at beta\'s endpoint, or registered nowhere', async () => {
    const wrongAccount = refused(await f.access.admit(peer(device.der, beta.endpoint)));
    assert.equal(wrongAccount.refusal, 'UNKNOWN_CERTIFICATE');
    assert.equal(wrongAccount.accountId, beta.accountId);
    assert.equal(wrongAccount.region, REGION);
    assert.ok(wrongAccount.reason.includes(`certificate ${device.certificateId} is not registered in account ${beta.accountId} (${REGION})`));
    const stranger = await deviceCertificate(f, acme.ca, 'CN=stranger');
    const noSni = refused(await f.access.admit(peer(stranger.der, undefined)));
    assert.equal(noSni.refusal, 'UNKNOWN_CERTIFICATE');
    assert.equal(noSni.certificateId, stranger.certificateId);
    assert.match(noSni.reason, /not registered in any account in us-east-1/);
  });

  it('SNI_ONLY (multi-account) certificate: SNI picks the account; without SNI it is refused with SNI_REQUIRED', async () => {
    const shared = await sniOnlyDevice(f, [alpha.scope, beta.scope], acme.ca, 'CN=shared');
    assert.deepEqual(admitted(await f.access.admit(peer(shared.der, alpha.endpoint))).principal.scope, alpha.scope);
    assert.deepEqual(admitted(await f.access.admit(peer(shared.der, beta.endpoint))).principal.scope, beta.scope);
    const r = refused(await f.access.admit(peer(shared.der, undefined)));
    assert.equal(r.refusal, 'SNI_REQUIRED');
    assert.ok(r.reason.startsWith(SNI_ONLY_WITHOUT_SNI), r.reason);
    assert.equal(r.certificateId, shared.certificateId);
    // Registered SNI_ONLY in a single account: still needs SNI.
    const single = await sniOnlyDevice(f, [beta.scope], acme.ca, 'CN=single');
    const s = refused(await f.access.admit(peer(single.der, 'localhost')));
    assert.equal(s.refusal, 'SNI_REQUIRED');
    assert.equal(s.accountId, beta.accountId);
  });

  it('CERTIFICATE_NOT_ACTIVE names the status, and UpdateCertificate invalidates the cached lookup at once', async () => {
    const { device: d } = await registeredDevice(f, alpha.scope, acme.ca, 'CN=to-deactivate');
    admitted(await f.access.admit(peer(d.der, alpha.endpoint))); // cached ACTIVE
    admitted(await f.access.admit(peer(d.der, undefined))); // cached in the region lookup too
    await updateCertificate(f.deps, alpha.scope, { certificateId: d.certificateId, newStatus: 'INACTIVE' });
    const r = refused(await f.access.admit(peer(d.der, alpha.endpoint)));
    assert.equal(r.refusal, 'CERTIFICATE_NOT_ACTIVE');
    assert.equal(r.reason, `certificate ${d.certificateId} is INACTIVE in account ${alpha.accountId} (${REGION}); only ACTIVE certificates may connect`);
    assert.equal(refused(await f.access.admit(peer(d.der, undefined))).refusal, 'CERTIFICATE_NOT_ACTIVE');
    await updateCertificate(f.deps, alpha.scope, { certificateId: d.certificateId, newStatus: 'REVOKED' });
    assert.match(refused(await f.access.admit(peer(d.der, alpha.endpoint))).reason, /is REVOKED in account/);
  });

  it('DeleteCertificate invalidates the cache: the next admission finds nothing', async () => {
    const { device: d } = await registeredDevice(f, alpha.scope, acme.ca, 'CN=to-delete');
    admitted(await f.access.admit(peer(d.der, alpha.endpoint)));
    await updateCertificate(f.deps, alpha.scope, { certificateId: d.certificateId, newStatus: 'INACTIVE' });
    assert.equal(refused(await f.access.admit(peer(d.der, alpha.endpoint))).refusal, 'CERTIFICATE_NOT_ACTIVE'); // INACTIVE cached
    await deleteCertificate(f.deps, alpha.scope, { certificateId: d.certificateId });
    assert.equal(refused(await f.access.admit(peer(d.der, alpha.endpoint))).refusal, 'UNKNOWN_CERTIFICATE');
  });

  it('lookups are cached: a store change without an event is seen only after the event (or the TTL)', async () => {
    const { device: d, record } = await registeredDevice(f, alpha.scope, acme.ca, 'CN=cached');
    admitted(await f.access.admit(peer(d.der, alpha.endpoint)));
    await f.deps.store.updateCertificate({ ...record, status: 'INACTIVE' }); // behind the registry's back
    admitted(await f.access.admit(peer(d.der, alpha.endpoint)));
    await f.access.onRegistryEvent({ type: 'certificate-status-changed', scope: alpha.scope, certificateId: d.certificateId, status: 'INACTIVE' });
    assert.equal(refused(await f.access.admit(peer(d.der, alpha.endpoint))).refusal, 'CERTIFICATE_NOT_ACTIVE');

    await f.deps.store.updateCertificate({ ...record, status: 'ACTIVE' });
    assert.equal(refused(await f.access.admit(peer(d.der, alpha.endpoint))).refusal, 'CERTIFICATE_NOT_ACTIVE'); // cached
    f.clock.advance(31_000); // past the default 30 s TTL
    admitted(await f.access.admit(peer(d.der, alpha.endpoint)));
  });

  it('CERTIFICATE_EXPIRED and CERTIFICATE_NOT_YET_VALID follow the clock', async () => {
    const start = f.clock.ms;
    try {
      const shortLived = await deviceCertificate(f, acme.ca, 'CN=short', { notAfter: new Date(start + 3_600_000) });
      await import('../../src/registry/index.js').then(({ registerCertificate }) =>
        registerCertificate(f.deps, alpha.scope, { certificatePem: shortLived.pem, setAsActive: true }),
      );
      admitted(await f.access.admit(peer(shortLived.der, alpha.endpoint)));
      f.clock.advance(2 * 3_600_000);
      const expired = refused(await f.access.admit(peer(shortLived.der, alpha.endpoint)));
      assert.equal(expired.refusal, 'CERTIFICATE_EXPIRED');
      assert.match(expired.reason, new RegExp(`certificate ${shortLived.certificateId} in account ${alpha.accountId} \\(us-east-1\\) expired at`));

      // Registered while valid (clock ahead), presented before its notBefore.
      const future = await deviceCertificate(f, acme.ca, 'CN=future', { notBefore: new Date(f.clock.ms + 86_400_000) });
      f.clock.advance(2 * 86_400_000);
      const { registerCertificate } = await import('../../src/registry/index.js');
      await registerCertificate(f.deps, alpha.scope, { certificatePem: future.pem, setAsActive: true });
      f.clock.ms = start;
      const early = refused(await f.access.admit(peer(future.der, alpha.endpoint)));
      assert.equal(early.refusal, 'CERTIFICATE_NOT_YET_VALID');
      assert.match(early.reason, /is not valid before/);
    } finally {
      f.clock.ms = start;
    }
  });

  it('CA_NOT_ACTIVE only in strict CA mode; by default an INACTIVE CA does not block registered devices (AWS behaviour)', async () => {
    const gamma = await newAccount(f, 'gamma');
    const globex = await registeredCa(f, gamma.scope, 'Globex');
    const { device: d } = await registeredDevice(f, gamma.scope, globex.ca, 'CN=g1');
    admitted(await f.access.admit(peer(d.der, gamma.endpoint)));
    await updateCaCertificate(f.deps, gamma.scope, { certificateId: globex.caCertificateId, newStatus: 'INACTIVE' });
    admitted(await f.access.admit(peer(d.der, gamma.endpoint))); // default mode: still admitted

    await updateCaCertificate(f.deps, gamma.scope, { certificateId: globex.caCertificateId, newStatus: 'ACTIVE' });
    await f.deps.store.updateAccount({ ...gamma.account, strictCaMode: true });
    f.access.clearCaches(); // account settings announce no event
    admitted(await f.access.admit(peer(d.der, gamma.endpoint))); // CA ACTIVE: admitted, CA status cached
    await updateCaCertificate(f.deps, gamma.scope, { certificateId: globex.caCertificateId, newStatus: 'INACTIVE' });
    const r = refused(await f.access.admit(peer(d.der, gamma.endpoint)));
    assert.equal(r.refusal, 'CA_NOT_ACTIVE');
    assert.equal(r.accountId, gamma.account.accountId);
    assert.ok(r.reason.includes(`under CA ${globex.caCertificateId}, which is INACTIVE; the account is in strict CA mode`), r.reason);
    assert.equal(refused(await f.access.admit(peer(d.der, undefined))).refusal, 'CA_NOT_ACTIVE');
  });

  it('certgate-issued certificates (CreateKeysAndCertificate, no CA) connect without SNI', async () => {
    const { parseCertificatePem } = await import('../../src/pki/index.js');
    const created = await createKeysAndCertificate(f.deps, beta.scope, { setAsActive: true });
    const der = parseCertificatePem(created.certificate.certificatePem).der;
    assert.deepEqual(admitted(await f.access.admit(peer(der, undefined))).principal.scope, beta.scope);
  });
});

describe('admission options', () => {
  it('--require-sni: SNI_REQUIRED for no SNI, localhost or an IP, even for a DEFAULT certificate', async () => {
    const f = await openFixture({ requireSni: true });
    try {
      const a = await newAccount(f, 'alpha');
      const ca = await registeredCa(f, a.scope, 'Acme');
      const { device } = await registeredDevice(f, a.scope, ca.ca, 'CN=d');
      for (const serverName of [undefined, 'localhost', '10.0.0.1']) {
        const r = refused(await f.access.admit(peer(device.der, serverName)));
        assert.equal(r.refusal, 'SNI_REQUIRED');
        assert.match(r.reason, /requires the account's data endpoint as SNI/);
      }
      admitted(await f.access.admit(peer(device.der, a.endpoint)));
    } finally {
      await f.close();
    }
  });

  it('the JITR seam receives an unknown certificate with its chain and destination, and may decide', async () => {
    const calls: UnknownCertificateInput[] = [];
    const f = await openFixture({
      onUnknownCertificate: (input) => {
        calls.push(input);
        return Promise.resolve(
          input.scope === undefined ? undefined : { admitted: false, refusal: 'UNKNOWN_CERTIFICATE', reason: 'JITR: registered PENDING_ACTIVATION' },
        );
      },
    });
    try {
      const a = await newAccount(f, 'alpha');
      const ca = await createRootCa({ keyType: 'EC', commonName: 'Unregistered CA', organization: 'X', now: f.clock.now(), years: 1 });
      const d = await deviceCertificate(f, ca, 'CN=new-device');
      const chain = [new Uint8Array([1, 2, 3])];
      const r = refused(await f.access.admit(peer(d.der, a.endpoint, { chainDer: chain })));
      assert.equal(r.reason, 'JITR: registered PENDING_ACTIVATION');
      assert.equal(calls.length, 1);
      assert.equal(calls[0]?.certificate.certificateId, d.certificateId);
      assert.deepEqual(calls[0]?.scope, a.scope);
      assert.equal(calls[0]?.chainDer, chain);
      const fallback = refused(await f.access.admit(peer(d.der, undefined)));
      assert.equal(fallback.refusal, 'UNKNOWN_CERTIFICATE');
      assert.equal(calls[1]?.scope, undefined);
      assert.equal(calls[1]?.region, REGION);
    } finally {
      await f.close();
    }
  });

  it('a failing JITR hook refuses the device as UNKNOWN_CERTIFICATE instead of rejecting admit()', async () => {
    const f = await openFixture({ onUnknownCertificate: () => Promise.reject(new Error('provisioning store down')) });
    try {
      const a = await newAccount(f, 'alpha');
      const ca = await createRootCa({ keyType: 'EC', commonName: 'Unregistered CA', organization: 'X', now: f.clock.now(), years: 1 });
      const d = await deviceCertificate(f, ca, 'CN=new-device');
      const r = refused(await f.access.admit(peer(d.der, a.endpoint)));
      assert.equal(r.refusal, 'UNKNOWN_CERTIFICATE');
      assert.match(r.reason, /just-in-time registration failed/);
    } finally {
      await f.close();
    }
  });
});
